"""eval/gap_removal.py's reading of why one article's questions form several gaps."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from engine.report.gaps import SectionVectors
from eval.gap_removal import split_pairs


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_split_pairs_compares_one_articles_gaps_with_two_articles_gaps() -> None:
    """Two gaps about article a (near each other) and one about b: one split pair, two pairs of two articles,
    and only the split pair is as close as the split median."""
    axes = np.eye(4, dtype=np.float32)
    full = SectionVectors(["a", "b", "c", "d"], axes)
    present = SectionVectors(["b", "c", "d"], axes[1:])
    gaps = [SimpleNamespace(centroid=c) for c in (_unit(1, 0.1, 0, 0), _unit(1, 0, 0.1, 0), _unit(0, 1, 0, 0.2))]
    figures = split_pairs(gaps, full, present)
    assert figures["split"] == 1 and figures["two_articles"] == 2
    assert figures["two_articles_closer_than_split_median"] == 0
    assert figures["two_articles_min_distance"] > figures["split_median_distance"]
