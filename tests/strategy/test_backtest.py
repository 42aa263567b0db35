"""Backtest bookkeeping against a hand computation with costs (a long reversed into a short,
the short stopped inside a bar, a long stopped by a gap through its stop), max holding,
buy-and-hold, metrics, and a walk-forward that tunes nothing on test bars."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import load_bundled
from core.strategy import rules
from core.strategy.backtest import backtest, performance, walk_forward_backtest
from core.strategy.spec import load_strategy, parse_strategy

BARS = [  # open, high, low, close
    (100, 101, 99, 100),    # 0
    (100, 102, 99, 101),    # 1  signal +1 at the close; true range 3
    (102, 104, 101, 103),   # 2  long fills at the open
    (103, 105, 102, 104),   # 3  signal -1 at the close; true range 3
    (104, 106, 103, 105),   # 4  long exits, short opens at the open (reverse)
    (108, 111, 107, 110),   # 5  high 111 >= short stop: out at max(open, stop) = stop
    (110, 111, 109, 110),   # 6  signal +1 at the close; true range 2
    (110, 111, 109.5, 110.5),  # 7  long fills at the open
    (100, 101, 99, 100),    # 8  gaps below the stop: out at min(open, stop) = open
    (100, 101, 99, 100),    # 9  last bar
]
SIGNAL = [0, 1, 0, -1, 0, 0, 1, 0, 0, 0]


def _frame(bars=BARS):
    a = np.array(bars, dtype=float)
    idx = pd.bdate_range("2024-01-01", periods=len(a), tz="UTC", name="timestamp")
    return pd.DataFrame({"open": a[:, 0], "high": a[:, 1], "low": a[:, 2], "close": a[:, 3],
                         "volume": 1e6}, index=idx)


@pytest.fixture
def fake_signal(monkeypatch):
    monkeypatch.setitem(rules.SIGNALS, "fake", rules.SignalDef(
        lambda fr: pd.Series(np.array(SIGNAL[:len(fr)], dtype="int8"), index=fr.index), {}))


def _spec(extra: str = "", side: str = "both") -> str:
    return f"""
