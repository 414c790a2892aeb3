"""Answer confidence: the calibrated probability that a retrieved section answers the query.

A raw cosine threshold means different things for different queries: a short
query scores lower against its right answer than a long one, a query in another
language than the article lower still, and a high score is no answer when the
runner-up scores just as high. A logistic model over a few signals the retriever
already has (no extra encoder pass) turns them into one probability, calibrated
on held-out data by ``eval/train_answer_confidence.py`` and shipped in
``engine/assets/answer-confidence-v1``.

The artefact is a ``head.joblib`` (a scikit-learn ``LogisticRegression`` over the
raw features, with the held-out Platt scaling folded into its weights) beside a
``meta.json`` (features, encoder id, data, metrics). Requests use its weights as
numpy arithmetic; the load checks that they give scikit-learn's probabilities.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from engine.errors import ModelError
from engine.models.encoders import vector_space
from engine.models.fast_heads import logits

FEATURES = ("similarity", "margin", "term_overlap", "same_language", "query_terms")
MODEL_FILE = "head.joblib"
META_FILE = "meta.json"


@dataclass(frozen=True)
class HitSignals:
    """What the retriever knows about one hit without encoding anything more."""

    similarity: float
    """Dense score of the hit's best section: its cosine mixed with its best sentence window's (``window_weight``)."""
    margin: float
    """``similarity`` minus the best similarity of any other article family (negative below the top)."""
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


class AnswerConfidence:
    """The shipped model in numpy form: the sigmoid of its decision values (``fast_heads.logits``)."""

    def __init__(self, model: LogisticRegression, meta: dict[str, Any]) -> None:
        if list(meta.get("features", [])) != list(FEATURES):
            raise ModelError(f"answer-confidence model expects features {meta.get('features')}, the code gives {FEATURES}")
        self.meta = meta
        self._decision = logits(model)
        probe = np.asarray(meta["probe"], dtype=np.float64)
        if not np.allclose(self.probability(probe), model.predict_proba(probe)[:, 1], atol=1e-9):
            raise ModelError("answer-confidence weights do not reproduce scikit-learn's probabilities")

    @classmethod
    def load(cls, folder: Path, encoder_id: str) -> AnswerConfidence:
        """Refused when fitted on another model's similarities: its scale would mean nothing."""
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            model = joblib.load(folder / MODEL_FILE)
        except (OSError, ValueError) as exc:
            raise ModelError(f"no readable answer-confidence model in {folder}: {exc}") from exc
        if vector_space(meta["encoder_id"]) != vector_space(encoder_id):
            raise ModelError(
                f"answer-confidence model in {folder} was fitted on {meta['encoder_id']!r} similarities; "
                f"the service runs {encoder_id!r}"
            )
        return cls(model, meta)

    def probability(self, features: np.ndarray) -> np.ndarray:
        return expit(self._decision(features)[:, 0])
