"""How well the KB-gap report's clustering groups questions that ask the same thing: CLINC150 intents.

Run from the repo root (full data, not part of CI):  .venv/bin/python -m eval.gap_clustering

A KB gap is a group of unanswered tickets asking one thing. CLINC150's in-scope queries
are real requests labelled with one of 150 intents, 20 per intent in validation and 30
in test: the report's own grouping (``group``: average linkage on cosine distance, the service's
encoder) should give one cluster per intent. The distance threshold with the best
adjusted Rand index on validation is chosen; test is only reported, with the
V-measure and the share of clusters of two or more queries that are pure (one intent
only) and of intents whose largest cluster holds at least half their queries.
Writes eval/results/gap_clustering.json.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.metrics import adjusted_rand_score, v_measure_score

from engine.models.registry import ModelRegistry
from engine.report.gaps import DISTANCE_THRESHOLD, group
from engine.settings import Settings
from eval.cache import encode_cached
from eval.datasets import clinc150

RESULTS = Path(__file__).parent / "results" / "gap_clustering.json"
THRESHOLDS = (0.08, 0.10, 0.12, 0.14, 0.16, 0.18, 0.20)


def score(vectors: np.ndarray, labels: list[str], threshold: float) -> dict[str, float]:
    clusters = group(vectors, threshold)
    members: dict[int, list[str]] = {}
    for cluster, label in zip(clusters.tolist(), labels, strict=True):
        members.setdefault(cluster, []).append(label)
    groups = [m for m in members.values() if len(m) > 1]
    pure = sum(len(set(m)) == 1 for m in groups) / max(1, len(groups))
    per_intent = Counter(labels)
    largest: dict[str, int] = {}
    for m in members.values():
        for label, n in Counter(m).items():
            largest[label] = max(largest.get(label, 0), n)
    kept = sum(largest[label] * 2 >= n for label, n in per_intent.items()) / len(per_intent)
    return {
        "threshold": threshold,
        "clusters": len(members),
        "adjusted_rand": round(float(adjusted_rand_score(labels, clusters)), 4),
        "v_measure": round(float(v_measure_score(labels, clusters)), 4),
        "pure_groups": round(pure, 4),
        "intents_mostly_together": round(kept, 4),
    }


def main() -> None:
    console = Console()
    registry = ModelRegistry(Settings())
    splits = {name: clinc150(name) for name in ("val", "test")}
    vectors = {name: encode_cached(registry.encoder, [t for t, _ in rows]) for name, rows in splits.items()}
    labels = {name: [label for _, label in rows] for name, rows in splits.items()}
    sweep = [score(vectors["val"], labels["val"], t) for t in THRESHOLDS]
    for row in sweep:
        console.print(row)
    best = max(sweep, key=lambda r: r["adjusted_rand"])
    test = {t: score(vectors["test"], labels["test"], t) for t in sorted({best["threshold"], DISTANCE_THRESHOLD})}
    console.print("test", test)
    RESULTS.write_text(json.dumps({
        "encoder": registry.encoder.id, "chosen_on_validation": best["threshold"], "report_default": DISTANCE_THRESHOLD,
        "validation": sweep, "test": list(test.values()),
    }, indent=2))
    console.print(f"chose {best['threshold']} on validation; the report's default is {DISTANCE_THRESHOLD}; wrote {RESULTS}")


if __name__ == "__main__":
    main()
