"""eval/policy_coverage.py's curve and its choice of unseen Bitext rows: no model; the rows need the data sets."""

from __future__ import annotations

from engine.route.simulate import Truth
from engine.settings import Settings
from eval.policy_coverage import curve
from tests.conftest import require_datasets
from tests.route.test_simulate import state


def test_the_curve_finds_the_coverage_that_keeps_97_percent_right() -> None:
    # 100 tickets: the 80 most confident right, the 20 least confident wrong (10 of them out of scope).
    confidences = [0.99 - i * 0.009 for i in range(100)]
    states = [state("delivery", c) for c in confidences]
    truths = [Truth("delivery") if i < 80 else Truth("returns" if i < 90 else "out_of_scope") for i in range(100)]
    result = curve(states, truths, Settings())
    best = result["max_coverage_at_97_accuracy"]
    assert best["accuracy"] >= 0.97 and 0.8 <= best["coverage"] <= 0.83
    assert result["at_80_coverage"]["coverage"] >= 0.8 and result["meets_goal_at_80_coverage"]
    coverages = [p["coverage"] for p in result["curve"]]
    assert coverages == sorted(coverages, reverse=True) and len(coverages) == 100
    assert result["shipped"]["topic_confidence"] == 0.55


def test_the_risk_heads_bitext_rows_are_left_out() -> None:
    require_datasets()
    from eval.datasets import bitext
    from eval.policy_coverage import risk_training_texts

    seen = risk_training_texts()
    human = {t for t, y in bitext() if y == "contact_human_agent"}
    assert len(seen & human) == 80  # eval/train_risk.py's PER_RISK_INTENT * 2
