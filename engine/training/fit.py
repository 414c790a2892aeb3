"""Fitting a head: the estimator, its cross-validated calibration, and the out-of-scope rule.

Training lives apart from ``engine/models/heads.py`` (which loads and runs a saved head) so that serving
never imports the cross-validation and grid search below. What a fitted head is pickled as
(``SoftmaxSVC``, ``TemperatureScaled``) stays in ``engine/models/heads.py``: saved artefacts name it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.base import ClassifierMixin
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from engine.errors import InvalidInput
from engine.models.heads import (
    FALSE_REJECTION,
    Head,
    HeadMeta,
    HeldOut,
    SoftmaxSVC,
    TemperatureScaled,
    log_probs,
    max_logit,
    scope_scores,
)

# No "svm" alone: softmaxed votes are poor logits (BANKING77 ECE 0.11 after temperature scaling); averaged
# with the logistic regression and kNN they are calibrated (0.021) and the most accurate head.
HEAD_KINDS = ("logreg", "logreg+knn", "mlp", "logreg+knn+mlp", "logreg+knn+svm")
SVM_C = 10.0
MLP_HIDDEN = 512
MLP_ALPHA = 0.1
# Out of scope: score = neighbour similarity + w * confidence + mu * largest logistic-regression logit
# - lambda * similarity to known out-of-scope examples. mu is relative: the logit is first scaled to the
# spread of neighbour similarity on held-out in-scope examples. Without out-of-scope examples w and mu are
# fixed (cross-validation on CLINC150 train + oos_train: 0.1 and 1.0); with them, (w, mu, lambda) come from
# these grids, whichever rejects most of them at the same in-scope cost.
SCOPE_CONFIDENCE_WEIGHT = 0.1
SCOPE_CONFIDENCE_WEIGHTS = (0.0, 0.02, 0.05, 0.1, 0.2)
SCOPE_LOGIT_WEIGHT = 1.0
SCOPE_LOGIT_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
SCOPE_OOS_WEIGHTS = (0.0, 0.5, 1.0)
OOS_MARK = "\x00out-of-scope"
LOGREG_C_FACTORS = (1.0, 0.1, 1 / 30)
"""The logistic regression's C is ``head_c`` times the factor whose held-out accuracy is best. ``head_c`` (0.1) suits
large clean sets (BANKING77, CLINC150); on a few thousand noisy tickets it overfits. On tickets-multilang, 5-fold
accuracy within English tickets is 0.318 / 0.372 / 0.386 for the three factors, and the head trained on English
reads German tickets at 0.237 / 0.282 / 0.314: the weights that overfit one language are the ones that do not carry
over to another. Only stronger regularisation than the setting is tried: a set the setting already suits keeps it."""


def build_estimator(kind: str, c: float, neighbours: int = 10, early_stopping: bool = True) -> ClassifierMixin:
    """The classifier behind a head: one member, or the average of several members' probabilities.

    ``logreg`` is a standardised logistic regression, ``knn`` a cosine kNN vote, ``mlp``
    one hidden layer of 512, ``svm`` an RBF SVM. On BANKING77 and CLINC150 the SVM is the
    strongest single member and ``logreg+knn+svm`` the strongest head (eval/classify.py);
    on small multilingual ticket sets the neighbours correct the linear model when it
    latches onto single words ("paid" -> billing).
    """
    if kind not in HEAD_KINDS:
        raise InvalidInput("head_kind", f"must be one of {HEAD_KINDS}; got {kind!r}")
    members: list[tuple[str, ClassifierMixin]] = []
    for name in kind.split("+"):
        if name == "logreg":
            # Standardising lets the linear part see past E5's compressed cosine range.
            members.append((name, make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))))
        elif name == "knn":
            members.append((name, KNeighborsClassifier(neighbours, metric="cosine", weights="distance")))
        elif name == "mlp":
            # Adam stopping early on held-out loss where there is data to hold out; L-BFGS on small sets.
            mlp = (
                MLPClassifier((MLP_HIDDEN,), alpha=MLP_ALPHA, early_stopping=True, n_iter_no_change=10, random_state=0)
                if early_stopping
                else MLPClassifier((MLP_HIDDEN,), alpha=MLP_ALPHA, solver="lbfgs", max_iter=1000, random_state=0)
            )
            members.append((name, make_pipeline(StandardScaler(), mlp)))
        else:
            members.append((name, make_pipeline(StandardScaler(), SoftmaxSVC(C=SVM_C))))
    if len(members) == 1:
        return members[0][1]
    return VotingClassifier(members, voting="soft")


def choose_logreg_c(x: np.ndarray, y: np.ndarray, folds: int, seed: int, c: float) -> float:
    """``c`` times one of ``LOGREG_C_FACTORS``: the one whose standardised logistic regression alone classifies the
    held-out folds best (the same folds as the head's cross-validation); a tie keeps the larger C."""
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y))
    best_c, best_accuracy = c, -1.0
    for factor in LOGREG_C_FACTORS:
        correct = 0
        for train, test in splits:
            model = build_estimator("logreg", c * factor).fit(x[train], y[train])
            correct += int((model.predict(x[test]) == y[test]).sum())
        if correct / len(y) > best_accuracy:
            best_c, best_accuracy = c * factor, correct / len(y)
    return best_c


