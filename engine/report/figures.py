"""The figures of an evaluation report: pure functions over (gold labels, triage result) pairs.

Nothing here triages, plots or writes: `sift eval` triages, ``engine/report/plots.py`` draws and
``engine/report/evaluation.py`` renders, so the bench can time these on 10,000 made-up results and a test can
check each figure by hand. Every figure is plain JSON (lists, dicts, numbers), the same the ``.json`` report holds
and ``--compare`` reads back.

A topic head that declines to choose (``label`` None) says the ticket is out of scope: it reads as the set's
out-of-scope label (``out_of_scope_label``, what `sift train` learns the rule from), right where the set says so.
An urgency head without an answer (a failed stage) counts wrong and shows in the confusion matrix's ``(none)``
column.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from engine.report.metrics import expected_calibration_error, ranking, reliability
from engine.types import Prediction, TriageResult

NONE = "(none)"
CURVE_POINTS = 101
"""Points kept of the risk-coverage curve: enough to draw it, few enough that a report of 10,000 tickets stays small."""
FIELDS = ("topic", "urgency", "language", "sentiment", "article")


@dataclass(frozen=True)
class Gold:
    """What the labelled set says of one ticket; None where it does not say."""

    topic: str | None = None
    urgency: str | None = None
    language: str | None = None
    sentiment: str | None = None
    article: str | None = None


def _r(x: float) -> float:
    return round(float(x), 4)


def classification(
    truth: Sequence[str], predictions: Sequence[Prediction | None], declined: str = NONE
) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1, the confusion matrix and the reliability diagram of one head.

    A prediction without a label reads as ``declined``.
    """
    predicted = [p.label if p is not None and p.label is not None else declined for p in predictions]
    confidence = [p.confidence if p is not None else 0.0 for p in predictions]
    correct = [p == t for p, t in zip(predicted, truth, strict=True)]
    classes = sorted(set(truth))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0.0
    )
    columns = classes + sorted(set(predicted) - set(classes) - {NONE}) + ([NONE] if NONE in predicted else [])
    matrix = confusion_matrix(truth, predicted, labels=columns)[: len(classes)]
    bins = reliability(confidence, correct)
    return {
        "n": len(truth),
        "declined_as": declined,
        "accuracy": _r(np.mean(correct)),
        "macro_f1": _r(np.mean(f1)),
        "per_class": [
            {"label": c, "precision": _r(p), "recall": _r(r), "f1": _r(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        ],
        "confusion": {"truth": classes, "predicted": columns, "matrix": matrix.tolist()},
        "ece": _r(expected_calibration_error(confidence, correct)),
        "reliability": [{k: _r(v) if isinstance(v, float) else v for k, v in asdict(b).items()} for b in bins],
    }


def risk_coverage(confidence: Sequence[float], correct: Sequence[bool], automated: Sequence[bool]) -> dict[str, Any]:
    """Error among the tickets handled automatically as that share grows, most confident first, and the policy's point.

    The curve is what any topic-confidence threshold would give; the operating point is what the routing policy
    did (``handoff.required`` False), which also hands off for risks and unanswered questions, so it may lie above
    or beside the curve. ``area`` is the mean risk over coverage (lower is better).
    """
    conf = np.asarray(confidence, dtype=np.float64)
    wrong = ~np.asarray(correct, dtype=bool)
    auto = np.asarray(automated, dtype=bool)
    n = len(conf)
    order = np.argsort(-conf, kind="stable")
    risk = np.cumsum(wrong[order]) / np.arange(1, n + 1)
    keep = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).round().astype(int))
    return {
        "curve": [[_r((i + 1) / n), _r(risk[i])] for i in keep],
        "area": _r(risk.mean()) if n else 0.0,
        "operating_point": {
            "coverage": _r(auto.mean()) if n else 0.0,
            "risk": _r(wrong[auto].mean()) if auto.any() else 0.0,
            "automated": int(auto.sum()),
        },
    }


def _accuracy_by(truth: Sequence[str], predicted: Sequence[str | None], groups: Sequence[str]) -> dict[str, Any]:
    right: defaultdict[str, list[bool]] = defaultdict(list)
    for t, p, g in zip(truth, predicted, groups, strict=True):
        right[g].append(p == t)
    every = [x for xs in right.values() for x in xs]
    return {
        "n": len(every),
        "accuracy": _r(np.mean(every)),
        "per_group": {g: {"n": len(xs), "accuracy": _r(np.mean(xs))} for g, xs in sorted(right.items())},
    }