name = "hand"
side = "{side}"
[entry]
signals = ["fake"]
[exit]
stop_atr = 2.0
atr_period = 1
{extra}
[sizing]
fraction = 0.5
[costs]
commission_bp = 10
spread_bp = 20
slippage_bp = 5
"""


def test_hand_computed_trades_with_costs(fake_signal):
    spec = parse_strategy(_spec())
    res = backtest(_frame(), spec, initial_equity=1000.0)
    c, fee = 0.0015, 0.001          # price concession (10 + 5 bp) and commission per fill
    cash = 1000.0
    # trade 1: long at bar 2's open, stop 2 x TR(bar 1) = 6 below the fill
    f1 = 102 * (1 + c)
    u1 = 0.5 * cash / f1
    cash -= u1 * f1 * (1 + fee)
    x1 = 104 * (1 - c)              # reversed at bar 4's open
    cash += u1 * x1 * (1 - fee)
    pnl1 = u1 * (x1 - f1) - u1 * f1 * fee - u1 * x1 * fee
    # trade 2: short at bar 4's open, stop 2 x TR(bar 3) = 6 above the fill
    f2 = 104 * (1 - c)
    u2 = -0.5 * cash / f2
    cash -= u2 * f2 + abs(u2 * f2) * fee
    stop2 = f2 + 6.0
    x2 = max(108, stop2) * (1 + c)  # bar 5: high 111 >= stop 109.844 -> out at the stop
    cash += u2 * x2 - abs(u2 * x2) * fee
    pnl2 = u2 * (x2 - f2) - abs(u2 * f2) * fee - abs(u2 * x2) * fee
    # trade 3: long at bar 7's open, stop 2 x TR(bar 6) = 4 below; bar 8 opens at 100 < stop
    f3 = 110 * (1 + c)
    u3 = 0.5 * cash / f3
    cash -= u3 * f3 * (1 + fee)
    stop3 = f3 - 4.0
    x3 = min(100, stop3) * (1 - c)
    cash += u3 * x3 * (1 - fee)
    pnl3 = u3 * (x3 - f3) - u3 * f3 * fee - u3 * x3 * fee

    t = res.trades
    assert list(t["side"]) == [1, -1, 1]
    assert list(t["exit_reason"]) == ["reverse", "stop", "stop"]
    np.testing.assert_allclose(t["entry_price"], [f1, f2, f3], rtol=1e-12)
    np.testing.assert_allclose(t["exit_price"], [x1, x2, x3], rtol=1e-12)
    np.testing.assert_allclose(t["units"], [u1, u2, u3], rtol=1e-12)
    np.testing.assert_allclose(t["pnl"], [pnl1, pnl2, pnl3], rtol=1e-10)
    assert list(t["bars_held"]) == [3, 2, 2]
    assert t["exit_time"].iloc[1] == res.equity.index[5]
    assert res.equity.iloc[-1] == pytest.approx(cash, rel=1e-12)
    assert res.equity.iloc[-1] == pytest.approx(1000 + t["pnl"].sum(), rel=1e-12)
    # marked to market at bar 3's close while long: cash after entry + units x close
    assert res.equity.iloc[3] == pytest.approx(1000 - u1 * f1 * (1 + fee) + u1 * 104, rel=1e-12)
    assert pnl2 < 0 and pnl3 < 0 and t["costs"].gt(0).all()
    # exposure: in the market at the closes of bars 2, 3, 4, 7 -> 4 of 10
    assert res.metrics["exposure"] == pytest.approx(0.4)
    assert res.metrics["n_trades"] == 3 and res.metrics["hit_rate"] == pytest.approx(1 / 3)


def test_buy_and_hold_beside_it(fake_signal):
    res = backtest(_frame(), parse_strategy(_spec()), initial_equity=1000.0)
    units = 1000 / (100 * 1.0015 * 1.001)   # all cash in at bar 1's open (100), with costs
    assert res.benchmark.iloc[0] == 1000.0
    assert res.benchmark.iloc[1] == pytest.approx(units * 101)
    assert res.benchmark.iloc[-1] == pytest.approx(units * 100 * 0.9985 * 0.999)
    assert res.benchmark_metrics["total_return"] == pytest.approx(
        units * 100 * 0.9985 * 0.999 / 1000 - 1)
    assert res.benchmark_metrics["exposure"] == 1.0


def test_long_only_ignores_shorts_and_max_hold_exits(fake_signal):
    spec = parse_strategy(_spec("max_hold = 1", side="long"))
    t = backtest(_frame(), spec, initial_equity=1000.0).trades
    assert list(t["side"]) == [1, 1]
    assert list(t["exit_reason"]) == ["max_hold", "max_hold"]
    # held one bar: in at bar 2's open, out at bar 3's open
    assert t["exit_price"].iloc[0] == pytest.approx(103 * 0.9985)
    assert list(t["bars_held"]) == [2, 2]


def test_open_position_is_closed_at_the_end_with_costs(fake_signal):
    bars = BARS[:4] + [(104, 106, 103, 105)] * 3
    spec = parse_strategy(_spec(side="long").replace("stop_atr = 2.0", "stop_atr = 20.0"))
    t = backtest(_frame(bars), spec, initial_equity=1000.0).trades
    assert list(t["exit_reason"]) == ["end"]
    assert t["exit_price"].iloc[0] == pytest.approx(105 * 0.9985)


def test_performance_by_hand():
    eq = pd.Series([100.0, 110.0, 99.0, 108.9])
    m = performance(eq, 252)
    r = np.array([0.1, -0.1, 0.1])
    assert m["total_return"] == pytest.approx(0.089)
    assert m["cagr"] == pytest.approx(1.089 ** (252 / 3) - 1)
    assert m["ann_vol"] == pytest.approx(r.std(ddof=1) * math.sqrt(252))
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252))
    assert m["sortino"] == pytest.approx(r.mean() / math.sqrt(0.01 / 3) * math.sqrt(252))
    assert m["max_drawdown"] == pytest.approx(0.1)
    assert m["sharpe_lo"] < m["sharpe"] < m["sharpe_hi"]


def test_later_bars_do_not_change_the_backtest_up_to_t():
    msft = load_bundled("MSFT")
    spec = load_strategy("strategies/rsi_reversal.toml")
    t = 2500
    altered = msft.copy()
    altered.iloc[t + 1:, :4] *= 1.7
    a = backtest(msft, spec, stop=t + 1)
    b = backtest(altered, spec, stop=t + 1)
    pd.testing.assert_series_equal(a.equity, b.equity)
    assert len(a.trades) > 10


def test_walk_forward_tunes_nothing_on_test_bars():
    msft = load_bundled("MSFT")
    spec = load_strategy("strategies/rsi_reversal.toml")
    grid = [{"signals.rsi.lower": lo, "exit.stop_atr": s} for lo in (25, 35) for s in (1.5, 3.0)]
    a = walk_forward_backtest(msft, spec, initial_train=1500, step=500, grid=grid)
    assert a.n_configs == 4 and len(a.folds) == 4
    # wreck everything from the second fold's test block on: the first two choices stand
    k = a.folds[1]
    cut = msft.index.get_loc(pd.Timestamp(k["test_start"], tz="UTC"))
    altered = msft.copy()
    altered.iloc[cut:, :4] = altered.iloc[cut:, :4].to_numpy()[::-1]
    b = walk_forward_backtest(altered, spec, initial_train=1500, step=500, grid=grid)
    assert [f["params"] for f in b.folds[:2]] == [f["params"] for f in a.folds[:2]]
    assert b.folds[0]["test_sharpe"] == a.folds[0]["test_sharpe"]
    assert a.equity.index.is_monotonic_increasing and a.equity.index[0] > msft.index[1499]
