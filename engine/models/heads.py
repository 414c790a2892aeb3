"""Classifier heads over the shared sentence embedding, saved as versioned artefacts.

An artefact is a folder: ``head.joblib`` (the scikit-learn estimator) beside
``meta.json`` (name, version, labels, encoder id, data hash, metrics, library
versions). A head is refused at load when it was trained on another model's
vectors than the running encoder's: its weights would silently mean nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from engine.errors import InvalidInput, ModelError
from engine.models.encoders import vector_space

ACTIVE_FILE = "ACTIVE"
SUPPORT_FILE = "support.npy"
SCOPE_NEIGHBOURS = 5
SCOPE_QUANTILE = 0.01
# Training tickets are usually longer than the one-line questions customers also send;
# short in-scope texts sit a little farther from them, so the cut-off gets some slack.
SCOPE_SLACK = 0.01
HEAD_KINDS = ("logreg", "logreg+knn")


def build_estimator(kind: str, c: float, neighbours: int = 10) -> ClassifierMixin:
    """The classifier inside the calibration wrapper.

    ``logreg+knn`` averages a standardised logistic regression with a cosine
    kNN vote: on small multilingual ticket sets the linear model latches onto
    single words ("paid" -> billing) that the neighbours correct.
    """
    if kind == "logreg":
        return LogisticRegression(C=c, max_iter=3000)
    if kind == "logreg+knn":
        # Standardising lets the linear part see past E5's compressed cosine range.
        logreg = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))
        knn = KNeighborsClassifier(neighbours, metric="cosine", weights="distance")
        return VotingClassifier([("logreg", logreg), ("knn", knn)], voting="soft")
    raise InvalidInput("head_kind", f"must be one of {HEAD_KINDS}; got {kind!r}")


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
    scope_threshold: float = -1.0
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
        out[start : start + 2048] = np.sort(sims, axis=1)[:, -k:].mean(axis=1)
    return out


class Head:
    """A calibrated classifier with its provenance and the examples that define its scope."""

    def __init__(self, estimator: CalibratedClassifierCV, meta: HeadMeta, support: np.ndarray) -> None:
        self._estimator = estimator
        self.meta = meta
        self.support = support
        self.labels: tuple[str, ...] = tuple(str(c) for c in estimator.classes_)

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        return self._estimator.predict_proba(embeddings)

    def in_scope(self, embeddings: np.ndarray) -> np.ndarray:
        """True where a text is as close to the training data as 99% of the training examples are."""
        if len(self.support) == 0:
            return np.ones(len(embeddings), dtype=bool)
        return scope_scores(embeddings, self.support) >= self.meta.scope_threshold

    def save(self, folder: Path) -> Path:
        """Write the artefact into ``folder`` (conventionally ``<heads dir>/<name>/<version>``)."""
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self._estimator, folder / "head.joblib")
        if len(self.support):
            np.save(folder / SUPPORT_FILE, self.support)
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
        support_path = folder / SUPPORT_FILE
        support = np.load(support_path, mmap_mode="r") if support_path.is_file() else np.zeros((0, 0), np.float32)
        return cls(joblib.load(folder / "head.joblib"), meta, support)


def _fold_count(labels: list[str]) -> int:
    """Calibration folds: up to 5, but never more than the rarest class has examples."""
    return max(2, min(5, min(Counter(labels).values())))


def data_hash(texts: list[str], labels: list[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode("utf-8"))
        digest.update(b"\x1f")
        digest.update(label.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def fit_head(
    name: str,
    embeddings: np.ndarray,
    labels: list[str],
    texts: list[str],
    encoder_id: str,
    kind: str = "logreg+knn",
    c: float = 0.1,
    holdout: float = 0.15,
    seed: int = 0,
    keep_support: bool = True,
) -> Head:
    """Fit logistic regression with temperature calibration, then report held-out metrics.

    The held-out split measures the head before it is refitted on all data, so the
    metrics in ``meta.json`` are honest estimates rather than training accuracy.
    """
    counts = Counter(labels)
    if len(counts) < 2:
        raise InvalidInput("labels", f"{name} needs at least two distinct labels; got {sorted(counts)}")
    smallest = min(counts.values())
    if smallest < 2:
        rare = sorted(label for label, n in counts.items() if n < 2)
        raise InvalidInput("labels", f"{name}: every class needs at least 2 examples; too few for {rare}")
    folds = _fold_count(labels)

    def build(n_folds: int) -> CalibratedClassifierCV:
        # kNN needs at least k examples in every training fold.
        k = max(1, min(10, len(labels) // (2 * n_folds)))
        # ensemble=False: the folds only fit the temperature; one refit model serves, which on BANKING77
        # predicts 4x faster than the 5-model ensemble with equal accuracy and lower ECE (0.018 vs 0.028).
        return CalibratedClassifierCV(
            build_estimator(kind, c, k), method="temperature", cv=n_folds, ensemble=False
        )

    metrics: dict[str, float] = {}
    y = np.asarray(labels)
    if smallest >= 4 and len(labels) >= 40:
        x_tr, x_te, y_tr, y_te = train_test_split(
            embeddings, y, test_size=holdout, random_state=seed, stratify=y
        )
        if min(Counter(y_tr.tolist()).values()) >= 2:
            probe = build(_fold_count(y_tr.tolist())).fit(x_tr, y_tr)
            pred = probe.predict(x_te)
            metrics = {
                "holdout_accuracy": round(float(accuracy_score(y_te, pred)), 4),
                "holdout_macro_f1": round(float(f1_score(y_te, pred, average="macro")), 4),
                "holdout_size": float(len(y_te)),
            }
    estimator = build(folds).fit(embeddings, y)
    support = np.ascontiguousarray(embeddings, dtype=np.float32) if keep_support else np.zeros((0, 0), np.float32)
    scope_threshold = (
        float(np.quantile(scope_scores(support, support, exclude_self=True), SCOPE_QUANTILE)) - SCOPE_SLACK
        if keep_support
        else -1.0
    )
    now = datetime.now(UTC)
    digest = data_hash(texts, labels)
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
        scope_threshold=round(scope_threshold, 5),
    )
    return Head(estimator, meta, support)


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
