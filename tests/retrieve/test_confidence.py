"""The shipped answer-confidence model: loads once, checks itself, and its probability moves the right way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from engine.errors import ModelError
from engine.models.answer_confidence import FEATURES, META_FILE, MODEL_FILE, AnswerConfidence
from engine.models.registry import ModelRegistry
from engine.retrieve.confidence import HitSignals, feature_matrix


def p(model: AnswerConfidence, **changes: float) -> float:
    base = {"similarity": 0.86, "margin": 0.02, "term_overlap": 0.5, "same_language": True, "query_terms": 5}
    return float(model.probability(feature_matrix([HitSignals(**{**base, **changes})]))[0])  # type: ignore[arg-type]


def test_registry_loads_the_shipped_model_once(registry: ModelRegistry) -> None:
    model = registry.answer_confidence
    assert model is registry.answer_confidence
    meta = model.meta
    assert meta["features"] == list(FEATURES)
    assert meta["provenance"]["fit_languages"] and "xquad" in meta["provenance"]["data"]
    assert 0.0 <= meta["metrics"]["test_top1_all"]["ece"] <= 0.05
    assert meta["metrics"]["test_top1_all"]["auroc"] > meta["metrics"]["test_top1_all"]["similarity_auroc"]


def test_probability_rises_with_similarity_margin_and_shared_terms(registry: ModelRegistry) -> None:
    model = registry.answer_confidence
    assert p(model, similarity=0.80) < p(model) < p(model, similarity=0.90)
    assert p(model, margin=-0.02) < p(model) < p(model, margin=0.06)
    assert p(model, term_overlap=0.0) < p(model) < p(model, term_overlap=1.0)
    # A near-tie with another article is no answer at a similarity a right answer often has; a clear lead is.
    assert p(model, similarity=0.88, margin=0.0, term_overlap=0.0) < 0.5 < p(model, similarity=0.88, margin=0.05, term_overlap=0.0)
    assert all(0.0 <= p(model, similarity=s) <= 1.0 for s in (-1.0, 0.0, 1.0))


def copy_model(tmp_path: Path, registry: ModelRegistry) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(registry.settings.answer_confidence_model_dir, folder)
    return folder


def test_a_model_fitted_on_another_encoders_similarities_is_refused(tmp_path: Path, registry: ModelRegistry) -> None:
    folder = copy_model(tmp_path, registry)
    with pytest.raises(ModelError, match="fitted on"):
        AnswerConfidence.load(folder, "some-other-encoder/onnx-int8")


def test_weights_that_disagree_with_scikit_learn_are_refused(registry: ModelRegistry) -> None:
    # A three-class model has a first row of weights too, but its probabilities are a softmax.
    rng = np.random.default_rng(0)
    other = LogisticRegression().fit(rng.normal(size=(60, len(FEATURES))), np.arange(60) % 3)
    with pytest.raises(ModelError, match="reproduce"):
        AnswerConfidence(other, registry.answer_confidence.meta)


def test_a_missing_or_mismatched_artefact_is_a_model_error(tmp_path: Path, registry: ModelRegistry) -> None:
    with pytest.raises(ModelError, match="no readable"):
        AnswerConfidence.load(tmp_path, registry.encoder.id)
    folder = copy_model(tmp_path, registry)
    meta = json.loads((folder / META_FILE).read_text())
    meta["features"] = ["similarity"]
    with pytest.raises(ModelError, match="expects features"):
        AnswerConfidence(joblib.load(folder / MODEL_FILE), meta)
