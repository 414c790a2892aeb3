"""The measures eval scripts share: the paired comparison of eval/encoder_backends.py, ECE."""

from __future__ import annotations

import numpy as np
import pytest

from eval.metrics import expected_calibration_error, paired_difference


def test_identical_outcomes_have_no_difference_and_no_evidence() -> None:
    right = np.array([True, False, True, True])
    assert paired_difference(right, right) == {
        "difference_points": 0.0, "ci95_points": [0.0, 0.0], "gained": 0, "lost": 0, "mcnemar_p": 1.0,
    }


def test_balanced_churn_is_not_significant_even_when_many_items_move() -> None:
    rng = np.random.default_rng(3)
    before = rng.random(870) < 0.65
    after = before.copy()
    after[np.flatnonzero(before)[:30]] = False  # 60 items change sides, as many each way
    after[np.flatnonzero(~before)[:30]] = True
    result = paired_difference(before, after)
    assert (result["gained"], result["lost"], result["difference_points"]) == (30, 30, 0.0)
    assert result["mcnemar_p"] > 0.05
    low, high = result["ci95_points"]
    assert low < 0 < high


def test_one_sided_loss_is_significant_and_its_interval_excludes_zero() -> None:
    before = np.ones(500, dtype=bool)
    after = before.copy()
    after[:20] = False  # 20 items lost, none gained: 4 points
    result = paired_difference(before, after)
    assert result["difference_points"] == -4.0
    assert (result["gained"], result["lost"]) == (0, 20)
    assert result["mcnemar_p"] < 1e-5
    assert result["ci95_points"][1] < 0


def test_outcomes_must_cover_the_same_items() -> None:
    with pytest.raises(ValueError, match="same items"):
        paired_difference(np.ones(3, bool), np.ones(4, bool))


def test_eval_ece_is_the_reports_ece_of_the_top_label() -> None:
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.45, 0.55], [0.45, 0.55]])
    # top labels a, a, b, b at 0.95, 0.95, 0.55, 0.55; right, wrong, right, right
    assert expected_calibration_error(probs, ["a", "b", "b", "b"], ["a", "b"], bins=10) == pytest.approx(0.45)
