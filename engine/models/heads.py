"""Classifier heads over the shared sentence embedding, saved as versioned artefacts.

An artefact is a folder: ``head.joblib`` (the scikit-learn estimator) beside
``meta.json`` (name, version, labels, encoder id, data hash, metrics, library
versions, the out-of-scope rule) and the embeddings that define the head's scope
(``support.npy``; ``oos_support.npy`` for explicit out-of-scope examples). A head
is refused at load when it was trained on another model's vectors than the
running encoder's: its weights would silently mean nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import sklearn
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from engine.errors import InvalidInput, ModelError
from engine.models.encoders import vector_space
from engine.models.fast_heads import Proba, compile_proba, logits, numpy_form, probe_rows, standardise, svc_decision

ACTIVE_FILE = "ACTIVE"
SUPPORT_FILE = "support.npy"
OOS_SUPPORT_FILE = "oos_support.npy"
SCOPE_NEIGHBOURS = 5
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
FALSE_REJECTION = 0.02
OOS_MARK = "\x00out-of-scope"
PREDICT_CHUNK = 1024


class SoftmaxSVC(SVC):
    """An RBF support-vector machine whose one-vs-one votes, softmaxed, stand in for probabilities.

    SVC's own probabilities cost five extra fits (internal Platt scaling); the head's
    temperature, fitted on held-out predictions, calibrates these instead.
    """

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        votes = self.decision_function(x)
        if votes.ndim == 1:  # two classes: one signed margin
            votes = np.column_stack([-votes, votes])
        return softmax(votes, axis=1)

    def numpy_proba(self) -> Proba | None:
        decision = svc_decision(self)
        if decision is None:
            return None

        def proba(x: np.ndarray) -> np.ndarray:
            votes = decision(x)
            return softmax(np.column_stack([-votes, votes]) if votes.ndim == 1 else votes, axis=1)

        return proba


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


def _log(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs, 1e-12, None))


def fit_inverse_temperature(probs: np.ndarray, truth: np.ndarray) -> float:
    """The factor on log-probabilities that minimises the log loss of held-out predictions."""
    logits = _log(probs)
    rows = np.arange(len(truth))

    def loss(log_beta: float) -> float:
        return float(-log_softmax(np.exp(log_beta) * logits, axis=1)[rows, truth].mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded").x))


class TemperatureScaled:
    """A fitted classifier whose probabilities are rescaled by one temperature fitted on held-out data."""

    def __init__(self, estimator: ClassifierMixin, inverse_temperature: float) -> None:
        self.estimator = estimator
        self.inverse_temperature = inverse_temperature
        self.classes_ = estimator.classes_

    @property
    def n_features_in_(self) -> int:
        return int(self.estimator.n_features_in_)

    def rescale(self, probs: np.ndarray) -> np.ndarray:
        return softmax(self.inverse_temperature * _log(probs), axis=1)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.rescale(self.estimator.predict_proba(x))

    def numpy_proba(self) -> Proba | None:
        inner = numpy_form(self.estimator)
        return None if inner is None else lambda x: self.rescale(inner(x))


def max_logit(estimator: ClassifierMixin) -> Callable[[np.ndarray], np.ndarray] | None:
    """The largest class logit of the head's standardised logistic regression, in numpy; None without one.

    Softmax divides away how strongly a query matches any class: a query far from every
    class can still have one clear winner. The raw logit keeps that strength, so it
    separates out-of-scope queries better than the probability (CLINC150, eval/classify.py).
    """
    member = estimator.estimator if isinstance(estimator, TemperatureScaled) else estimator
    if isinstance(member, VotingClassifier):
        member = member.named_estimators_.get("logreg")
    if not isinstance(member, Pipeline) or not isinstance(member[-1], LogisticRegression):
        return None
    scaler, model = member[0], member[-1]
    if not isinstance(scaler, StandardScaler) or len(model.classes_) < 3:  # two classes: one signed logit
        return None
    scaled, decision = standardise(scaler), logits(model)
    return lambda x: decision(scaled(x)).max(axis=1)


@dataclass(frozen=True)
class HeadMeta:
    name: str
    version: str
    labels: tuple[str, ...]
    encoder_id: str
    data_hash: str
    trained_at: str
    n_examples: int
    metrics: dict[str, float]
    sklearn_version: str
    kind: str = "logreg"
    # Out of scope when neighbour similarity + confidence_weight * confidence
    # - oos_weight * similarity to the out-of-scope examples < scope_threshold.
    scope_threshold: float = -1.0
    scope_confidence_weight: float = 0.0
    scope_oos_weight: float = 0.0
    # + scope_logit_weight * the largest logistic-regression logit (absent from heads saved before it: 0).
    scope_logit_weight: float = 0.0
    n_out_of_scope: int = 0
    provenance: dict[str, object] = field(default_factory=dict)


def scope_scores(queries: np.ndarray, support: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Mean cosine similarity of each query to its nearest training examples.

    A ticket far from everything the head was trained on is out of scope, however
    confident the classifier is: softmax heads are never unsure by construction.
    """
    k = min(SCOPE_NEIGHBOURS, len(support) - int(exclude_self))
    out = np.empty(len(queries), dtype=np.float32)
    for start in range(0, len(queries), 2048):
        sims = queries[start : start + 2048] @ support.T
        if exclude_self:
            np.fill_diagonal(sims[:, start : start + 2048], -np.inf)
        out[start : start + 2048] = np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1)
    return out


