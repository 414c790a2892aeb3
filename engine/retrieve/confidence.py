"""Answer confidence: the calibrated probability that a retrieved section answers the query.

A raw cosine threshold means different things for different queries: a short
query scores lower against its right answer than a long one, a query in another
language than the article lower still, and a high score is no answer when the
runner-up scores just as high. A logistic model over a few signals the retriever
already has (no extra encoder pass) turns them into one probability, calibrated
on held-out data by ``eval/train_answer_confidence.py`` and shipped in
``engine/assets/answer-confidence-v1``.

The model itself loads in ``engine/models/answer_confidence.py``; here are the signals it reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.models.answer_confidence import FEATURES


@dataclass(frozen=True)
class HitSignals:
    """What the retriever knows about one hit without encoding anything more."""

    similarity: float
    """Dense score of the hit's best section: its cosine mixed with its best sentence window's (``window_weight``)."""
    margin: float
    """``similarity`` minus the best similarity of any other article family (negative below the top); across
    languages the same by rank score (``similarity`` plus the second view's weighted cosine where that view reads
    both languages). Across languages e5 alone may put a wrong article above the one the second view ranked first
    (an Italian question's right article read 0.06); within one language e5's margin tells answers apart better
    (XQuAD, eval/train_answer_confidence.py)."""
    term_overlap: float
    """Share of the query's distinct analysed terms found in the hit's section (0 across scripts)."""
    same_language: bool
    query_terms: int
    """Distinct analysed terms in the query: short queries score lower against right answers."""

    def vector(self) -> list[float]:
        return [
            self.similarity,
            self.margin,
            self.term_overlap,
            float(self.same_language),
            math.log1p(self.query_terms),
        ]


class ConfidenceModel(Protocol):
    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(answers) for each row of ``features`` (columns in ``FEATURES`` order)."""
        ...


def feature_matrix(signals: list[HitSignals]) -> np.ndarray:
    return np.asarray([s.vector() for s in signals], dtype=np.float64).reshape(len(signals), len(FEATURES))
