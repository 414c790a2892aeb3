"""The answer-confidence model's artefact: loaded, checked and run as numpy arithmetic.

The artefact is a ``head.joblib`` (a scikit-learn ``LogisticRegression`` over the raw features of
``engine/retrieve/confidence.py``, with the held-out Platt scaling folded into its weights) beside a
``meta.json`` (features, encoder id, data, metrics), fitted by ``eval/train_answer_confidence.py``.
Requests use its weights as numpy arithmetic; the load checks that they give scikit-learn's probabilities.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from engine.errors import ModelError
from engine.models.encoders import vector_space
from engine.models.head_arithmetic import logits

FEATURES = ("similarity", "margin", "term_overlap", "same_language", "query_terms")
"""The signals the model reads, in column order (``HitSignals.vector`` writes them so)."""
MODEL_FILE = "head.joblib"
META_FILE = "meta.json"


class AnswerConfidence:
    """The shipped model in numpy form: the sigmoid of its decision values (``head_arithmetic.logits``)."""

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
