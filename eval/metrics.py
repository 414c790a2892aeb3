"""Quality metrics shared by every eval script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import binomtest, bootstrap

from engine.report.metrics import BINS
from engine.report.metrics import expected_calibration_error as calibration_error


def expected_calibration_error(
    probs: np.ndarray, truth: Sequence[str], labels: Sequence[str], bins: int = BINS
) -> float:
    """Top-label ECE of class probabilities, binned as `sift eval`'s reliability diagram bins them."""
    predicted = np.asarray(labels)[probs.argmax(axis=1)]
    return calibration_error(probs.max(axis=1), predicted == np.asarray(truth), bins)


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


def paired_difference(base: Sequence[bool], other: Sequence[bool], resamples: int = 2000) -> dict[str, Any]:
    """``other`` minus ``base`` on the same items (True: answered right), in points, with its uncertainty.

    A point of accuracy on 870 tweets is nine items changing sides, and two encoders that differ only in
    rounding move borderline items both ways. Whether a difference is more than that churn depends on how
    many items changed at all, which is what McNemar's exact test counts (a binomial test on the items
    only one of the two got right); the interval is a paired bootstrap over items.
    """
    right_before, right_after = np.asarray(base, dtype=bool), np.asarray(other, dtype=bool)
    if right_before.shape != right_after.shape or right_before.ndim != 1:
        raise ValueError("both outcome vectors must be flat and cover the same items")
    gained = int(np.sum(right_after & ~right_before))
    lost = int(np.sum(right_before & ~right_after))
    p_value = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
    change = right_after.astype(np.float64) - right_before.astype(np.float64)
    if gained + lost:
        interval = bootstrap(
            (change,), np.mean, n_resamples=resamples, method="percentile", random_state=np.random.default_rng(0)
        ).confidence_interval
        low, high = float(interval.low), float(interval.high)
    else:
        low = high = 0.0
    return {
        "difference_points": round(100 * float(change.mean()), 2),
        "ci95_points": [round(100 * low, 2), round(100 * high, 2)],
        "gained": gained,
        "lost": lost,
        "mcnemar_p": round(float(p_value), 4),
    }
