"""Quality metrics shared by every eval script."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import binomtest


def expected_calibration_error(
    probs: np.ndarray, truth: Sequence[str], labels: Sequence[str], bins: int = 15
) -> float:
    """Top-label ECE with equal-width bins: how far stated confidence is from accuracy."""
    confidence = probs.max(axis=1)
    predicted = np.asarray(labels)[probs.argmax(axis=1)]
    correct = predicted == np.asarray(truth)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (confidence > lo) & (confidence <= hi)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def fewest_successes(n: int, rate: float, confidence: float = 0.95) -> int:
    """The fewest successes out of ``n`` whose one-sided Wilson lower bound on the rate is at least ``rate``.

    A threshold chosen on a finite validation split so that validation just meets a target promises less than
    that on test; requiring the lower bound to meet it keeps the target with the stated confidence.
    """
    level = 2 * confidence - 1  # a two-sided interval's lower end is a one-sided bound at (1 + level) / 2
    lo, hi = 0, n
    while lo < hi:  # the bound grows with the successes
        mid = (lo + hi) // 2
        if binomtest(mid, n).proportion_ci(confidence_level=level, method="wilson").low >= rate:
            hi = mid
        else:
            lo = mid + 1
    return lo
