"""langdetect's detection with its sampling loop in numpy, for the request path.

langdetect estimates a text's language by sampling its n-grams at random, up to
1,001 times in each of 7 trials, and multiplying 55 language probabilities per
sample in a Python loop: 5-30 ms on a short, ambiguous ticket, which is the
only kind the language stage asks it about, and so the tail of the service's
latency. This detector is langdetect's own ``Detector`` (the same text
cleaning, n-gram extraction, profiles and seeded random generator) with one
method replaced: each trial's samples are drawn in bulk from the same Mersenne
Twister stream, their probability factors summed in log space, and the
convergence checks (every fifth sample, as langdetect does) evaluated at once.
The generator is then advanced by exactly the words langdetect would have
used, so the next trial, and so every answer, is the one langdetect gives.

That leans on how CPython draws ``Random.choice`` (one 32-bit word per
attempt, its top bits, rejection above the range). :func:`load` therefore
checks the fast form against langdetect itself on probe texts and falls back to
the library's path if they ever disagree: speed never changes an answer.
Texts over ``LIBRARY_LOOP_ABOVE`` characters keep langdetect's loop (over the
same matrix), which stops early on them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from langdetect.detector import Detector
from langdetect.detector_factory import DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException

log = logging.getLogger(__name__)

PARITY_TOLERANCE = 1e-9
NEGLIGIBLE = 60.0
# Longer texts keep langdetect's own loop: they mostly converge within a few dozen samples, where it stops
# early and this form, sized for the limit, does not (clear e-mail openings of 80-600 characters: 4.8-6.6 ms
# against 8.6-12.0). The short ambiguous tickets the language stage asks about run to the limit instead
# (22-45 characters, `bench.second_opinion`: 3.3-20.2 ms, mean 9.7, against 3.2-6.9, mean 4.8).
LIBRARY_LOOP_ABOVE = 60  # characters
COUNTED_UP_TO = 90  # distinct n-grams up to which _block_sums counts rather than gathers
PROBE_TEXTS = (
    "Hallo, meine Bestellung ist noch nicht angekommen.",
    "where is my order??",
    "Moja narudžba nije stigla, molim pomoć",
    "Je n'arrive pas à me connecter à mon compte",
    "no puedo pagar con tarjeta",
    "Das Passwort geht nicht mehr, help",
    "Заказ не пришёл, верните деньги",
    "ok thanks",
    "invoice 12345 wrong amount, bitte korrigieren",
    "我的订单还没有到",
)


class NumpyDetector(Detector):  # type: ignore[misc]
    """A langdetect ``Detector`` whose trials run as array arithmetic over the profiles as one matrix."""

    def __init__(self, profiles: Profiles) -> None:
        super().__init__(profiles)
        self._table = profiles.table

    def _detect_block(self) -> None:
        if len(self.text) > LIBRARY_LOOP_ABOVE:
            super()._detect_block()
            return
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        rows, sample_rows = np.unique([self.word_lang_prob_map[gram] for gram in ngrams], return_inverse=True)
        table = self._table[rows]
        n_langs = len(self.langlist)
        with np.errstate(divide="ignore"):
            start = np.log(self.prior_map) if self.prior_map is not None else np.full(n_langs, -np.log(n_langs))
        total = np.zeros(n_langs)
        self.random.seed(self.seed)
        for _ in range(self.n_trial):
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            total += self._trial(start, alpha / self.BASE_FREQ, table, sample_rows) / self.n_trial
        self.langprob = total.tolist()

    def _update_lang_prob(self, prob: list[float], word: str | None, alpha: float) -> bool:
        """langdetect's own update, for its loop on long texts, with the n-gram's probabilities from the matrix."""
        if word is None or word not in self.word_lang_prob_map:
            return False
        weight = alpha / self.BASE_FREQ
        for i, p in enumerate(self._table[self.word_lang_prob_map[word]].tolist()):
            prob[i] *= weight + p
        return True

    def _trial(self, start: np.ndarray, weight: float, table: np.ndarray, sample_rows: np.ndarray) -> np.ndarray:
        """One trial's normalised probabilities, leaving the generator where langdetect's loop leaves it.

        langdetect checks convergence after sample 0, 5, 10, ...: the log probability at each check is the
        start plus, per n-gram, how often it was drawn so far times its log factor (see `_block_sums`).
        The words for the limit are drawn at once: the short ambiguous texts the language stage asks about run
        to it, and drawing a few dozen first (a clear text converges within them) made those 40% slower.
        Only the n-grams drawn get their factors computed.
        """
        n = len(sample_rows)
        shift = np.uint32(32 - n.bit_length())
        chunk = 2 * (self.ITERATION_LIMIT + 1)  # at least half of the words are accepted
        log_prob = start
        done = 0  # samples taken so far in this trial
        while True:
            state = self.random.getstate()
            words = np.frombuffer(self.random.getrandbits(32 * chunk).to_bytes(4 * chunk, "little"), dtype="<u4")
            drawn = words >> shift
            accepted = np.flatnonzero(drawn < n)[: self.ITERATION_LIMIT + 1 - done]  # Random._randbelow rejects
            if not len(accepted):
                continue
            grams, picks = np.unique(sample_rows[drawn[accepted]], return_inverse=True)
            log_factors = np.log(weight + table[grams])
            index = np.arange(done, done + len(picks))
            block = (index + 4) // 5  # the check that follows each sample: sample 0 -> check 0, 1..5 -> 1, ...
            first = int(block[0])
            at_checks = log_prob + _block_sums(log_factors, picks, block - first)
            complete = at_checks[: (int(index[-1]) // 5) - first + 1]  # blocks whose check was reached
            top = _top_probability(complete)
            checks = 5 * (first + np.arange(len(complete)))
            stops = np.flatnonzero((top > self.CONV_THRESHOLD) | (checks >= self.ITERATION_LIMIT))
            if stops.size:
                stop = int(stops[0])
                self.random.setstate(state)
                self.random.getrandbits(32 * (int(accepted[checks[stop] - done]) + 1))
                final = complete[stop]
                prob = np.exp(final - final.max())
                return prob / prob.sum()
            log_prob = at_checks[-1]
            done += len(picks)


def _block_sums(log_factors: np.ndarray, picks: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Running sums of the picked rows' log factors, one row per block of samples (``block`` ascending from 0).

    Few distinct n-grams (a short ticket, the usual case): count each one per block and multiply the running
    counts by the factors. Many (a long e-mail): sum the picked rows per block directly. On 1,001 samples,
    30 n-grams take 0.12 ms the first way and 0.36 the second; 600 take 3.0 and 0.37.
    """
    grams = len(log_factors)
    if grams <= COUNTED_UP_TO:
        counts = np.bincount(block * grams + picks, minlength=(int(block[-1]) + 1) * grams)
        return np.cumsum(counts.reshape(-1, grams), axis=0, dtype=np.float64) @ log_factors
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    return np.cumsum(np.add.reduceat(log_factors[picks], starts, axis=0), axis=0)


