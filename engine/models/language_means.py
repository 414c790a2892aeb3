"""Language centring: each language's mean embedding subtracted before a head reads a ticket.

A multilingual encoder places a German request and its English translation near each other but not on top of
each other: every German text carries a shared German offset. A head trained on English tickets reads that offset
as content, so it transfers worse to German than to held-out English. Subtracting each language's mean (estimated
from that language's tickets, labelled or not) removes most of the offset: on xSID, a logistic regression trained
on English requests gains 4 to 11 points in every other language (eval/xsid_transfer.py). The means come from the
helpdesk's own tickets, so a language starts being centred once `sift train` has seen enough of its tickets;
until then it is centred on the mean of every training text, which is what an uncentred head would see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "language_means.npz"
FALLBACK = "*"
MIN_TEXTS = 30
"""Fewer texts than this give a mean that carries their topics more than their language."""


@dataclass(frozen=True)
class LanguageMeans:
    """Mean embedding per language code, and ``fallback`` (the mean of every text) for the others."""

    means: dict[str, np.ndarray]
    fallback: np.ndarray
    counts: dict[str, int]

    @classmethod
    def fit(cls, vectors: np.ndarray, languages: Sequence[str], min_texts: int = MIN_TEXTS) -> LanguageMeans:
        """Means of the languages with at least ``min_texts`` texts; ``und`` (undetermined) gets none."""
        rows: dict[str, list[int]] = defaultdict(list)
        for i, code in enumerate(languages):
            rows[code].append(i)
        counts = {code: len(ix) for code, ix in sorted(rows.items())}
        means = {
            code: vectors[ix].mean(axis=0).astype(np.float32)
            for code, ix in rows.items()
            if len(ix) >= min_texts and code != "und"
        }
        return cls(means, vectors.mean(axis=0).astype(np.float32), counts)

    def centre(self, vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
        """Each row minus its language's mean, back on the unit sphere the heads' cosines expect."""
        offsets = np.vstack([self.means.get(code, self.fallback) for code in languages])
        centred = np.asarray(vectors, dtype=np.float32) - offsets
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        return centred / np.maximum(norms, 1e-12)

    def save(self, folder: Path) -> None:
        arrays = {f"mean:{code}": vector for code, vector in self.means.items()}
        codes = sorted(self.counts)
        np.savez(
            folder / FILE, **arrays, fallback=self.fallback,
            count_codes=np.array(codes), count_values=np.array([self.counts[c] for c in codes], dtype=np.int64),
        )

    @classmethod
    def load(cls, folder: Path) -> LanguageMeans | None:
        """The means saved with a head; None for a head trained without centring."""
        path = folder / FILE
        if not path.is_file():
            return None
        with np.load(path) as data:
            means = {key.removeprefix("mean:"): data[key] for key in data.files if key.startswith("mean:")}
            counts = dict(zip(data["count_codes"].tolist(), data["count_values"].tolist(), strict=True))
            return cls(means, data["fallback"], counts)
