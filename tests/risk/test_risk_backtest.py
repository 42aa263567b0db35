import numpy as np
import pandas as pd
import pytest

from core.risk.backtest import backtest, compare
from core.risk.policies import fixed_exposure, vol_target_exposure
from core.risk.state import risk_state


def test_position_is_shifted_one_bar(synth):
    f = synth(300, seed=5)
    r = f["close"].pct_change()
    same_bar = (r > 0).astype(float)   # knows bar t's return at bar t: must NOT earn it
    res = backtest(f["close"], same_bar, cost_bp=0)
    expected = (same_bar.shift(1) * r).iloc[1:]
    np.testing.assert_allclose(res.net_returns.to_numpy(), expected.fillna(0).to_numpy())
    # a look-ahead signal would have earned every positive return; ours did not
    assert res.net_returns.sum() < r[r > 0].sum() / 2


def test_costs_charged_on_turnover(synth):
    f = synth(100, seed=6)
    flip = pd.Series(np.tile([1.0, 0.0], 50), index=f.index)
    gross = backtest(f["close"], flip, cost_bp=0)
    net = backtest(f["close"], flip, cost_bp=10)
    diff = (gross.net_returns - net.net_returns)
    assert diff.to_numpy() == pytest.approx(np.full(len(diff), 0.001))
    assert net.metrics["turnover"] == pytest.approx(252.0)


def test_policies_use_no_future_bars(synth):
    f = synth(600, seed=7)
    k = 450
    for fn in (lambda x: vol_target_exposure(x, 0.15, 2.0),
               lambda x: risk_state(x)[["log_vol", "vol_regime", "drawdown", "mom_20"]]):
        full, cut = fn(f), fn(f.iloc[:k])
        pd.testing.assert_frame_equal(pd.DataFrame(full.iloc[:k]), pd.DataFrame(cut))


def test_compare_metrics_and_vol_reduction(synth):
    f = synth(800, seed=8)
    table, res = compare(f["close"], {"fixed": fixed_exposure(f),
                                      "half": fixed_exposure(f, 0.5)}, cost_bp=0)
    assert table.loc["half", "ann_vol"] == pytest.approx(table.loc["fixed", "ann_vol"] / 2)
    assert table.loc["half", "vol_reduction_vs_fixed"] == pytest.approx(0.5)
    m = res["fixed"].metrics
    assert m["max_drawdown"] >= 0 and m["calmar"] == pytest.approx(m["ann_return"] / m["max_drawdown"])