def _top_probability(log_prob: np.ndarray) -> np.ndarray:
    """Per row, the largest normalised probability of unnormalised log probabilities.

    Only entries within ``NEGLIGIBLE`` of the row's maximum are exponentiated: the others add under 1e-26 to
    a sum of at least 1, and exponentials of very negative numbers (mostly denormal) are what made this slow.
    """
    gap = log_prob - log_prob.max(axis=1, keepdims=True)
    near = gap > -NEGLIGIBLE
    return 1.0 / np.bincount(np.nonzero(near)[0], weights=np.exp(gap[near]), minlength=len(log_prob))


@dataclass(frozen=True)
class Profiles:
    """What a langdetect ``Detector`` reads from its factory, with each n-gram's probabilities as a matrix row.

    The matrix (88k n-grams x 55 languages, float64: 37 MiB) replaces langdetect's lists of Python floats
    (78 MiB); ``word_lang_prob_map`` then maps an n-gram to its row.
    """

    word_lang_prob_map: dict[str, int]
    table: np.ndarray
    langlist: list[str]
    seed: int

    @classmethod
    def of(cls, factory: DetectorFactory) -> Profiles:
        grams = factory.word_lang_prob_map
        table = np.array(list(grams.values()), dtype=np.float64)
        return cls({gram: i for i, gram in enumerate(grams)}, table, factory.langlist, factory.seed)


@dataclass(frozen=True)
class DetectLangs:
    """langdetect's ``detect_langs`` over one set of profiles, with the detector class chosen at load."""

    profiles: Any
    detector: Callable[[Any], Detector]

    def __call__(self, text: str) -> list[Any]:
        instance = self.detector(self.profiles)
        instance.append(text)
        return instance.get_probabilities()  # type: ignore[no-any-return]


def _same(a: list[Any], b: list[Any]) -> bool:
    return [g.lang for g in a] == [g.lang for g in b] and all(
        abs(x.prob - y.prob) <= PARITY_TOLERANCE for x, y in zip(a, b, strict=True)
    )


def load(seed: int = 0) -> DetectLangs:
    """``detect_langs`` over langdetect's shipped profiles, seeded; the numpy form where it matches the library."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(seed)
    library = DetectLangs(factory, Detector)
    fast = DetectLangs(Profiles.of(factory), NumpyDetector)
    for text in PROBE_TEXTS:
        if not _same(fast(text), library(text)):
            log.warning("langdetect's numpy form disagrees with langdetect on %r; keeping its own loop", text)
            return library
    return fast