class Head:
    """A calibrated classifier with its provenance and the examples that define its scope."""

    def __init__(
        self, estimator: ClassifierMixin, meta: HeadMeta, support: np.ndarray, oos_support: np.ndarray | None = None
    ) -> None:
        self._estimator = estimator
        self.meta = meta
        self.support = support
        self.oos_support = oos_support if oos_support is not None else np.zeros((0, 0), np.float32)
        self.labels: tuple[str, ...] = tuple(str(c) for c in estimator.classes_)
        # Calibrated out-of-fold predictions of a freshly fitted head (not saved): eval reads them.
        self.held_out: HeldOut | None = None
        # Requests take the numpy form of the head where it matches scikit-learn (engine/models/fast_heads.py).
        self._fast = compile_proba(estimator, probe_rows(support, estimator.n_features_in_))
        # The scope rule's logit term (see max_logit); None for heads without a logistic regression.
        self.max_logit = max_logit(estimator)

    @property
    def compiled(self) -> bool:
        return self._fast is not None

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        if self._fast is None:
            return self._estimator.predict_proba(embeddings)
        if len(embeddings) <= PREDICT_CHUNK:
            return self._fast(embeddings)
        # kNN and the SVM compare every row with every training example: bound that matrix on large inputs.
        return np.vstack([self._fast(embeddings[i : i + PREDICT_CHUNK]) for i in range(0, len(embeddings), PREDICT_CHUNK)])

    def scope_score(self, embeddings: np.ndarray, probs: np.ndarray | None = None) -> np.ndarray:
        """The out-of-scope rule's score (higher is more in scope); ``probs`` saves predicting twice."""
        score = scope_scores(embeddings, self.support)
        if self.meta.scope_confidence_weight:
            probs = self.predict_proba(embeddings) if probs is None else probs
            score += self.meta.scope_confidence_weight * probs.max(axis=1)
        if self.meta.scope_logit_weight and self.max_logit is not None:
            score += self.meta.scope_logit_weight * self.max_logit(embeddings)
        if self.meta.scope_oos_weight and len(self.oos_support):
            score -= self.meta.scope_oos_weight * scope_scores(embeddings, self.oos_support)
        return score

    def in_scope(self, embeddings: np.ndarray, probs: np.ndarray | None = None) -> np.ndarray:
        """False where a text scores below what all but ``FALSE_REJECTION`` of held-out in-scope tickets score."""
        if len(self.support) == 0:
            return np.ones(len(embeddings), dtype=bool)
        return self.scope_score(embeddings, probs) >= self.meta.scope_threshold

    def save(self, folder: Path) -> Path:
        """Write the artefact into ``folder`` (conventionally ``<heads dir>/<name>/<version>``)."""
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self._estimator, folder / "head.joblib")
        if len(self.support):
            np.save(folder / SUPPORT_FILE, self.support)
        if len(self.oos_support):
            np.save(folder / OOS_SUPPORT_FILE, self.oos_support)
        (folder / "meta.json").write_text(json.dumps(self.meta.__dict__, indent=2, default=list))
        return folder

    @classmethod
    def load(cls, folder: Path, encoder_id: str) -> Head:
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            raise ModelError(f"no head artefact at {folder} (meta.json missing)")
        raw = json.loads(meta_path.read_text())
        raw["labels"] = tuple(raw["labels"])
        try:
            meta = HeadMeta(**raw)
        except TypeError as exc:
            raise ModelError(f"{meta_path} does not describe a head this version understands: {exc}") from exc
        if vector_space(meta.encoder_id) != vector_space(encoder_id):
            raise ModelError(
                f"head {meta.name}/{meta.version} was trained on encoder {meta.encoder_id!r}, "
                f"but the running encoder is {encoder_id!r}; retrain it with `sift train`"
            )

        def array(name: str) -> np.ndarray:
            path = folder / name
            return np.load(path, mmap_mode="r") if path.is_file() else np.zeros((0, 0), np.float32)

        return cls(joblib.load(folder / "head.joblib"), meta, array(SUPPORT_FILE), array(OOS_SUPPORT_FILE))


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