def fit_inverse_temperature(probs: np.ndarray, truth: np.ndarray) -> float:
    """The factor on log-probabilities that minimises the log loss of held-out predictions."""
    logits = log_probs(probs)
    rows = np.arange(len(truth))

    def loss(log_beta: float) -> float:
        return float(-log_softmax(np.exp(log_beta) * logits, axis=1)[rows, truth].mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded").x))


def _fold_count(labels: list[str]) -> int:
    """Cross-validation folds: up to 5, but never more than the rarest class has examples."""
    return max(2, min(5, min(Counter(labels).values())))


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode("utf-8"))
        digest.update(b"\x1f")
        digest.update(label.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def cross_validate(
    build: Callable[[], ClassifierMixin],
    x: np.ndarray,
    y: np.ndarray,
    folds: int,
    seed: int,
    oos: np.ndarray,
    in_scope: np.ndarray | None = None,
) -> HeldOut:
    """Fit one model per fold; out-of-scope examples are spread over the folds and scored by one model each.

    ``in_scope``: unlabelled rows that belong to every fold's scope (the KB's article titles), as at run time.
    """
    extra = in_scope if in_scope is not None else np.zeros((0, x.shape[1]), np.float32)
    classes = np.unique(y)
    probs = np.zeros((len(y), len(classes)))
    near = np.zeros(len(y), dtype=np.float32)
    oos_probs = np.zeros((len(oos), len(classes)))
    oos_near = np.zeros(len(oos), dtype=np.float32)
    logit: np.ndarray | None = np.zeros(len(y))
    oos_logit = np.zeros(len(oos))
    oos_fold = np.arange(len(oos)) % folds
    for f, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y)):
        model = build().fit(x[train], y[train])
        probs[test] = model.predict_proba(x[test])
        scope = np.vstack([x[train], extra])
        near[test] = scope_scores(x[test], scope)
        strength = max_logit(model)
        if strength is None:
            logit = None
        elif logit is not None:
            logit[test] = strength(x[test])
        mine = oos_fold == f
        if mine.any():
            oos_probs[mine] = model.predict_proba(oos[mine])
            oos_near[mine] = scope_scores(oos[mine], scope)
            if strength is not None:
                oos_logit[mine] = strength(oos[mine])
    return HeldOut(probs, near, oos_probs, oos_near, logit, None if logit is None else oos_logit)


@dataclass(frozen=True)
class ScopeRule:
    threshold: float
    confidence_weight: float
    oos_weight: float
    rejected_in_scope: float  # share of held-out in-scope examples the rule rejects
    oos_recall: float | None  # share of the out-of-scope examples it rejects
    logit_weight: float = 0.0  # on the raw logit (the relative weight times the scale)


def logit_scale(near: np.ndarray, logit: np.ndarray) -> float:
    """Raw weight per unit of relative logit weight: the logit spans a far wider range than similarity."""
    spread = float(np.std(logit))
    return float(np.std(near)) / spread if spread > 0 else 0.0


