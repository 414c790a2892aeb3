"""Classifier heads over the shared sentence embedding, saved as versioned artefacts.

An artefact is a folder: ``head.joblib`` (the scikit-learn estimator) beside
``meta.json`` (name, version, labels, encoder id, data hash, metrics, library
versions, the out-of-scope rule) and the embeddings that define the head's scope
(``support.npy``; ``oos_support.npy`` for explicit out-of-scope examples). A head
is refused at load when it was trained on another model's vectors than the
running encoder's: its weights would silently mean nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from scipy.special import softmax
from sklearn.base import ClassifierMixin
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from engine.errors import ModelError
from engine.models.encoders import vector_space
from engine.models.head_arithmetic import (
    Proba,
    compile_proba,
    logits,
    numpy_form,
    probe_rows,
    standardise,
    svc_decision,
)
from engine.models.language_means import LanguageMeans

ACTIVE_FILE = "ACTIVE"
SUPPORT_FILE = "support.npy"
OOS_SUPPORT_FILE = "oos_support.npy"
SCOPE_NEIGHBOURS = 5
FALSE_REJECTION = 0.01
"""The share of held-out in-scope training tickets the out-of-scope rule rejects when it has no out-of-scope
examples: on the product path 0.7% of BANKING77's and 1.6% of CLINC150's in-scope test tickets."""
FALSE_REJECTION_WITH_EXAMPLES = 0.02
"""With out-of-scope examples the helpdesk has said what to refuse, and the rule's weights are chosen to catch
them: a larger budget buys recall where it was asked for."""
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




def log_probs(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs, 1e-12, None))




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
        return softmax(self.inverse_temperature * log_probs(probs), axis=1)

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
    # Unlabelled in-scope rows (KB article titles) at the end of support.npy (absent from older heads: 0).
    n_in_scope_unlabelled: int = 0
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
        self,
        estimator: ClassifierMixin,
        meta: HeadMeta,
        support: np.ndarray,
        oos_support: np.ndarray | None = None,
        language_means: LanguageMeans | None = None,
    ) -> None:
        self._estimator = estimator
        self.meta = meta
        # Set for a head trained on language-centred embeddings (engine/models/language_means.py).
        self.language_means = language_means
        self.support = support
        self.oos_support = oos_support if oos_support is not None else np.zeros((0, 0), np.float32)
        self.labels: tuple[str, ...] = tuple(str(c) for c in estimator.classes_)
        # Calibrated out-of-fold predictions of a freshly fitted head (not saved): eval reads them.
        self.held_out: HeldOut | None = None
        # Requests take the numpy form of the head where it matches scikit-learn (engine/models/head_arithmetic.py).
        self._fast = compile_proba(estimator, probe_rows(support, estimator.n_features_in_))
        # The scope rule's logit term (see max_logit); None for heads without a logistic regression.
        self.max_logit = max_logit(estimator)

    def features(self, embeddings: np.ndarray, languages: Sequence[str]) -> np.ndarray:
        """What this head reads for tickets with these embeddings in these languages: centred when it was trained
        centred, the embeddings themselves otherwise."""
        return embeddings if self.language_means is None else self.language_means.centre(embeddings, languages)

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
        if self.language_means is not None:
            self.language_means.save(folder)
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

        return cls(
            joblib.load(folder / "head.joblib"), meta, array(SUPPORT_FILE), array(OOS_SUPPORT_FILE),
            LanguageMeans.load(folder),
        )






@dataclass(frozen=True)
class HeldOut:
    """Out-of-fold predictions: every training example scored by a model that never saw it."""

    probs: np.ndarray  # uncalibrated
    near: np.ndarray  # neighbour similarity to the fold's training examples
    oos_probs: np.ndarray
    oos_near: np.ndarray
    logit: np.ndarray | None = None  # largest logistic-regression logit (see max_logit); None without one
    oos_logit: np.ndarray | None = None












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
