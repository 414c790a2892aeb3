"""Quality metrics shared by every eval script."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
