"""Language identification: py3langid first, langdetect only where it is unsure.

py3langid scores all its 97 languages in about 0.1 ms a ticket; the languages a
helpdesk expects get a prior factor, so that a short German line is read as German
rather than Luxembourgish, while a Russian or Arabic ticket is still named as such.
Where py3langid's confidence stays below ``second_opinion_below`` (short or mixed
texts) langdetect's distribution is averaged in: it is
the better judge there but costs 3-20 ms in its own Python loop on those texts,
3-7 ms in the numpy form the registry loads (``engine/models/fast_langdetect.py``,
same answers). A channel locale adds a prior too.
Croatian, Bosnian and Serbian cannot be told apart reliably on short texts: when
they compete we report the winner and flag it uncertain. langdetect is not asked
about that doubt: it knows Croatian only, so it could just pull every such ticket
towards Croatian, at 5-13 ms each. eval/language.py measures the trade-offs
on public data.
"""

from __future__ import annotations

import re
from collections import defaultdict

from langdetect.lang_detect_exception import LangDetectException

from engine.models.registry import ModelRegistry
from engine.settings import Settings
from engine.types import LanguageResult

CLOSE_GROUPS = ({"hr", "bs", "sr"}, {"da", "no", "nb", "nn", "sv"}, {"cs", "sk"}, {"es", "pt", "gl"})
# Close groups where langdetect has a profile for one member only.
SECOND_OPINION_BLIND = ({"hr", "bs", "sr"},)
LOCALE_PRIOR = 0.15
UNCERTAIN_BELOW = 0.6
# A Chinese, Japanese or Korean character says about as much as three letters of a European language.
IDEOGRAPH_WEIGHT = 3
_IDEOGRAPHS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
SHORT_TEXT_LETTERS = 80
SHORT_TEXT_LANGID_WEIGHT = 0.6
CANDIDATES = 10  # past its top ten, py3langid's normalised probabilities are negligible
# langdetect knows some variants under regional codes; fold them onto ISO 639-1.
_ALIASES = {"zh-cn": "zh", "zh-tw": "zh", "no": "nb"}


class LanguageDetector:
    def __init__(
        self,
        registry: ModelRegistry,
        min_chars: int,
        expected: list[str],
        prior: float = 50.0,
        second_opinion_below: float = 0.9,
    ) -> None:
        self._registry = registry
        self._min_chars = min_chars
        self._expected = set(expected)
        self._prior = prior
        self._second_opinion_below = second_opinion_below

    @classmethod
    def from_settings(cls, registry: ModelRegistry, settings: Settings) -> LanguageDetector:
        """The detector as the settings configure it, for the pipeline and anything that measures it."""
        return cls(
            registry,
            settings.min_language_chars,
            settings.languages,
            settings.language_prior,
            settings.language_second_opinion_below,
        )

    def warm_up(self) -> None:
        self._registry.langdetect("warm up")
        self._registry.langid.rank("warm up")

    def run(self, texts: list[str], locales: list[str | None]) -> list[LanguageResult]:
        return [self.detect(t, loc) for t, loc in zip(texts, locales, strict=True)]

    def _weighted(self, guesses: list[tuple[str, float]]) -> dict[str, float]:
        """A distribution with the expected languages' prior applied, renormalised."""
        scores = {code: p * (self._prior if code in self._expected else 1.0) for code, p in guesses}
        total = sum(scores.values())
        return {code: s / total for code, s in scores.items()} if total > 0 else {}

    def _langdetect(self, text: str) -> dict[str, float]:
        try:
            guesses = self._registry.langdetect(text)
        except LangDetectException:  # no letters it knows
            return {}
        return self._weighted([(_ALIASES.get(g.lang, g.lang), g.prob) for g in guesses])

    def _needs_second_opinion(self, first: dict[str, float]) -> bool:
        """Whether py3langid is unsure between languages langdetect can tell apart."""
        if not first:
            return True
        sure = max(first.values())
        for group in SECOND_OPINION_BLIND:
            sure = max(sure, sum(p for code, p in first.items() if code in group))
        return sure < self._second_opinion_below

    def detect(self, text: str, locale: str | None = None) -> LanguageResult:
        letters = re.sub(r"[\W\d_]+", "", text)
        if len(letters) + (IDEOGRAPH_WEIGHT - 1) * len(_IDEOGRAPHS.findall(letters)) < self._min_chars:
            return LanguageResult(code="und", confidence=0.0, uncertain=True)
        first = self._weighted([(code, float(p)) for code, p in self._registry.langid.rank(text)[:CANDIDATES]])
        scores: dict[str, float] = defaultdict(float, first)
        if self._needs_second_opinion(first):
            second = self._langdetect(text)
            if second:
                # py3langid is the better judge of short texts, langdetect of long ones.
                weight = SHORT_TEXT_LANGID_WEIGHT if len(letters) < SHORT_TEXT_LETTERS else 0.5
                scores = defaultdict(float)
                for dist, w in ((first, weight), (second, 1.0 - weight)):
                    for code, p in dist.items():
                        scores[code] += w * p
        if locale:
            prior = locale.replace("_", "-").split("-")[0].lower()
            scores[prior] += LOCALE_PRIOR
        total = sum(scores.values())
        if total <= 0:
            return LanguageResult(code="und", confidence=0.0, uncertain=True)
        ranked = sorted(((code, s / total) for code, s in scores.items()), key=lambda x: -x[1])
        best, confidence = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        close_call = runner_up is not None and any(
            {best, runner_up[0]} <= group for group in CLOSE_GROUPS
        ) and runner_up[1] > 0.25
        return LanguageResult(
            code=best,
            confidence=round(confidence, 4),
            uncertain=confidence < UNCERTAIN_BELOW or close_call,
            alternatives=tuple((code, round(p, 4)) for code, p in ranked[1:4]),
        )
