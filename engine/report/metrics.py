"""Calibration and ranking measures, written once for `sift eval` and every eval script.

The figures a user's evaluation report shows and the ones eval/ writes to docs/results.md come from these
functions, so the two cannot drift apart in how a bin is cut or how a rank is counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BINS = 15


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width confidence bin: how many predictions fell in it, their mean confidence and their accuracy."""

    low: float
    high: float
    count: int
    confidence: float
    accuracy: float


def reliability(confidence: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> list[ReliabilityBin]:
    """The reliability diagram's non-empty bins, (low, high] each (a confidence of exactly 0 joins the first)."""
    conf = np.asarray(confidence, dtype=np.float64)
    right = np.asarray(correct, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        mask = (conf > lo) & (conf <= hi) if i else (conf >= lo) & (conf <= hi)
        if mask.any():
            out.append(
                ReliabilityBin(float(lo), float(hi), int(mask.sum()), float(conf[mask].mean()), float(right[mask].mean()))
            )
    return out


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> float:
    """Top-label ECE with equal-width bins: the count-weighted gap between stated confidence and accuracy."""
    n = len(confidence)
    if not n:
        return 0.0
    return float(sum(b.count / n * abs(b.accuracy - b.confidence) for b in reliability(confidence, correct, bins)))


def ranking(ranked: Sequence[Sequence[str]], gold: Sequence[str], mrr_depth: int = 10) -> dict[str, float]:
    """recall@1, recall@5 and MRR@``mrr_depth`` of the gold id in each ranked list of ids."""
    r1 = r5 = mrr = 0.0
    for ids, target in zip(ranked, gold, strict=True):
        ids = list(ids)
        if target in ids[:1]:
            r1 += 1
        if target in ids[:5]:
            r5 += 1
        if target in ids[:mrr_depth]:
            mrr += 1 / (ids.index(target) + 1)
    n = len(gold) or 1
    return {"recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4), f"mrr@{mrr_depth}": round(mrr / n, 4)}
