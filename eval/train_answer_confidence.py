"""Fit, calibrate and measure the answer-confidence model; write the shipped artefact and its figures.

Run from the repo root (full data, not part of CI):  .venv/bin/python -m eval.train_answer_confidence

Data: XQuAD questions against its 240 paragraphs, as ``eval.retrieval`` builds them: the English
paragraphs as KB for questions in every language (cross-lingual) and the paragraphs in the question's
own language (monolingual). A KB that holds every answer teaches nothing about questions it cannot
answer, so the 48 Wikipedia articles are split in two halves and each question is asked twice: once of
the KB holding its half (answerable unless retrieval fails) and once of the other (never answerable).
A hit is labelled 1 when it is the question's own paragraph. Features come from the product's own
Retriever (dense mode, the default), recorded through its ``confidence`` hook. Every question is asked twice
more: once ranked with the second view at the service's weight (``retrieval_second_view``, the default) and once
by e5 alone (``"none"``), so that one model is calibrated for either setting; figures are reported per view.

Splits, by Wikipedia article so that no topic is in two of them: ``fit`` (24 articles) trains a
standardised logistic regression, ``calibration`` (8) fits Platt scaling on its logit, both on questions
in en/de/es/ru only; ``test`` (16 articles) is reported per language, zh/ar/hi being languages the model
never saw. Decisions are scored at the service's ``thresholds.answer_confidence`` (routing policy) (0.5: a calibrated "more
likely than not", fixed before looking at any split); the accuracy-optimal cut on the calibration split is
reported beside it, as is the best cosine threshold there for comparison. A last check asks the shipped
Lumio KB questions it cannot answer (CLINC150 out-of-scope test queries, XQuAD test questions) and
counts how many would still be quoted as answers, by the model and by the old cosine rule (>= 0.83).

Writes engine/assets/answer-confidence-v1/{head.joblib,meta.json} and eval/results/answer_confidence.json.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

import joblib
import numpy as np
import sklearn
from rich.console import Console
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from engine.kb import load_kb
from engine.models.answer_confidence import FEATURES, META_FILE, MODEL_FILE, AnswerConfidence
from engine.models.registry import ModelRegistry
from engine.retrieve import Retriever, build_index
from engine.retrieve.retriever import WINDOW_WEIGHT, SearchFilter
from engine.route import load_policy
from engine.settings import Settings
from eval.cache import CachedEncoder, CachedSecondView, encode_cached
from eval.datasets import XQUAD_LANGS, clinc150, xquad, xquad_articles
from eval.metrics import expected_calibration_error
from eval.retrieval import pool_articles

RESULTS = Path(__file__).parent / "results" / "answer_confidence.json"
SEED = 13
TRAIN_LANGS = ("en", "de", "es", "ru")
SPLIT_SIZES = (("test", 16), ("calibration", 8), ("fit", 24))
TOP_K = 3
OLD_SIMILARITY_RULE = 0.83
HALVES = ("half-a", "half-b")


class Recorder:
    """A confidence model that keeps the features the retriever hands it and answers 0."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def probability(self, features: np.ndarray) -> np.ndarray:
        self.rows.append(features.copy())
        return np.zeros(len(features))