def choose_scope_rule(
    near: np.ndarray,
    confidence: np.ndarray,
    oos_near: np.ndarray,
    oos_confidence: np.ndarray,
    near_oos: np.ndarray | None = None,
    oos_near_oos: np.ndarray | None = None,
    false_rejection: float = FALSE_REJECTION,
    logit: np.ndarray | None = None,
    oos_logit: np.ndarray | None = None,
) -> ScopeRule:
    """The threshold that rejects ``false_rejection`` of the held-out in-scope examples, whatever their prediction.

    Measured on every held-out example, not only the correctly classified ones: that is the share of a
    helpdesk's in-scope tickets that come back without a topic, the figure a team lead can hold it to (on the
    product path a budget over the correct ones alone rejected twice as many: 3.8% of BANKING77's test).

    Given out-of-scope examples (``oos_*``), the weights are those that reject most of
    them at that cost; ``near_oos``/``oos_near_oos`` are similarities to the known
    out-of-scope examples (the latter leaving each example out), ``logit``/``oos_logit``
    the largest logistic-regression logits. A few dozen examples leave many weights
    tied on that count; of those, the one ranking them lowest against the held-out
    in-scope examples wins.
    """
    has_oos = len(oos_near) > 0
    use_oos_sim = has_oos and near_oos is not None and oos_near_oos is not None
    scale = logit_scale(near, logit) if logit is not None else 0.0
    grid = [
        (w, mu * scale, lam)
        for w in (SCOPE_CONFIDENCE_WEIGHTS if has_oos else (SCOPE_CONFIDENCE_WEIGHT,))
        for mu in ((SCOPE_LOGIT_WEIGHTS if has_oos else (SCOPE_LOGIT_WEIGHT,)) if scale else (0.0,))
        for lam in (SCOPE_OOS_WEIGHTS if use_oos_sim else (0.0,))
    ]
    best: ScopeRule | None = None
    best_key: tuple[float, float] | None = None
    for w, mu, lam in grid:
        inside = near + w * confidence + (mu * logit if mu else 0.0) - (lam * near_oos if lam else 0.0)
        threshold = float(np.quantile(inside, false_rejection))
        recall, separation = None, 0.0
        if has_oos:
            outside = oos_near + w * oos_confidence + (mu * oos_logit if mu else 0.0)
            outside = outside - (lam * oos_near_oos if lam else 0.0)
            recall = float((outside < threshold).mean())
            ranked = np.sort(inside)
            separation = float(1.0 - np.searchsorted(ranked, outside).mean() / len(ranked))  # AUROC
        key = (recall or 0.0, separation)
        if best_key is None or key > best_key:
            best_key = key
            best = ScopeRule(threshold, w, lam, float((inside < threshold).mean()), recall, mu)
    assert best is not None
    return best