@dataclass(frozen=True)
class HeldOut:
    """Out-of-fold predictions: every training example scored by a model that never saw it."""

    probs: np.ndarray  # uncalibrated
    near: np.ndarray  # neighbour similarity to the fold's training examples
    oos_probs: np.ndarray
    oos_near: np.ndarray
    logit: np.ndarray | None = None  # largest logistic-regression logit (see max_logit); None without one
    oos_logit: np.ndarray | None = None


def cross_validate(
    build: Callable[[], ClassifierMixin], x: np.ndarray, y: np.ndarray, folds: int, seed: int, oos: np.ndarray
) -> HeldOut:
    """Fit one model per fold; out-of-scope examples are spread over the folds and scored by one model each."""
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
        near[test] = scope_scores(x[test], x[train])
        strength = max_logit(model)
        if strength is None:
            logit = None
        elif logit is not None:
            logit[test] = strength(x[test])
        mine = oos_fold == f
        if mine.any():
            oos_probs[mine] = model.predict_proba(oos[mine])
            oos_near[mine] = scope_scores(oos[mine], x[train])
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
    correct: np.ndarray,
    oos_near: np.ndarray,
    oos_confidence: np.ndarray,
    near_oos: np.ndarray | None = None,
    oos_near_oos: np.ndarray | None = None,
    false_rejection: float = FALSE_REJECTION,
    logit: np.ndarray | None = None,
    oos_logit: np.ndarray | None = None,
) -> ScopeRule:
    """The threshold that rejects ``false_rejection`` of the correctly classified held-out examples.

    Given out-of-scope examples (``oos_*``), the weights are those that reject most of
    them at that cost; ``near_oos``/``oos_near_oos`` are similarities to the known
    out-of-scope examples (the latter leaving each example out), ``logit``/``oos_logit``
    the largest logistic-regression logits. A few dozen examples leave many weights
    tied on that count; of those, the one ranking them lowest against the held-out
    in-scope examples wins.
    """
    has_oos = len(oos_near) > 0
    use_oos_sim = has_oos and near_oos is not None and oos_near_oos is not None
    reference = correct if correct.any() else np.ones_like(correct)
    scale = logit_scale(near[reference], logit[reference]) if logit is not None else 0.0
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
        threshold = float(np.quantile(inside[reference], false_rejection))
        recall, separation = None, 0.0
        if has_oos:
            outside = oos_near + w * oos_confidence + (mu * oos_logit if mu else 0.0)
            outside = outside - (lam * oos_near_oos if lam else 0.0)
            recall = float((outside < threshold).mean())
            ranked = np.sort(inside[reference])
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
) -> Head:
    """Fit a head, calibrate it and choose its out-of-scope threshold, all from cross-validation.

    Each fold's model scores the examples it did not see; those held-out predictions
    give the honest metrics in ``meta.json``, the temperature, and the out-of-scope
    threshold, before one model is refitted on all data. ``out_of_scope`` holds
    embeddings of explicit out-of-scope examples: they are no class, they only
    teach the out-of-scope rule.
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

    def build() -> ClassifierMixin:
        return build_estimator(kind, c, neighbours, early_stopping)

    y = np.asarray(labels)
    held = cross_validate(build, embeddings, y, folds, seed, oos)
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
    support = np.ascontiguousarray(embeddings, dtype=np.float32) if keep_support else np.zeros((0, 0), np.float32)
    rule = ScopeRule(-1.0, 0.0, 0.0, 0.0, None)
    if keep_support:
        has_oos_sim = len(oos) >= 2
        rule = choose_scope_rule(
            held.near,
            calibrated.max(axis=1),
            pred == y,
            held.oos_near,
            estimator.rescale(held.oos_probs).max(axis=1),
            scope_scores(support, oos) if has_oos_sim else None,
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
    )
    head = Head(estimator, meta, support, oos if keep_support and rule.oos_weight else None)
    head.held_out = replace(held, probs=calibrated, oos_probs=estimator.rescale(held.oos_probs))
    return head


def activate(root: Path, name: str, version: str) -> None:
    folder = root / name / version
    if not (folder / "meta.json").is_file():
        raise ModelError(f"cannot activate {name}/{version}: no such artefact under {root}")
    tmp = root / name / f".{ACTIVE_FILE}.tmp"
    tmp.write_text(version)
    tmp.replace(root / name / ACTIVE_FILE)


def active_version(root: Path, name: str) -> str | None:
    marker = root / name / ACTIVE_FILE
    return marker.read_text().strip() if marker.is_file() else None
