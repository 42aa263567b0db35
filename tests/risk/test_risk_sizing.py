import math

import numpy as np
import pytest

from core.errors import DataValidationError
from core.risk.inputs import atr
from core.risk.sizing import (RiskParameters, expected_max_drawdown, half_kelly, kelly_fraction,
                              risk_shares, size_position, stop_and_target)
from core.targets import triple_barrier_outcome


def test_stop_and_target_arithmetic():
    assert stop_and_target(100.0, "long", 4.0, 2.0) == (96.0, 108.0)
    assert stop_and_target(100.0, "short", 4.0, 3.0) == (104.0, 88.0)
    assert stop_and_target(100.0, "long", 4.0, 2.0, forecast_target=105.0) == (96.0, 105.0)
    # 100k equity, 1% risk, $4 stop distance -> 250 shares risking exactly $1000
    assert risk_shares(100_000, 1.0, 4.0) == 250
    assert risk_shares(100_000, 1.0, 3.0) == 333


def test_kelly():
    assert kelly_fraction(0.6, 1.0) == pytest.approx(0.2)
    assert kelly_fraction(0.5, 2.0) == pytest.approx(0.25)
    assert half_kelly(0.5, 2.0, cap=1.0) == pytest.approx(0.125)
    assert half_kelly(0.5, 2.0, cap=0.05) == pytest.approx(0.05)
    assert half_kelly(0.3, 1.0) == 0.0  # no edge -> no bet


def test_expected_max_drawdown_formula():
    assert expected_max_drawdown(0.01, 100) == pytest.approx(math.sqrt(math.pi / 2) * 0.1)


def test_size_position_long_risk_bound(synth):
    f = synth(400, seed=3)
    p = RiskParameters(equity=100_000, risk_pct=0.5, entry=100.0, target_vol=5.0,
                       max_leverage=5.0, win_prob=0.55, payoff_ratio=2.0)
    res = size_position(f, p, "SYN")
    dist = 2.0 * atr(f, 14).iloc[-1]
    assert res.stop_distance == pytest.approx(dist)
    assert res.stop_price == pytest.approx(100.0 - dist)
    assert res.take_profit == pytest.approx(100.0 + 2 * dist)
    assert res.binding == "risk"
    assert res.shares == math.floor(500 / dist)
    assert res.risk_amount <= 500 + 1e-9 and res.risk_amount > 500 - dist
    assert res.position_pct_equity == pytest.approx(res.shares * 100 / 1000)
    assert res.kelly_full == pytest.approx(0.55 - 0.45 / 2)
    assert res.kelly_source == "user input"
    assert all(r.var > 0 for r in res.var)


def test_size_position_short_and_caps(synth):
    f = synth(400, seed=4)
    short = size_position(f, RiskParameters(equity=100_000, risk_pct=1, direction="short",
                                            stop_method="volatility", max_leverage=10,
                                            target_vol=10), "SYN")
    assert short.stop_price > short.entry > short.take_profit
    cash = size_position(f, RiskParameters(equity=100_000, risk_pct=5, cash=1_000), "SYN")
    assert cash.binding == "cash" and cash.position_value <= 1_000
    vol = size_position(f, RiskParameters(equity=100_000, risk_pct=5, target_vol=0.01), "SYN")
    assert vol.binding == "volatility"
    assert vol.vol_adjustment == pytest.approx(0.01 / vol.vol_forecast_ann)


def test_bad_inputs_raise_clear_errors(synth):
    f = synth(400)
    with pytest.raises(DataValidationError, match="Risk per trade"):
        size_position(f, RiskParameters(equity=1e5, risk_pct=0))
    with pytest.raises(DataValidationError, match="profit side"):
        size_position(f, RiskParameters(equity=1e5, take_profit_method="forecast",
                                        forecast_target=1.0))


def test_triple_barrier_by_hand():
    import pandas as pd
    idx = pd.bdate_range("2020-01-01", periods=5, tz="UTC")
    f = pd.DataFrame({"open": 100.0, "close": [100, 101, 103, 99, 100.0],
                      "high": [100, 102, 106, 100, 100.0], "low": [100, 99, 102, 95, 99.0],
                      "volume": 1.0}, index=idx)
    out = triple_barrier_outcome(f, 2.0, 4.0, horizon=2, side=1)
    # t0: bar1 low 99 > 98, high 102 < 104; bar2 high 106 >= 104 -> +4%
    assert out.iloc[0] == pytest.approx(0.04)
    # t1 entry 101: bar2 high 106 >= 105 take -> 4/101
    assert out.iloc[1] == pytest.approx(4 / 101)
    # t2 entry 103: bar3 low 95 <= 101 -> stop -2/103
    assert out.iloc[2] == pytest.approx(-2 / 103)
    assert np.isnan(out.iloc[4])