def fit_head(
    name: str,
    embeddings: np.ndarray,
    labels: list[str],
    texts: list[str],
    encoder_id: str,
    kind: str = "logreg+knn+svm",
    c: float = 0.1,
    seed: int = 0,
    keep_support: bool = True,
    out_of_scope: np.ndarray | None = None,
    out_of_scope_texts: Sequence[str] = (),
    false_rejection: float = FALSE_REJECTION,
    in_scope: np.ndarray | None = None,
) -> Head:
    """Fit a head, calibrate it and choose its out-of-scope threshold, all from cross-validation.

    Each fold's model scores the examples it did not see; those held-out predictions
    give the honest metrics in ``meta.json``, the temperature, and the out-of-scope
    threshold, before one model is refitted on all data. ``out_of_scope`` holds
    embeddings of explicit out-of-scope examples: they are no class, they only
    teach the out-of-scope rule. ``in_scope`` holds embeddings that are in scope without a label (the KB's
    article titles, engine/training/heads.py says why): they join the examples the scope rule measures
    closeness to, in every fold and in the saved head, and teach the classifier nothing.
    """
    counts = Counter(labels)
    if len(counts) < 2:
        raise InvalidInput("labels", f"{name} needs at least two distinct labels; got {sorted(counts)}")
    smallest = min(counts.values())
    if smallest < 2:
        rare = sorted(label for label, n in counts.items() if n < 2)
        raise InvalidInput("labels", f"{name}: every class needs at least 2 examples; too few for {rare}")
    oos = (
        np.ascontiguousarray(out_of_scope, dtype=np.float32)
        if out_of_scope is not None and len(out_of_scope)
        else np.zeros((0, embeddings.shape[1]), np.float32)
    )
    folds = _fold_count(labels)
    fold_size = len(labels) * (folds - 1) // folds
    # kNN needs k examples in every fold; the MLP stops early on 10% held out, if that is 3 a class or more.
    neighbours = max(1, min(10, len(labels) // (2 * folds)))
    early_stopping = smallest * (folds - 1) // folds >= 5 and fold_size // 10 >= 3 * len(counts)

    y = np.asarray(labels)
    if "logreg" in kind.split("+"):
        c = choose_logreg_c(embeddings, y, folds, seed, c)

    def build() -> ClassifierMixin:
        return build_estimator(kind, c, neighbours, early_stopping)

    extra = (
        np.ascontiguousarray(in_scope, dtype=np.float32)
        if in_scope is not None and len(in_scope)
        else np.zeros((0, embeddings.shape[1]), np.float32)
    )
    held = cross_validate(build, embeddings, y, folds, seed, oos, extra)
    classes = np.unique(y)
    truth = np.searchsorted(classes, y)
    estimator = TemperatureScaled(build().fit(embeddings, y), fit_inverse_temperature(held.probs, truth))
    calibrated = estimator.rescale(held.probs)
    pred = classes[calibrated.argmax(axis=1)]
    metrics: dict[str, float] = {
        "holdout_accuracy": round(float(accuracy_score(y, pred)), 4),
        "holdout_macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "holdout_size": float(len(y)),
        "holdout_folds": float(folds),
    }
    if "logreg" in kind.split("+"):
        metrics["logreg_c"] = round(c, 5)
    support = (
        np.ascontiguousarray(np.vstack([embeddings, extra]), dtype=np.float32)
        if keep_support
        else np.zeros((0, 0), np.float32)
    )
    rule = ScopeRule(-1.0, 0.0, 0.0, 0.0, None)
    if keep_support:
        has_oos_sim = len(oos) >= 2
        rule = choose_scope_rule(
            held.near,
            calibrated.max(axis=1),
            held.oos_near,
            estimator.rescale(held.oos_probs).max(axis=1),
            scope_scores(support[: len(embeddings)], oos) if has_oos_sim else None,
            scope_scores(oos, oos, exclude_self=True) if has_oos_sim else None,
            false_rejection,
            held.logit,
            held.oos_logit,
        )
        metrics["scope_rejected_in_scope"] = round(rule.rejected_in_scope, 4)
        if rule.oos_recall is not None:
            metrics["scope_oos_recall"] = round(rule.oos_recall, 4)
    now = datetime.now(UTC)
    oos_texts = list(out_of_scope_texts)
    digest = data_hash([*texts, *oos_texts], [*labels, *[OOS_MARK] * len(oos_texts)])
    meta = HeadMeta(
        name=name,
        version=f"{now:%Y%m%dT%H%M%S}-{digest[:8]}",
        labels=tuple(str(c) for c in estimator.classes_),
        encoder_id=encoder_id,
        data_hash=digest,
        trained_at=now.isoformat(timespec="seconds"),
        n_examples=len(labels),
        metrics=metrics,
        sklearn_version=sklearn.__version__,
        kind=kind,
        scope_threshold=round(rule.threshold, 5),
        scope_confidence_weight=rule.confidence_weight,
        scope_oos_weight=rule.oos_weight,
        scope_logit_weight=rule.logit_weight,
        n_out_of_scope=len(oos),
        n_in_scope_unlabelled=len(extra),
    )
    head = Head(estimator, meta, support, oos if keep_support and rule.oos_weight else None)
    head.held_out = replace(held, probs=calibrated, oos_probs=estimator.rescale(held.oos_probs))
    return head
