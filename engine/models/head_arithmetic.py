"""Fitted heads as plain numpy arithmetic, for the request path.

scikit-learn validates its input on every call (array checks, dataframe detection, estimator tags):
for one ticket that cost about 9 ms across the topic, urgency and sentiment heads, many times the
arithmetic itself. At load, a head's fitted parameters are copied into the small functions below and
checked against the estimator's own ``predict_proba`` on probe rows. An estimator this module does not
know, or one whose compiled form disagrees, keeps the scikit-learn path: speed never changes an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

log = logging.getLogger(__name__)

Proba = Callable[[np.ndarray], np.ndarray]
PARITY_TOLERANCE = 1e-5
PROBE_ROWS = 48
_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "logistic": expit,
    "identity": lambda z: z,
}


def _two_columns(p: np.ndarray) -> np.ndarray:
    return np.column_stack([1.0 - p, p])


def logits(model: LogisticRegression) -> Callable[[np.ndarray], np.ndarray]:
    """A logistic regression's decision values: one column per class, or one signed column for two classes."""
    coef, intercept = model.coef_.T.astype(np.float64), model.intercept_.astype(np.float64)
    return lambda x: x @ coef + intercept


def _logreg(model: LogisticRegression) -> Proba:
    decision = logits(model)
    if len(model.classes_) == 2:
        return lambda x: _two_columns(expit(decision(x)[:, 0]))
    return lambda x: softmax(decision(x), axis=1)


def _knn(model: KNeighborsClassifier) -> Proba | None:
    if model.metric != "cosine" or model.weights not in ("uniform", "distance") or model.outputs_2d_:
        return None
    fit = np.asarray(model._fit_X, dtype=np.float64)
    fit = fit / np.maximum(np.linalg.norm(fit, axis=1, keepdims=True), 1e-12)
    codes, k, n_classes = np.asarray(model._y), model.n_neighbors, len(model.classes_)

    def proba(x: np.ndarray) -> np.ndarray:
        unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        dist = np.clip(1.0 - unit @ fit.T, 0.0, 2.0)
        near = np.argpartition(dist, k - 1, axis=1)[:, :k]
        rows = np.arange(len(x))[:, None]
        if model.weights == "uniform":
            weights = np.ones(near.shape)
        else:
            with np.errstate(divide="ignore"):
                weights = 1.0 / dist[rows, near]
            exact = np.isinf(weights)
            hit = exact.any(axis=1)
            weights[hit] = exact[hit]  # an exact match outvotes every other neighbour, as in scikit-learn
        out = np.zeros((len(x), n_classes))
        np.add.at(out, (np.broadcast_to(rows, near.shape), codes[near]), weights)
        return out / out.sum(axis=1, keepdims=True)

    return proba


def svc_decision(model: SVC) -> Callable[[np.ndarray], np.ndarray] | None:
    """An RBF SVM's ``decision_function``: one-vs-one margins turned one-vs-rest as scikit-learn turns them."""
    if model.kernel != "rbf" or model.decision_function_shape != "ovr" or model.break_ties:
        return None
    sv = np.asarray(model.support_vectors_, dtype=np.float64)
    sv_sq = (sv**2).sum(axis=1)
    gamma, dual, intercept = float(model._gamma), model.dual_coef_, model.intercept_
    n = len(model.classes_)
    bounds = np.concatenate([[0], np.cumsum(model.n_support_)])
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    # Pair (i, j) weighs class i's support vectors by dual row j-1 and class j's by row i (libsvm's layout).
    weights = np.zeros((len(pairs), len(sv)))
    for p, (i, j) in enumerate(pairs):
        weights[p, bounds[i] : bounds[i + 1]] = dual[j - 1, bounds[i] : bounds[i + 1]]
        weights[p, bounds[j] : bounds[j + 1]] = dual[i, bounds[j] : bounds[j + 1]]
    # One-vs-rest: each pair's margin counts for its first class and against its second, and wins one vote.
    to_first = np.zeros((len(pairs), n))
    to_second = np.zeros((len(pairs), n))
    to_first[np.arange(len(pairs)), [i for i, _ in pairs]] = 1.0
    to_second[np.arange(len(pairs)), [j for _, j in pairs]] = 1.0

    def decision(x: np.ndarray) -> np.ndarray:
        sq = np.maximum((x**2).sum(axis=1)[:, None] + sv_sq[None, :] - 2.0 * x @ sv.T, 0.0)
        margins = np.exp(-gamma * sq) @ weights.T + intercept
        if n == 2:
            return margins[:, 0]
        confidence = margins @ (to_first - to_second)
        votes = (margins >= 0) @ to_first + (margins < 0) @ to_second
        return votes + confidence / (3 * (np.abs(confidence) + 1))

    return decision


