"""Figure builders of the Strategy Lab (core.plots.indicators, core.plots.strategy) and the
page's display helpers (core.strategy.report), without Streamlit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.data import validate_ohlcv
from core.data.bundled import load_bundled
from core.errors import DataValidationError
from core.plots.candles import merge_bars
from core.plots.indicators import MAX_BARS, chart_specs, indicator_figure
from core.plots.strategy import drawdown, equity_figure, tune_test_figure
from core.strategy import report
from core.strategy.backtest import backtest
from core.strategy.rules import compute_signal
from core.strategy.spec import example_strategies, load_strategy
from core.strategy.tune import grid_search


@pytest.fixture(scope="module")
def msft() -> pd.DataFrame:
    return validate_ohlcv(load_bundled("MSFT"), "MSFT").frame


def names(fig) -> list[str]:
    return [t.name for t in fig.data]


def test_overlays_panels_and_markers_are_drawn_with_titles(msft):
    ov, pn = chart_specs(sma=[200, 50], ema=[20], bollinger=(20, 2.0),
                         panels=["rsi", "macd", "stochastic", "atr", "obv"], rsi_period=10)
    sig = compute_signal(msft, "rsi")
    fig = indicator_figure(msft, overlays=ov, panels=pn, window="1Y", markers=sig,
                           marker_label="RSI 70/30", title="MSFT · 1d")
    n = names(fig)
    for want in ("OHLC", "Volume", "SMA(50)", "SMA(200)", "EMA(20)", "Bollinger(20, 2σ)",
                 "RSI(10)", "MACD", "Signal line", "MACD histogram", "%K", "%D", "ATR(14)",
                 "On-balance volume"):
        assert want in n, want
    assert n.index("SMA(50)") < n.index("SMA(200)")  # sorted lengths, distinct colours
    colors = {t.name: t.line.color for t in fig.data if t.name in ("SMA(50)", "SMA(200)")}
    assert colors["SMA(50)"] != colors["SMA(200)"]
    # each row has its axis title; oscillators on 0..100 with their reference lines
    titles = [fig.layout[f"yaxis{'' if i == 1 else i}"].title.text for i in range(1, 8)]
    assert titles == ["Price", "Volume", "RSI(10)", "MACD(12,26,9)", "Stochastic %K/%D",
                      "ATR(14) [price]", "OBV [shares]"]
    assert list(fig.layout.yaxis3.range) == [0, 100]
    assert {s.y0 for s in fig.layout.shapes} >= {30, 70, 20, 80, 0}
    # one legend per row with traces (price above the chart, panels at their top)
    assert {t.legend for t in fig.data} >= {"legend", "legend3", "legend7"}
    assert fig.layout.legend3.y == pytest.approx(fig.layout.yaxis3.domain[1])
    # the last year only, every bar a candle, warm-up done before the window
    candles = fig.data[0]
    assert len(candles.x) < 260 and candles.x[-1] == msft.index[-1]
    sma200 = next(t for t in fig.data if t.name == "SMA(200)")
    assert np.isfinite(np.asarray(sma200.y, dtype=float)).all()
    marks = [t for t in fig.data if t.name and t.name.startswith("RSI 70/30")]
    window = sig[sig.index >= candles.x[0]]
    assert sum(len(t.x) for t in marks) == int((window != 0).sum())


def test_no_indicator_gives_the_plain_candles(msft):
    fig = indicator_figure(msft.tail(100), title="x")
    assert names(fig) == ["OHLC", "Volume (rising)", "Volume (falling)", "Volume"]
    assert fig.layout.yaxis.title.text == "Price"


def test_long_windows_are_merged_into_coarser_candles(msft):
    fig = indicator_figure(msft, overlays=[("sma", {"period": 50})], panels=[("rsi", {})],
                           window="All", title="MSFT")
    k = math.ceil(len(msft) / MAX_BARS)
    candles = fig.data[0]
    assert len(candles.x) == math.ceil(len(msft) / k) <= MAX_BARS
    assert f"{k}-bar candles" in fig.layout.title.text
    merged = merge_bars(msft, k)
    assert merged["high"].iloc[0] == msft["high"].iloc[:k].max()
    assert merged["volume"].sum() == pytest.approx(msft["volume"].sum())
    assert merged["close"].iloc[-1] == msft["close"].iloc[-1]
    sma = next(t for t in fig.data if t.name == "SMA(50)")
    assert len(sma.x) == len(candles.x)
    assert not fig.layout.xaxis.rangebreaks  # thousands of break values would slow the browser


def test_bad_indicator_choices_raise_value_errors(msft):
    with pytest.raises(ValueError, match="not an overlay"):
        indicator_figure(msft, overlays=[("rsi", {})])
    with pytest.raises(ValueError, match="not a panel"):
        indicator_figure(msft, panels=[("sma", {})])
    with pytest.raises(ValueError, match="fast < slow"):
        indicator_figure(msft, panels=[("macd", {"fast": 30, "slow": 10})])


def test_equity_figure_strategy_beside_buy_and_hold(msft):
    spec = load_strategy(example_strategies()["rsi_reversal"])
    res = backtest(msft, spec)
    fig = equity_figure(res.equity, res.benchmark, strategy_name=spec.name,
                        fold_starts=["2005-01-03"], title="MSFT")
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == ["Buy & hold", "RSI reversal"]
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.title.text == "Equity [$, log]"
    assert fig.layout.yaxis2.title.text == "Drawdown [%]"
    dd = drawdown(res.benchmark)
    low = min(next(t for t in fig.data if t.name == "Buy & hold" and t.yaxis == "y2").y)
    assert low == pytest.approx(dd.min() * 100)  # thinning keeps the deepest drawdown
    assert max(len(t.x) for t in fig.data) <= 1300
    assert len(fig.layout.shapes) == 2  # the fold start, through both rows


@pytest.fixture(scope="module")
def tuned(msft):
    spec = load_strategy(example_strategies()["ma_cross"])
    return grid_search({"MSFT": msft}, spec, train_symbols=["MSFT"],
                       test_start=report.tune_split(msft.index))


def test_tune_figure_and_tables(tuned):
    fig = tune_test_figure(tuned)
    assert [t.name for t in fig.data] == ["Tuned", "Untuned file", "Buy & hold"]
    assert fig.layout.yaxis.title.text == "Sharpe (annualised)"
    configs = report.configs_display(tuned)
    assert len(configs) == tuned["n_configs"] == 9
    assert (configs["Selected"] == "✓").sum() == 1
    best = configs[configs["Selected"] == "✓"]
    assert best["Training Sharpe"].iloc[0] == configs["Training Sharpe"].max()
    test = report.tune_test_display(tuned)
    assert list(test["Symbol"]) == ["MSFT"]
    lines = report.tune_plain_lines(tuned)
    assert lines[0].startswith("**The tuned version does not beat the untuned file")
    assert "does not beat buy-and-hold" in lines[1]
    assert [m.label for m in report.tune_headline(tuned)] == [
        "Configurations tried", "Deflated Sharpe", "PBO", "Training Sharpe"]


def test_metrics_table_and_verdict_match_the_cli(msft):
    res = backtest(msft, load_strategy(example_strategies()["rsi_reversal"]))
    table = report.metrics_display(res.metrics, res.benchmark_metrics)
    assert list(table.columns) == ["Strategy", "Buy & hold"]
    assert table.loc["Sharpe (95% CI)", "Strategy"] == "0.22 (-0.31 .. 0.76)"
    assert table.loc["CAGR [%]", "Buy & hold"] == "-1.64"
    assert table.loc["Trades", "Buy & hold"] == "–"
    assert "no evidence" in report.backtest_verdict(res.metrics, res.benchmark_metrics)
    trades = report.trades_display(res.trades)
    assert len(trades) == 33 and trades["Entry"].iloc[0] == "2000-04-25"
    assert report.backtest_verdict({"n_trades": 0}, {}).startswith("The strategy never traded")


def test_edited_strategy_applies_the_form_and_refuses_bad_values():
    base = load_strategy(example_strategies()["rsi_reversal"])
    params = report.editable_params(base)
    assert params == {"rsi": {"period": 14, "lower": 30, "upper": 70}}
    spec = report.edited_strategy(base, side="both", signal_params={"rsi": {**params["rsi"],
                                                                            "lower": 25}},
                                  stop_atr=0, max_hold=0, commission_bp=3, spread_bp=4,
                                  slippage_bp=0)
    assert spec.side == "both" and spec.exit.stop_atr is None and spec.exit.max_hold is None
    assert spec.signals["rsi"]["lower"] == 25 and spec.costs.commission_bp == 3
    assert spec.tune == base.tune
    with pytest.raises(DataValidationError, match="RSI thresholds"):
        report.edited_strategy(base, side="long", signal_params={"rsi": {"lower": 80,
                                                                         "upper": 70}},
                               stop_atr=2, max_hold=20, commission_bp=1, spread_bp=2,
                               slippage_bp=1)
    with pytest.raises(DataValidationError, match="side"):
        report.edited_strategy(base, side="sideways", signal_params={}, stop_atr=2,
                               max_hold=20, commission_bp=1, spread_bp=2, slippage_bp=1)
    with pytest.raises(DataValidationError, match="at most 64"):
        report.check_grid(65)


def test_edge_display_and_caption_escape_the_symbol(msft):
    from core.strategy.rules import signal_edge_table

    table = signal_edge_table(msft, n_boot=200)
    shown = report.signal_edge_display(table)
    assert list(shown.index) == list(table["label"])
    assert {"Return 1b [%] (95% CI)", "Return 20b [%] (95% CI)", "Verdict"} <= set(shown.columns)
    cap = report.edge_caption(table, "[x](https://evil)", len(msft))
    assert "](https" not in cap and "expected by chance alone" in cap
