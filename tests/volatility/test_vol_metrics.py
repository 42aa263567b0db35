"""QLIKE / MSE / Mincer-Zarnowitz hand values, Diebold-Mariano and MCS behaviour."""

import math

import numpy as np
import pandas as pd
import pytest

from core.volatility.evaluate import dm_test, mcs_members, mse, mz_r2, qlike


def test_qlike_hand_values():
    # y/f - log(y/f) - 1
    assert qlike([2.0], [1.0])[0] == pytest.approx(2 - math.log(2) - 1)
    assert qlike([1.0], [2.0])[0] == pytest.approx(0.5 - math.log(0.5) - 1)
    assert qlike([3.0], [3.0])[0] == 0.0
    # asymmetric: under-prediction costs more than over-prediction by the same factor
    assert qlike([2.0], [1.0])[0] > qlike([1.0], [2.0])[0]
    assert np.isnan(qlike([0.0], [1.0])[0]) and np.isnan(qlike([1.0], [0.0])[0])


def test_mse_hand_value():
    assert mse([1.0, 3.0], [2.0, 1.0]).tolist() == [1.0, 4.0]


def test_mz_r2_hand_values():
    f = np.array([1.0, 2.0, 3.0, 4.0])
    assert mz_r2(2 * f + 1, f) == pytest.approx(1.0)  # exact linear relation
    y = np.array([1.0, 3.0, 2.0, 4.0])
    # R² of y on f = corr(y, f)² = 0.8² here
    assert mz_r2(y, f) == pytest.approx(np.corrcoef(y, f)[0, 1] ** 2)
    assert mz_r2(y, f) == pytest.approx(0.64)
    assert math.isnan(mz_r2(y, np.ones(4)))


def test_dm_sign_and_power():
    rng = np.random.default_rng(0)
    base = rng.gamma(2.0, 1.0, 2000)
    better = base - 0.3 + rng.normal(0, 0.2, 2000)
    stat, p = dm_test(better, base, horizon=5)
    assert stat < 0 and p < 1e-6
    stat, p = dm_test(base + rng.normal(0, 0.2, 2000), base, horizon=1)
    assert p > 0.01


def test_mcs_drops_a_clearly_worse_model():
    rng = np.random.default_rng(1)
    a = rng.gamma(2.0, 1.0, 1500)
    losses = pd.DataFrame({"good": a, "also_good": a + rng.normal(0, 0.05, 1500),
                           "bad": a + 1.0})
    members = mcs_members(losses, reps=200, seed=0)
    assert "bad" not in members and "good" in members
