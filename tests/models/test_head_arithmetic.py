"""The numpy form of a head must give scikit-learn's answers, or not be used at all."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from engine.models.head_arithmetic import PARITY_TOLERANCE, compile_proba, probe_rows
from engine.models.heads import Head, scope_scores
from engine.settings import PACKAGE_DIR
from engine.training.fit import HEAD_KINDS, choose_scope_rule, fit_head


def _data(n_classes: int) -> tuple[np.ndarray, list[str]]:
    x, y = make_classification(300, 24, n_informative=10, n_classes=n_classes, random_state=n_classes)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), [f"c{v}" for v in y]


@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("kind", HEAD_KINDS)
def test_every_head_kind_is_compiled_and_agrees_with_scikit_learn(kind: str, n_classes: int) -> None:
    x, labels = _data(n_classes)
    head = fit_head("t", x, labels, labels, "multilingual-e5-small/test", kind=kind)
    assert head.compiled
    queries = probe_rows(x, x.shape[1], seed=7).astype(np.float32)
    expected = head._estimator.predict_proba(queries)
    np.testing.assert_allclose(head.predict_proba(queries), expected, atol=PARITY_TOLERANCE)
    # Exact training examples: kNN's zero distance takes scikit-learn's special case.
    np.testing.assert_allclose(head.predict_proba(x[:20]), head._estimator.predict_proba(x[:20]), atol=PARITY_TOLERANCE)


@pytest.mark.parametrize("kind", HEAD_KINDS)
def test_the_scope_rule_adds_the_logistic_regressions_largest_logit(kind: str) -> None:
    x, labels = _data(5)
    head = fit_head("t", x, labels, labels, "multilingual-e5-small/test", kind=kind)
    inner = head._estimator.estimator
    logreg = inner if kind == "logreg" else getattr(inner, "named_estimators_", {}).get("logreg")
    if logreg is None:  # the MLP alone has no logistic regression: the rule goes without the term
        assert head.max_logit is None and head.meta.scope_logit_weight == 0.0
        return
    queries = probe_rows(x, x.shape[1], seed=7)
    logit = logreg.decision_function(queries).max(axis=1)
    np.testing.assert_allclose(head.max_logit(queries), logit, atol=1e-8)
    meta = head.meta
    assert meta.scope_logit_weight > 0.0
    expected = (scope_scores(queries, head.support) + meta.scope_confidence_weight * head.predict_proba(queries).max(1)
                + meta.scope_logit_weight * logit)
    np.testing.assert_allclose(head.scope_score(queries), expected, atol=1e-5)


def test_two_class_heads_have_no_logit_term() -> None:
    x, labels = _data(2)
    head = fit_head("t", x, labels, labels, "multilingual-e5-small/test", kind="logreg")
    assert head.max_logit is None and head.meta.scope_logit_weight == 0.0


def test_out_of_scope_examples_only_the_logit_separates_are_caught_through_it() -> None:
    rng = np.random.default_rng(0)
    near, oos_near = rng.normal(0.9, 0.02, 2000), rng.normal(0.9, 0.02, 50)
    confidence, oos_confidence = np.full(2000, 0.9), np.full(50, 0.9)
    logit, oos_logit = rng.normal(10.0, 1.0, 2000), rng.normal(4.0, 1.0, 50)
    blind = choose_scope_rule(near, confidence, oos_near, oos_confidence, false_rejection=0.02)
    seeing = choose_scope_rule(
        near, confidence, oos_near, oos_confidence, false_rejection=0.02, logit=logit, oos_logit=oos_logit
    )
    assert blind.logit_weight == 0.0 and (blind.oos_recall or 0.0) < 0.2
    assert seeing.logit_weight > 0.0 and (seeing.oos_recall or 0.0) > 0.9
    assert abs(seeing.rejected_in_scope - 0.02) < 0.005  # the in-scope budget holds with the new term


def test_the_shipped_sentiment_head_is_compiled() -> None:
    head = Head.load(PACKAGE_DIR / "assets" / "sentiment-v1", "multilingual-e5-small/test")
    assert head.compiled
    queries = probe_rows(np.zeros((0, 0)), 384, seed=3)
    np.testing.assert_allclose(head.predict_proba(queries), head._estimator.predict_proba(queries), atol=PARITY_TOLERANCE)


def test_an_estimator_without_a_numpy_form_keeps_the_scikit_learn_path() -> None:
    x, labels = _data(3)
    forest = RandomForestClassifier(10, random_state=0).fit(x, labels)
    assert compile_proba(forest, probe_rows(x, x.shape[1])) is None


class ReversedLogisticRegression(LogisticRegression):
    """A subclass whose probabilities are not the ones its fitted weights give."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return super().predict_proba(x)[:, ::-1]


def test_a_numpy_form_that_disagrees_is_refused() -> None:
    x, labels = _data(3)
    model = ReversedLogisticRegression().fit(x, labels)
    assert compile_proba(model, probe_rows(x, x.shape[1])) is None
