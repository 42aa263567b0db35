import numpy as np
import pandas as pd
import pytest

from core.monitoring.drift import drift_table, ks, psi


def test_psi_hand_value():
    ref = np.arange(10, dtype=float)          # deciles edges at 0.9, 1.8, ... -> one value per bin
    cur = np.array([0.0] * 5 + [9.0] * 5)      # half in the first bin, half in the last
    e = np.full(10, 0.1)
    a = np.array([0.5] + [1e-4] * 8 + [0.5])
    expected = float(np.sum((a - e) * np.log(a / e)))
    assert psi(ref, cur) == pytest.approx(expected)
    assert psi(ref, ref) == pytest.approx(0.0)


def test_psi_two_bins_by_hand():
    ref = [1.0, 2.0, 3.0, 4.0]  # median edge 2.5: shares 0.5 / 0.5
    cur = [1.0, 1.0, 1.0, 4.0]  # shares 0.75 / 0.25
    expected = (0.75 - 0.5) * np.log(0.75 / 0.5) + (0.25 - 0.5) * np.log(0.25 / 0.5)
    assert psi(ref, cur, bins=2) == pytest.approx(expected)


def test_ks_hand_value():
    stat, p = ks([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert stat == 1.0
    assert p == pytest.approx(0.1)  # exact two-sided p for n=m=3, D=1: 2 / C(6,3)


def test_drift_table_flags_shift_and_ignores_nan():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"same": rng.normal(size=2000), "shifted": rng.normal(size=2000)})
    cur = pd.DataFrame({"same": rng.normal(size=500), "shifted": rng.normal(1.0, 1, size=500)})
    cur.loc[0, "same"] = np.nan
    t = drift_table(ref, cur).set_index("feature")
    assert t.loc["shifted", "alert"] and t.loc["shifted", "psi"] > 0.2
    assert not t.loc["same", "alert"] and t.loc["same", "psi"] < 0.1
    assert t.loc["same", "n_recent"] == 499
    assert t.loc["shifted", "ks_pvalue"] < 1e-6


def test_empty_side_is_nan():
    assert np.isnan(psi([], [1.0]))
    with pytest.raises(ValueError):
        psi([1.0], [1.0], bins=1)
