"""How fit_head chooses the logistic regression's C: cross-validation within the training data, never stronger
than needed."""

from __future__ import annotations

import numpy as np
import pytest

from engine.training.fit import LOGREG_C_FACTORS, choose_logreg_c


def test_a_set_the_setting_already_suits_keeps_the_setting() -> None:
    # Every C classifies two well-separated clusters perfectly: a tie keeps the setting's C, so large clean sets
    # (BANKING77, CLINC150) train the head they trained before.
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (40, 20)) + 5, rng.normal(0, 1, (40, 20)) - 5])
    y = np.array(["a"] * 40 + ["b"] * 40)
    assert choose_logreg_c(x, y, folds=5, seed=0, c=0.1) == 0.1


def test_few_noisy_examples_get_stronger_regularisation() -> None:
    # A weak signal spread over 100 dimensions, a quarter of the labels flipped, 120 examples (a fixed draw): the
    # setting's C fits the flipped labels, and the folds say so.
    rng = np.random.default_rng(0)
    y = np.array(["a", "b"] * 60)
    x = rng.normal(0, 1, (120, 100)) + np.where(y == "a", 0.1, -0.1)[:, None]
    y = np.where(rng.random(120) < 0.25, np.where(y == "a", "b", "a"), y)
    chosen = choose_logreg_c(x, y, folds=5, seed=0, c=0.1)
    assert chosen == pytest.approx(0.1 * min(LOGREG_C_FACTORS))