def _mlp(model: MLPClassifier) -> Proba | None:
    if model.activation not in _ACTIVATIONS or model.out_activation_ not in ("softmax", "logistic"):
        return None
    layers = [(w.astype(np.float64), b.astype(np.float64)) for w, b in zip(model.coefs_, model.intercepts_, strict=True)]
    hidden = _ACTIVATIONS[model.activation]

    def proba(x: np.ndarray) -> np.ndarray:
        for w, b in layers[:-1]:
            x = hidden(x @ w + b)
        out = x @ layers[-1][0] + layers[-1][1]
        if model.out_activation_ == "logistic":
            return _two_columns(expit(out[:, 0]))
        return softmax(out, axis=1)

    return proba


def _temperature_ensemble(model: CalibratedClassifierCV) -> Proba | None:
    """The shipped sentiment head's form: fold models, each temperature-scaled, probabilities averaged."""
    if model.method != "temperature":
        return None
    members = []
    for fold in model.calibrated_classifiers_:
        if not isinstance(fold.estimator, LogisticRegression) or len(fold.estimator.classes_) < 3:
            return None
        beta = float(fold.calibrators[0].beta_)
        members.append((beta * fold.estimator.coef_.T.astype(np.float64), beta * fold.estimator.intercept_))
    return lambda x: np.mean([softmax(x @ coef + intercept, axis=1) for coef, intercept in members], axis=0)


def standardise(model: StandardScaler) -> Callable[[np.ndarray], np.ndarray]:
    mean = model.mean_ if model.with_mean else 0.0
    scale = model.scale_ if model.with_std else 1.0
    return lambda x: (x - mean) / scale


def numpy_form(model: Any) -> Proba | None:
    if hasattr(model, "numpy_proba"):  # an estimator of ours that knows its own numpy form
        return model.numpy_proba()
    if isinstance(model, Pipeline):
        steps = [step for _, step in model.steps]
        if not all(isinstance(step, StandardScaler) for step in steps[:-1]):
            return None
        transforms = [standardise(step) for step in steps[:-1]]
        final = numpy_form(steps[-1])
        if final is None:
            return None

        def piped(x: np.ndarray) -> np.ndarray:
            for transform in transforms:
                x = transform(x)
            return final(x)

        return piped
    if isinstance(model, VotingClassifier):
        if model.voting != "soft" or model.weights is not None:
            return None
        members = [numpy_form(member) for member in model.estimators_]
        if any(member is None for member in members):
            return None
        return lambda x: np.mean([member(x) for member in members], axis=0)  # type: ignore[misc]
    if isinstance(model, CalibratedClassifierCV):
        return _temperature_ensemble(model)
    if isinstance(model, LogisticRegression):
        return _logreg(model)
    if isinstance(model, KNeighborsClassifier):
        return _knn(model)
    if isinstance(model, MLPClassifier):
        return _mlp(model)
    return None


def compile_proba(model: Any, probe: np.ndarray) -> Proba | None:
    """A numpy ``predict_proba`` equal to ``model.predict_proba`` on ``probe``, or None where there is none."""
    try:
        fast = numpy_form(model)
    except (AttributeError, ValueError) as exc:  # a fitted attribute this version does not have
        log.info("head %s keeps the scikit-learn path: %s", type(model).__name__, exc)
        return None
    if fast is None:
        return None
    x = np.asarray(probe, dtype=np.float64)
    gap = float(np.abs(fast(x) - model.predict_proba(x)).max())
    if gap > PARITY_TOLERANCE:
        log.warning("compiled head %s differs from scikit-learn by %.2g; keeping the slow path", type(model).__name__, gap)
        return None
    return fast


def probe_rows(support: np.ndarray, dim: int, seed: int = 0) -> np.ndarray:
    """Rows near the head's training examples (or random unit vectors without them) to check a compiled head on."""
    rng = np.random.default_rng(seed)
    if len(support):
        base = np.asarray(support[rng.choice(len(support), min(PROBE_ROWS, len(support)), replace=False)])
        rows = base + rng.normal(0.0, 0.02, base.shape)
    else:
        rows = rng.normal(0.0, 1.0, (PROBE_ROWS, dim))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)