@dataclass
class Rows:
    """One row per retrieved hit."""

    x: np.ndarray
    label: np.ndarray
    rank: np.ndarray
    language: np.ndarray
    pool: np.ndarray
    split: np.ndarray
    view: np.ndarray

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))

    def where(self, mask: np.ndarray) -> Rows:
        return Rows(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def split_articles() -> tuple[dict[int, str], dict[int, str]]:
    """Each Wikipedia article's split and KB half (alternating within a split, so halves are alike)."""
    order = np.random.default_rng(SEED).permutation(max(xquad_articles()) + 1)
    split: dict[int, str] = {}
    half: dict[int, str] = {}
    start = 0
    for name, size in SPLIT_SIZES:
        for j, article in enumerate(order[start : start + size]):
            split[int(article)], half[int(article)] = name, HALVES[j % 2]
        start += size
    return split, half


def views(settings: Settings) -> dict[str, float]:
    """The second view's weight in each ranking the model must serve: the service's, and e5 alone."""
    return {"second": settings.retrieval_second_view_weight, "e5": 0.0}


def collect(registry: ModelRegistry, paragraphs: list[str], pool_language: str, pool: str,
            question_languages: list[str], root: Path) -> list[Rows]:
    """Build one pool, ask it each language's questions against both halves in both views, record every hit."""
    topic = xquad_articles()
    split, half = split_articles()
    second = second_view(registry)
    articles = [replace(a, product=half[topic[i]]) for i, a in enumerate(pool_articles(paragraphs, pool_language))]
    build_index(CachedEncoder(registry.encoder), articles, root, second=second)
    out = []
    for lang in question_languages:
        _, questions = xquad(lang)
        texts = [q for q, _ in questions]
        vectors = encode_cached(registry.encoder, texts)
        second_vectors = second.encode(texts)
        for (view, weight), kb_half in product(views(registry.settings).items(), HALVES):
            recorder = Recorder()
            retriever = Retriever(registry, root, mode="dense", confidence=recorder, second_view_weight=weight)
            hits = retriever.run(vectors, [lang] * len(texts), TOP_K, SearchFilter(products=frozenset({kb_half})),
                                 texts=texts, second_queries=second_vectors)
            labels, ranks, splits = [], [], []
            for row, (_, gold) in zip(hits, questions, strict=True):
                labels += [int(h.id == f"p{gold:03d}") for h in row]
                ranks += list(range(len(row)))
                splits += [split[topic[gold]]] * len(row)
            n = len(labels)
            out.append(Rows(np.concatenate(recorder.rows), np.array(labels), np.array(ranks),
                            np.array([lang] * n), np.array([pool] * n), np.array(splits), np.array([view] * n)))
    return out


def second_view(registry: ModelRegistry) -> CachedSecondView:
    """The second view the index and the "second" rankings read: the model is fitted for it on and off alike."""
    view = registry.retrieval_second_view
    if view is None:
        raise SystemExit("fit the answer-confidence model with retrieval_second_view on (the default)")
    return CachedSecondView(view)


def fit(train: Rows, calibration: Rows) -> LogisticRegression:
    """Standardised logistic regression, Platt-scaled on held-out articles, folded into one model over raw features."""
    base = make_pipeline(StandardScaler(), LogisticRegression(C=1.0))
    base.fit(train.x, train.label)
    logit = base.decision_function(calibration.x).reshape(-1, 1)
    platt = LogisticRegression(C=1e6).fit(logit, calibration.label)
    scaler, logreg = base[0], base[1]
    a, c = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    w = logreg.coef_[0] / scaler.scale_
    model = LogisticRegression()
    model.classes_ = np.array([0, 1])
    model.coef_ = (a * w).reshape(1, -1)
    model.intercept_ = np.array([a * (logreg.intercept_[0] - float(w @ scaler.mean_)) + c])
    model.n_features_in_ = len(FEATURES)
    return model


def ece(p: np.ndarray, y: np.ndarray) -> float:
    return expected_calibration_error(np.column_stack([1 - p, p]), y.astype(str), ["0", "1"])


def scores(p: np.ndarray, y: np.ndarray, similarity: np.ndarray, threshold: float, sim_threshold: float) -> dict:
    """Quality of P(top hit answers) against the truth, beside raw cosine similarity on the same queries."""
    both = len(set(y.tolist())) == 2
    return {
        "n": int(len(y)),
        "answerable_rate": round(float(y.mean()), 4),
        "auroc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "ece": round(ece(p, y), 4),
        "accuracy": round(float(((p >= threshold) == y).mean()), 4),
        "precision_when_answered": round(float(y[p >= threshold].mean()), 4) if (p >= threshold).any() else None,
        "recall_of_answerable": round(float((p[y == 1] >= threshold).mean()), 4) if (y == 1).any() else None,
        "similarity_auroc": round(float(roc_auc_score(y, similarity)), 4) if both else None,
        "similarity_accuracy_at_chosen": round(float(((similarity >= sim_threshold) == y).mean()), 4),
        "similarity_accuracy_at_0.83": round(float(((similarity >= OLD_SIMILARITY_RULE) == y).mean()), 4),
    }


def best_threshold(values: np.ndarray, y: np.ndarray) -> float:
    """The cut that classifies the calibration split best (ties: the lowest)."""
    candidates = np.unique(np.round(values, 3))
    accuracy = [((values >= t) == y).mean() for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def unanswerable_check(registry: ModelRegistry, model: AnswerConfidence, threshold: float, root: Path) -> dict:
    """Questions the shipped KB cannot answer: how many would a draft still quote?"""
    second = second_view(registry)
    build_index(CachedEncoder(registry.encoder), load_kb(registry.settings.kb_dir), root, second=second)
    retriever = Retriever(registry, root, mode="dense", confidence=model,
                          second_view_weight=registry.settings.retrieval_second_view_weight)
    topic = xquad_articles()
    split, _ = split_articles()
    sets = {"clinc150-oos-test-en": ([t for t, _ in clinc150("oos_test")], "en")}
    for lang in XQUAD_LANGS:
        _, questions = xquad(lang)
        sets[f"xquad-test-{lang}"] = ([q for q, gold in questions if split[topic[gold]] == "test"], lang)
    out = {}
    for name, (texts, lang) in sets.items():
        hits = retriever.run(encode_cached(registry.encoder, texts), [lang] * len(texts), 5, texts=texts,
                             second_queries=second.encode(texts))
        top = [row[0] for row in hits if row]
        out[name] = {
            "n": len(texts),
            "quoted_by_confidence": round(float(np.mean([h.answer_confidence >= threshold for h in top])), 4),
            "quoted_by_similarity_0.83": round(float(np.mean([h.similarity >= OLD_SIMILARITY_RULE for h in top])), 4),
            "mean_confidence": round(float(np.mean([h.answer_confidence for h in top])), 4),
        }
    texts = sets["clinc150-oos-test-en"][0][:200]
    vectors, second_vectors = encode_cached(registry.encoder, texts), second.encode(texts)
    for label, given in (("with_text", texts), ("without_text", None), ("with_text_again", texts)):
        started = time.perf_counter()
        for i in range(len(texts)):
            retriever.run(vectors[i : i + 1], ["en"], 5, texts=given[i : i + 1] if given else None,
                          second_queries=second_vectors[i : i + 1])
        out[f"retriever_ms_per_query_5_hits_{label}"] = round((time.perf_counter() - started) * 1000 / len(texts), 3)
    return out


def main() -> None:
    console = Console()
    settings = Settings()
    registry = ModelRegistry(settings)
    english, _ = xquad("en")
    parts: list[Rows] = []
    with tempfile.TemporaryDirectory() as tmp:
        parts += collect(registry, english, "en", "cross_lingual", list(XQUAD_LANGS), Path(tmp) / "x")
        for lang in XQUAD_LANGS[1:]:
            parts += collect(registry, xquad(lang)[0], lang, "monolingual", [lang], Path(tmp) / f"m-{lang}")
        rows = Rows.concat(parts)
        seen = np.isin(rows.language, TRAIN_LANGS)
        train, calibration = rows.where(seen & (rows.split == "fit")), rows.where(seen & (rows.split == "calibration"))
        model = fit(train, calibration)
        test = rows.where(rows.split == "test")
        probe = test.x[:: max(1, len(test.x) // 16)][:16]
        meta = {
            "name": "answer-confidence",
            "version": datetime.now(UTC).strftime("%Y%m%dT%H%M%S"),
            "kind": "logreg (standardised) + Platt scaling on held-out articles, folded into one logistic model",
            "features": list(FEATURES),
            "window_weight": WINDOW_WEIGHT,  # the similarity feature mixes section and window cosines by it
            "encoder_id": registry.encoder.id,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sklearn_version": sklearn.__version__,
            "probe": probe.tolist(),
        }
        confidence = AnswerConfidence(model, meta)
        top_cal = calibration.where(calibration.rank == 0)
        threshold = load_policy(settings.routing_file).thresholds.answer_confidence
        best_cut = best_threshold(confidence.probability(top_cal.x), top_cal.label)
        sim_threshold = best_threshold(top_cal.x[:, 0], top_cal.label)

        top = test.where(test.rank == 0)

        def report(r: Rows) -> dict:
            return scores(confidence.probability(r.x), r.label, r.x[:, 0], threshold, sim_threshold)

        def per_language(r: Rows) -> dict:
            return {
                pool: {lang: report(r.where((r.pool == pool) & (r.language == lang)))
                       for lang in XQUAD_LANGS if ((r.pool == pool) & (r.language == lang)).any()}
                for pool in ("cross_lingual", "monolingual")
            }

        results: dict = {
            "encoder": registry.encoder.id,
            "features": list(FEATURES),
            "weights": dict(zip(FEATURES, np.round(model.coef_[0], 4).tolist(), strict=True)),
            "bias": round(float(model.intercept_[0]), 4),
            "threshold": threshold,
            "accuracy_optimal_threshold_on_calibration": best_cut,
            "test_top1_accuracy_at_that_cut": round(
                float(((confidence.probability(top.x) >= best_cut) == top.label).mean()), 4
            ),
            "similarity_threshold_chosen_on_calibration": sim_threshold,
            "rows": {"fit": len(train.label), "calibration": len(calibration.label), "test": len(test.label)},
            "views": views(settings),
            "calibration_top1": report(top_cal),
            "test_top1_all": report(top),
            "test_every_hit_top3": report(test),
            "test_top1_all_by_view": {view: report(top.where(top.view == view)) for view in views(settings)},
            "test_top1": {view: per_language(top.where(top.view == view)) for view in views(settings)},
            "unanswerable_on_shipped_kb": unanswerable_check(registry, confidence, threshold, Path(tmp) / "kb"),
        }
    split, _ = split_articles()
    meta["metrics"] = {k: results[k] for k in ("test_top1_all", "calibration_top1", "unanswerable_on_shipped_kb")}
    meta["threshold"] = threshold
    meta["provenance"] = {
        "data": "shared/datasets/xquad (google-deepmind/xquad, CC BY-SA 4.0): questions and paragraphs",
        "script": "eval/train_answer_confidence.py",
        "seed": SEED,
        "fit_languages": list(TRAIN_LANGS),
        "views": views(settings),
        "articles": {name: sorted(a for a, s in split.items() if s == name) for name, _ in SPLIT_SIZES},
        "label": "a hit is positive when it is the question's own paragraph; each question is asked of a KB "
        "with and one without its Wikipedia article",
    }
    folder = settings.answer_confidence_model_dir
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / MODEL_FILE)
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    console.print_json(json.dumps({k: results[k] for k in ("weights", "threshold",
                                                           "test_top1_all", "unanswerable_on_shipped_kb")}))
    console.print(f"wrote {folder} and {RESULTS}")


if __name__ == "__main__":
    main()
