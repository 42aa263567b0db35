"""Rule signals: hand-made crosses, values in {-1, 0, +1}, bars <= t only, and the signal
edge table (planted edge found, random events get "no measurable edge")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import load_bundled
from core.strategy import indicators as ind
from core.strategy.rules import (
    SIGNALS,
    compute_signal,
    ma_cross_signal,
    rsi_signal,
    signal_edge_table,
    signal_names,
)
from tests.conftest import synthetic_ohlcv


@pytest.fixture(scope="module")
def msft() -> pd.DataFrame:
    return load_bundled("MSFT")


def _frame(close) -> pd.DataFrame:
    c = np.asarray(close, dtype=float)
    idx = pd.bdate_range("2020-01-01", periods=len(c), tz="UTC", name="timestamp")
    return pd.DataFrame({"open": c, "high": c * 1.001, "low": c * 0.999, "close": c,
                         "volume": 1000.0}, index=idx)


def test_ma_cross_by_hand():
    # falls for 10 bars, then rises: SMA(2) crosses above SMA(4) once, on a known bar
    close = [20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 12, 14, 17, 21]
    f = _frame(close)
    s = ma_cross_signal(f, fast=2, slow=4).to_numpy()
    fast = pd.Series(close, dtype=float).rolling(2).mean().to_numpy()
    slow = pd.Series(close, dtype=float).rolling(4).mean().to_numpy()
    t = int(np.flatnonzero((fast > slow) & (np.roll(fast, 1) <= np.roll(slow, 1)))[0])
    assert t == 11 and s[t] == 1 and (s != 0).sum() == 1


def test_rsi_events_fire_on_the_crossing_bar(msft):
    s = rsi_signal(msft).to_numpy()
    r = ind.rsi(msft)["rsi_14"].to_numpy()
    up = np.flatnonzero(s == 1)
    assert len(up) > 10
    assert (r[up] < 30).all() and (r[up - 1] >= 30).all()
    dn = np.flatnonzero(s == -1)
    assert (r[dn] > 70).all() and (r[dn - 1] <= 70).all()


def test_every_signal_in_range_and_uses_bars_up_to_t_only(msft):
    t = 2000
    altered = msft.copy()
    later = altered.index > altered.index[t]
    for col in ("open", "high", "low", "close"):
        altered.loc[later, col] *= np.linspace(0.5, 2.0, later.sum())
    for name in [*SIGNALS, "pattern:engulfing_bullish", "pattern:hammer"]:
        a = compute_signal(msft, name).to_numpy()
        b = compute_signal(altered, name).to_numpy()
        assert set(np.unique(a)) <= {-1, 0, 1}, name
        np.testing.assert_array_equal(a[:t + 1], b[:t + 1], err_msg=name)


def test_truncated_history_gives_same_signals(msft):
    for name in SIGNALS:
        full = compute_signal(msft, name).to_numpy()
        for t in (250, 1200):
            assert compute_signal(msft.iloc[:t + 1], name).iloc[-1] == full[t], (name, t)


def test_unknown_signal_and_parameter(msft):
    with pytest.raises(ValueError, match="unknown signal 'rsx'"):
        compute_signal(msft, "rsx")
    with pytest.raises(ValueError, match="no parameter lenght"):
        compute_signal(msft, "rsi", {"lenght": 3})
    with pytest.raises(ValueError, match="whole number"):
        compute_signal(msft, "rsi", {"period": 14.5})
    assert "pattern:hammer" in signal_names()


def test_edge_table_finds_a_planted_edge_and_not_a_random_one(monkeypatch):
    f = synthetic_ohlcv(1500, seed=3)
    fwd5 = (np.log(f["close"]).shift(-5) - np.log(f["close"])).to_numpy()
    planted = np.zeros(len(f), dtype="int8")
    planted[np.flatnonzero(fwd5 > 0.02)[:60]] = 1            # longs placed with hindsight
    planted[np.flatnonzero(fwd5 < -0.02)[:60]] = -1          # shorts likewise
    rnd = np.zeros(len(f), dtype="int8")
    rng = np.random.default_rng(1)
    rnd[rng.choice(np.arange(30, 1400), 80, replace=False)] = rng.choice([-1, 1], 80)
    fake = {"planted": planted, "random": rnd}
    from core.strategy import rules
    monkeypatch.setitem(rules.SIGNALS, "planted", rules.SignalDef(
        lambda fr: pd.Series(fake["planted"], index=fr.index), {}, "planted"))
    monkeypatch.setitem(rules.SIGNALS, "random", rules.SignalDef(
        lambda fr: pd.Series(fake["random"], index=fr.index), {}, "random"))
    t = signal_edge_table(f, ["planted", "random"], n_boot=500)
    assert t.loc["planted", "edge_5"] and t.loc["planted", "ret_lo_5"] > t.loc["planted", "base_ret_5"]
    assert t.loc["planted", "hit_5"] == 1.0  # shorts count a fall as a success
    assert t.loc["planted", "verdict"].startswith("better than base")
    assert t.loc["random", "verdict"] == "no measurable edge"
    assert t.loc["planted", "long"] == 60 and t.loc["planted", "short"] == 60
    assert {"ret_1", "ret_20", "base_hit_20"} <= set(t.columns)


def test_edge_table_on_real_history(msft):
    t = signal_edge_table(msft, n_boot=300)
    assert list(t.index) == list(SIGNALS)
    assert (t["occurrences"] == t["long"] + t["short"]).all()
    # golden/death crosses alternate, so they come in near-equal numbers
    assert abs(t.loc["ma_cross", "long"] - t.loc["ma_cross", "short"]) <= 1
    ok = t["verdict"].str.match(r"^(too few cases|no measurable edge|(better|worse) than base)")
    assert ok.all(), t["verdict"]
    for h in (1, 5, 20):  # the verdict follows the CIs: no edge <=> every CI holds its base
        straddle = (t[f"ret_lo_{h}"] <= t[f"base_ret_{h}"]) & (t[f"ret_hi_{h}"] >= t[f"base_ret_{h}"]) \
            & (t[f"hit_lo_{h}"] <= t[f"base_hit_{h}"]) & (t[f"hit_hi_{h}"] >= t[f"base_hit_{h}"])
        assert (straddle == ~t[f"edge_{h}"]).all()