def _primary(tag: str) -> str:
    return tag.strip().lower().replace("_", "-").split("-")[0]


def retrieval(gold: Sequence[str], results: Sequence[TriageResult]) -> dict[str, Any]:
    """recall@1, recall@5 and MRR of the gold article per detected language (what the retriever was asked in)."""
    by_language: defaultdict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(results):
        by_language[r.language.code].append(i)
    ranked = [[a.id for a in r.articles] for r in results]
    every = ranking(ranked, gold)
    return {
        "n": len(gold),
        **every,
        "per_language": {
            lang: {"n": len(ix), **ranking([ranked[i] for i in ix], [gold[i] for i in ix])}
            for lang, ix in sorted(by_language.items())
        },
    }


def latency(per_ticket_ms: Sequence[float], results: Sequence[TriageResult], batches: Sequence[int]) -> dict[str, Any]:
    """Per-ticket time (its batch's wall time over the batch's tickets), and each stage's share of it.

    A ticket's stage timings are its batch's, so a stage's time per ticket is the batch's over its size
    (``batches``: the size of each ticket's batch).
    """
    ms = np.asarray(per_ticket_ms, dtype=np.float64)
    stages: defaultdict[str, float] = defaultdict(float)
    for r, size in zip(results, batches, strict=True):
        for stage, t in r.timings_ms.items():
            stages[stage] += t / size
    return {
        "batch_size": max(batches),
        "mean_ms": _r(ms.mean()),
        "p50_ms": _r(np.percentile(ms, 50)),
        "p95_ms": _r(np.percentile(ms, 95)),
        "stages_mean_ms": {s: _r(t / len(results)) for s, t in sorted(stages.items(), key=lambda x: -x[1])},
    }


def models(results: Sequence[TriageResult]) -> dict[str, str | None]:
    """The head versions that answered (the most common one, should a reload land mid-run)."""
    out: dict[str, str | None] = {}
    for head in ("topic", "urgency"):
        versions = Counter(
            p.model_version for r in results if (p := getattr(r, head)) is not None and p.model_version
        )
        out[head] = versions.most_common(1)[0][0] if versions else None
    return out


def figures(
    gold: Sequence[Gold],
    results: Sequence[TriageResult],
    per_ticket_ms: Sequence[float],
    batches: Sequence[int],
    out_of_scope_label: str = "out_of_scope",
) -> dict[str, Any]:
    """Every figure the labelled set allows: a field no ticket labels is left out rather than reported empty.

    ``per_ticket_ms`` and ``batches`` are each ticket's share of its batch's wall time and its batch's size.
    """
    if not len(gold) == len(results) == len(per_ticket_ms) == len(batches):
        raise ValueError("gold labels, results and latencies must cover the same tickets")
    out: dict[str, Any] = {"tickets": len(results), "models": models(results)}
    automated = [not r.handoff.required for r in results]
    out["automated"] = _r(np.mean(automated)) if results else 0.0
    for head in ("topic", "urgency"):
        ix = [i for i, g in enumerate(gold) if getattr(g, head)]
        if ix:
            truth = [str(getattr(gold[i], head)) for i in ix]
            preds = [getattr(results[i], head) for i in ix]
            declined = (out_of_scope_label or NONE) if head == "topic" else NONE
            out[head] = classification(truth, preds, declined)
            if head == "topic":
                predicted = [p.label or declined for p in preds]
                out[head]["risk_coverage"] = risk_coverage(
                    [p.confidence for p in preds],
                    [p == t for p, t in zip(predicted, truth, strict=True)],
                    [automated[i] for i in ix],
                )
    ix = [i for i, g in enumerate(gold) if g.language]
    if ix:
        truth = [_primary(str(gold[i].language)) for i in ix]
        out["language"] = _accuracy_by(truth, [_primary(results[i].language.code) for i in ix], truth)
    ix = [i for i, g in enumerate(gold) if g.sentiment]
    if ix:
        predicted = [s.label if (s := results[i].sentiment) is not None else None for i in ix]
        out["sentiment"] = _accuracy_by(
            [str(gold[i].sentiment).strip().lower() for i in ix], predicted, [results[i].language.code for i in ix]
        )
    ix = [i for i, g in enumerate(gold) if g.article]
    if ix:
        out["retrieval"] = retrieval([str(gold[i].article) for i in ix], [results[i] for i in ix])
    if results:
        out["latency"] = latency(per_ticket_ms, results, batches)
    return out
