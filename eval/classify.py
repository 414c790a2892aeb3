"""Topic-head figures on public intent data: accuracy, macro-F1, calibration, out-of-scope.

Run from the repo root (full data, not part of CI; ~10 min on 2 cores the first time,
embeddings are cached in eval/.cache afterwards):

    .venv/bin/python -m eval.classify [--kind logreg+knn] [--c 0.1]

Writes eval/results/classify.json. Thresholds are chosen on validation data only.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.metrics import accuracy_score, f1_score

from engine.models.heads import fit_head, scope_scores
from engine.models.registry import ModelRegistry
from engine.settings import Settings
from eval.cache import encode_cached
from eval.datasets import banking77, clinc150
from eval.metrics import expected_calibration_error

RESULTS = Path(__file__).parent / "results" / "classify.json"


def evaluate(head_probs: np.ndarray, labels: tuple[str, ...], truth: list[str]) -> dict[str, float]:
    pred = np.asarray(labels)[head_probs.argmax(axis=1)]
    return {
        "accuracy": round(float(accuracy_score(truth, pred)), 4),
        "macro_f1": round(float(f1_score(truth, pred, average="macro")), 4),
        "ece": round(expected_calibration_error(head_probs, truth, labels), 4),
    }


def run_banking77(encoder, kind: str, c: float, console: Console) -> dict[str, object]:  # type: ignore[no-untyped-def]
    train_t, train_y = banking77("train")
    test_t, test_y = banking77("test")
    start = time.perf_counter()
    x_train = encode_cached(encoder, train_t)
    encode_s = time.perf_counter() - start
    x_test = encode_cached(encoder, test_t)
    start = time.perf_counter()
    head = fit_head("topic", x_train, train_y, train_t, encoder.id, kind=kind, c=c)
    fit_s = time.perf_counter() - start
    full = evaluate(head.predict_proba(x_test), head.labels, test_y)
    console.print("banking77 full", full, f"fit {fit_s:.0f}s")

    per_class: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(train_y):
        per_class[label].append(i)
    rng = random.Random(0)
    few = [i for rows in per_class.values() for i in rng.sample(rows, 10)]
    few_head = fit_head("topic", x_train[few], [train_y[i] for i in few], [train_t[i] for i in few], encoder.id,
                        kind=kind, c=c)
    few_shot = evaluate(few_head.predict_proba(x_test), few_head.labels, test_y)
    console.print("banking77 10-shot", few_shot)
    return {
        "test": full,
        "few_shot_10": few_shot,
        "fit_seconds": round(fit_s, 1),
        "encode_seconds_uncached": round(encode_s, 1) if encode_s > 5 else None,
        "train_size": len(train_t),
    }


def run_clinc150(encoder, kind: str, c: float, console: Console) -> dict[str, object]:  # type: ignore[no-untyped-def]
    train = clinc150("train")
    val, val_oos = clinc150("val"), clinc150("oos_val")
    test, test_oos = clinc150("test"), clinc150("oos_test")
    x_train = encode_cached(encoder, [t for t, _ in train])
    head = fit_head("topic", x_train, [y for _, y in train], [t for t, _ in train], encoder.id, kind=kind, c=c)

    def scores(rows: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = encode_cached(encoder, [t for t, _ in rows])
        probs = head.predict_proba(x)
        # The product's out-of-scope signal (similarity to the nearest training examples) and the head's confidence.
        return probs, scope_scores(x, head.support), probs.max(axis=1)

    val_probs, val_scope, val_conf = scores(val)
    _, val_oos_scope, val_oos_conf = scores(val_oos)
    test_probs, test_scope, test_conf = scores(test)
    _, test_oos_scope, test_oos_conf = scores(test_oos)
    val_correct = np.asarray(head.labels)[val_probs.argmax(axis=1)] == np.asarray([y for _, y in val])
    truth = np.asarray([y for _, y in test])
    test_correct = np.asarray(head.labels)[test_probs.argmax(axis=1)] == truth

    def pick_threshold(in_scores: np.ndarray, oos_scores: np.ndarray) -> tuple[float, float]:
        """On validation only: the highest OOS recall that keeps in-scope accuracy >= 0.93."""
        best: tuple[float, float] | None = None
        for threshold in np.unique(np.concatenate([in_scores, oos_scores])):
            if (val_correct & (in_scores >= threshold)).mean() >= 0.93:
                recall = float((oos_scores < threshold).mean())
                if best is None or recall > best[1]:
                    best = (float(threshold), recall)
        return best if best else (float(in_scores.min()), 0.0)

    variants = {}
    # alpha weighs the head's confidence against neighbour similarity; chosen on validation too.
    for alpha in (0.0, 0.02, 0.05, 0.1, 0.2):
        threshold, val_recall = pick_threshold(val_scope + alpha * val_conf, val_oos_scope + alpha * val_oos_conf)
        accepted = test_scope + alpha * test_conf >= threshold
        variants[alpha] = {
            "alpha": alpha,
            "threshold_from_val": round(threshold, 5),
            "val_oos_recall": round(val_recall, 4),
            "oos_recall_test": round(float((test_oos_scope + alpha * test_oos_conf < threshold).mean()), 4),
            "in_scope_accuracy_with_oos_rejection": round(float((test_correct & accepted).mean()), 4),
        }
    chosen = max(variants.values(), key=lambda v: (v["val_oos_recall"], -v["alpha"]))
    result = {
        "in_scope_test": evaluate(test_probs, head.labels, list(truth)),
        "oos_chosen_on_val": chosen,
        "oos_variants": list(variants.values()),
        "default_scope_rule": {
            "oos_recall_test": round(float((test_oos_scope < head.meta.scope_threshold).mean()), 4),
            "in_scope_rejected_test": round(float((test_scope < head.meta.scope_threshold).mean()), 4),
        },
    }
    console.print("clinc150", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", default="logreg+knn")
    parser.add_argument("--c", type=float, default=0.1)
    args = parser.parse_args()
    console = Console()
    encoder = ModelRegistry(Settings()).encoder
    results = {
        "encoder": encoder.id,
        "head": {"kind": args.kind, "c": args.c},
        "banking77": run_banking77(encoder, args.kind, args.c, console),
        "clinc150": run_clinc150(encoder, args.kind, args.c, console),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
