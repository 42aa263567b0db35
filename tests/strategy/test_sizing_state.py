"""Sizing policies of the strategy tester (volatility target and ATR risk, checked against
their formulas on real bars) and the open-ended strategy state a paper book follows: the
same decisions as the backtest on the same bars, from bars <= t only."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import load_bundled
from core.errors import InsufficientDataError
from core.market import ewma_variance, log_returns, periods_per_year
from core.strategy import indicators as ind
from core.strategy.backtest import (
    backtest,
    entry_fractions,
    flat_params,
    strategy_state,
)
from core.strategy.spec import StrategySpecError, load_strategy, parse_strategy

BASE = """
name = "fast RSI"
side = "long"
[entry]
signals = ["rsi"]
[exit]
signals = ["rsi"]
{stop}
max_hold = 10
[sizing]
{sizing}
[costs]
commission_bp = 1
spread_bp = 2
slippage_bp = 1
[signals.rsi]
period = 5
lower = 35
upper = 65
"""


def spec(sizing: str = "fraction = 0.5", stop: str = "stop_atr = 2.0"):
    return parse_strategy(BASE.format(sizing=sizing, stop=stop))


@pytest.fixture(scope="module")
def msft():
    return load_bundled("MSFT").iloc[-1200:]


def test_vol_target_sizes_each_entry_by_the_ewma_vol_at_its_signal_bar(msft):
    s = spec('policy = "vol_target"\nfraction = 1.0\ntarget_vol = 0.10')
    res = backtest(msft, s, start=100)
    assert len(res.trades) >= 10
    vol = np.sqrt(ewma_variance(log_returns(msft["close"])).to_numpy() * periods_per_year("1d"))
    eq = res.equity
    for _, t in res.trades.iterrows():
        i = msft.index.get_loc(t["entry_time"])
        want = min(1.0, 0.10 / vol[i - 1])  # decided at the signal bar's close
        cash_before = eq.iloc[eq.index.get_loc(msft.index[i - 1])]  # flat: equity = cash
        share = t["units"] * t["entry_price"] / cash_before
        assert share == pytest.approx(want, rel=1e-9)
    assert (res.trades["units"] * res.trades["entry_price"] / eq.max() < 0.99).any()


def test_atr_risk_loses_the_risk_budget_at_the_stop(msft):
    s = spec('policy = "atr_risk"\nfraction = 1.0\nrisk_per_trade = 0.005', "stop_atr = 1.0")
    res = backtest(msft, s, start=100)
    atr = ind.atr(msft, 14).iloc[:, 0].to_numpy()
    eq = res.equity
    checked = 0
    for _, t in res.trades.iterrows():
        i = msft.index.get_loc(t["entry_time"])
        cash_before = eq.iloc[eq.index.get_loc(msft.index[i - 1])]
        dist = 1.0 * atr[i - 1]
        units = min(0.005 * cash_before / dist, 1.0 * cash_before / t["entry_price"])
        assert t["units"] == pytest.approx(units, rel=1e-9)
        if units < cash_before / t["entry_price"]:  # not capped: the stop loses 0.5%
            checked += 1
            assert t["units"] * dist == pytest.approx(0.005 * cash_before, rel=1e-9)
    assert checked >= 5


def test_fixed_policy_is_the_old_fraction(msft):
    a = backtest(msft, spec("fraction = 0.5"), start=100)
    b = backtest(msft, spec('policy = "fixed"\nfraction = 0.5\ntarget_vol = 0.3'), start=100)
    pd.testing.assert_series_equal(a.equity, b.equity)
    assert np.all(entry_fractions(msft, spec("fraction = 0.5")) == 0.5)


def test_sizing_is_checked_and_tunable():
    with pytest.raises(StrategySpecError, match="atr_risk sizes from the stop distance"):
        spec('policy = "atr_risk"', stop="")
    with pytest.raises(StrategySpecError, match="sizing.policy"):
        spec('policy = "kelly"')
    with pytest.raises(StrategySpecError, match="sizing.risk_per_trade"):
        spec('policy = "atr_risk"\nrisk_per_trade = 0.5')
    s = spec('policy = "vol_target"')
    assert s.with_params({"sizing.target_vol": 0.2}).sizing.target_vol == 0.2
    assert flat_params(s)["sizing.target_vol"] == 0.15
    assert "sizing.risk_per_trade" not in flat_params(s)


@pytest.mark.parametrize("sizing", ["fraction = 0.5", 'policy = "vol_target"'])
def test_state_at_t_is_the_backtests_position_at_t(msft, sizing):
    s = spec(sizing)
    start = 200
    full = backtest(msft, s, start=start)
    side = np.sign(full.position.to_numpy())
    checked = 0
    for t in range(start + 3, len(msft) - 2, 7):
        st = strategy_state(msft.iloc[:t + 1], s, start=start)
        assert st.ts == msft.index[t]
        assert st.side == side[t - start], t
        # what it wants after the next open is held at the next close unless a stop hits
        nxt = side[t + 1 - start]
        stopped = ((full.trades["exit_time"] == msft.index[t + 1])
                   & (full.trades["exit_reason"] == "stop")).any()
        assert st.target == nxt or stopped, t
        checked += st.target != st.side
    assert checked >= 3  # some of the sampled bars were decisions


def test_state_uses_bars_up_to_t_only(msft):
    s = load_strategy("strategies/rsi_reversal.toml")
    t = 900
    altered = msft.copy()
    altered.iloc[t + 1:, :4] *= 1.5
    a = strategy_state(msft.iloc[:t + 1], s, start=100)
    assert repr(a) == repr(strategy_state(altered.iloc[:t + 1], s, start=100))  # NaN-safe


def test_state_names_the_entry_signal_and_its_sizing(msft):
    s = spec('policy = "vol_target"\ntarget_vol = 0.1')
    start = 100
    full = backtest(msft, s, start=start)
    entry = full.trades["entry_time"].iloc[0]
    t = msft.index.get_loc(entry) - 1
    st = strategy_state(msft.iloc[:t + 1], s, start=start)
    assert (st.side, st.target, st.reason, st.signals) == (0, 1, "entry", {"rsi": 1})
    assert 0 < st.fraction <= 1 and math.isfinite(st.stop_distance)
    with pytest.raises(InsufficientDataError, match="outside"):
        strategy_state(msft.iloc[:10], s, start=10)


def test_tuned_strategy_for_the_paper_book():
    from core.strategy.report import tuned_params, tuned_strategy

    base = load_strategy("strategies/rsi_reversal.toml")
    grid = {"best_params": {"signals.rsi.lower": 25, "exit.stop_atr": 3.0}}
    p = tuned_params(grid, "grid")
    tuned = tuned_strategy(base, p)
    assert tuned.name == "RSI reversal (tuned)" and tuned.signals["rsi"]["lower"] == 25
    assert tuned.exit.stop_atr == 3.0 and tuned.tune == base.tune
    assert tuned_strategy(base, {}) is base
    assert tuned_params({"recommended": {"method": "grid", "params": {"exit.max_hold": 5}}},
                        "both") == {"exit.max_hold": 5}
    assert tuned_params({"recommended": {"method": "qlearning", "params": {}}}, "both") is None
    assert tuned_params({}, "qlearning") is None
