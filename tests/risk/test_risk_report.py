"""What the Risk Sizing page shows (core.risk.report), from hand-made results."""

import numpy as np
import pandas as pd
import pytest

from core.display import Metric, pct
from core.risk import report
from core.risk.portfolio import PortfolioRisk
from core.risk.sizing import SizingResult


def _result(**kw) -> SizingResult:
    base = dict(symbol="SYN", direction="long", entry=100.0, shares=1234, position_value=123_400.0,
                position_pct_equity=12.34, stop_price=96.0, stop_distance=4.0, stop_rule="r",
                take_profit=108.0, take_profit_rule="2 R", risk_amount=4936.0,
                risk_pct_actual=4.936, reward_risk=2.0, vol_forecast_ann=0.2345,
                vol_source="EWMA", vol_adjustment=0.64, binding="risk",
                expected_max_drawdown_pct=1.0, kelly_full=0.1, kelly_half_capped=0.05,
                kelly_source="user input", win_prob=0.5, payoff_ratio=2.0, horizon=10)
    base.update(kw)
    return SizingResult(**base)


def test_pct_formats_fractions_and_missing_values():
    assert pct(0.12345) == "12.35%" and pct(0.12345, 1) == "12.3%" and pct(-0.5, 0) == "-50%"
    assert pct(None) == pct(float("nan")) == pct(float("inf")) == "n/a"


def test_sizing_metrics_text():
    got = report.sizing_metrics(_result())
    assert got == [
        Metric("Position [% equity]", "12.34%", "1,234 shares"),
        Metric("Stop loss", "96", "-4.00%"),
        Metric("Take profit", "108", "+8.00%"),
        Metric("Risk at stop [% equity]", "4.94%", "$4,936"),
        Metric("Vol adjustment [x]", "0.64", "forecast 23.4% ann."),
    ]
    short = report.sizing_metrics(_result(direction="short", stop_price=104.5, take_profit=91.0))
    assert short[1].delta == "+4.50%" and short[2].delta == "-9.00%"


def test_signal_quality_note_warns_only_when_the_scorer_loses():
    score = {"probability": 0.6123, "decision": "EXECUTE", "base_rate": 0.4567, "version": "v9"}
    plain = report.signal_quality_note(score, {})
    assert plain == ("Signal-quality model v9: P(success) = 61.2% → **EXECUTE** (threshold "
                     "60%; training base rate 45.7%). Its trade: 2 ATR stop, 2 R target, "
                     "10-bar exit.")
    wf = {"brier": 0.25, "brier_base": 0.24, "auc": 0.512, "years": [2003, 2012],
          "execute_hit_rate": 0.41, "test_base_rate": 0.43}
    losing = report.signal_quality_note(score, {"walk_forward": wf})
    assert losing.startswith(plain) and "(2003-2012, six symbols)" in losing
    assert "did **not** beat the base rate: Brier 0.2500 vs 0.2400, AUC 0.512" in losing
    assert "EXECUTE trades won 41% vs a 43% base rate." in losing
    winning = report.signal_quality_note(score, {"walk_forward": {**wf, "brier": 0.2}})
    assert winning == plain


def test_overlap_caption():
    R = pd.DataFrame({"A": [0.0] * 3},
                     index=pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06"], utc=True))
    assert report.overlap_caption(R) == ("3 common daily bars 2020-01-02 → 2020-01-06 (the "
                                         "histories' overlap).")


def _risk(level=0.95) -> PortfolioRisk:
    w = pd.Series({"A": 0.5, "B": -0.25})
    return PortfolioRisk(weights=w, ann_vol=0.1234, var_hist=0.0212, cvar_hist=0.0301,
                         var_param=0.0198, cvar_param=0.0249,
                         contrib_var_param=pd.Series({"A": 0.015, "B": 0.0048}),
                         contrib_cvar_hist=pd.Series({"A": 0.02, "B": 0.0101}),
                         correlation=pd.DataFrame(), level=level, bars=500)


def test_book_metrics_text():
    assert report.book_metrics(_risk(0.99)) == [
        Metric("Gross exposure [% equity]", "75.0%"),
        Metric("Portfolio vol [% ann.]", "12.3%"),
        Metric("VaR 99% 1-day [% equity]", "2.12% hist", "1.98% param"),
        Metric("CVaR 99% 1-day [% equity]", "3.01% hist", "2.49% param"),
    ]


def test_marginal_effect_table_in_percent():
    me = {"vol_before": 0.1, "vol_after": 0.15, "var_before": 0.01, "var_after": 0.02,
          "cvar_before": 0.015, "cvar_after": 0.03, "delta_vol": 0.05, "delta_var": 0.01,
          "delta_cvar": 0.015}
    t = report.marginal_effect_table(me, 0.95)
    assert list(t.index) == ["Volatility [% ann.]", "VaR 95% hist [% equity]",
                             "CVaR 95% hist [% equity]"]
    assert t["Before"].tolist() == pytest.approx([10, 1, 1.5])
    assert t["After"].tolist() == pytest.approx([15, 2, 3])
    assert t["Change"].tolist() == pytest.approx([5, 1, 1.5])


def test_policy_table_percent_columns_and_names():
    cols = ["ann_return", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar", "turnover",
            "avg_exposure", "vol_reduction_vs_fixed", "dd_reduction_vs_fixed"]
    table = pd.DataFrame([np.arange(1, 11) / 100], columns=cols, index=["fixed"])
    shown = report.policy_table(table)
    assert list(shown.columns) == [report.POLICY_COLUMN_LABELS[c] for c in cols]
    row = shown.loc["fixed"]
    assert row["Ann. return [%]"] == pytest.approx(1.0) and row["Sharpe"] == pytest.approx(0.03)
    assert row["Turnover [x/yr]"] == pytest.approx(0.07)
    assert row["DD cut vs fixed [%]"] == pytest.approx(10.0)
    assert table.loc["fixed", "ann_return"] == 0.01  # the input is left alone


def test_heldout_table():
    assert report.heldout_table({}) is None
    assert report.heldout_table({"heldout_metrics": []}) is None
    t = report.heldout_table({"heldout_metrics": [{"symbol": "IBM", "sharpe": 0.123456}]})
    assert t.to_dict("records") == [{"symbol": "IBM", "sharpe": 0.123}]


def test_inputs_line_shows_every_sizing_input_and_follows_the_rules():
    from core.risk.report import inputs_line
    from core.risk.sizing import RiskParameters

    line = inputs_line(RiskParameters(equity=100_000, cash=50_000, risk_pct=1.0, entry=56.14,
                                      horizon=10, target_vol=0.15, max_leverage=1.0),
                       "History (triple barrier)")
    for part in ("Equity 100,000", "cash 50,000", "risk 1.00%", "long at 56.1400",
                 "horizon 10 bars", "stop 2× ATR", "take profit 2 R", "target vol 15%",
                 "max 1.00× equity", "Kelly: History (triple barrier)"):
        assert part in line, (part, line)
    other = inputs_line(RiskParameters(equity=5_000, direction="short", stop_method="volatility",
                                       vol_multiple=1.5, take_profit_method="forecast",
                                       forecast_target=40.0), "Manual")
    assert "short at last close" in other and "stop 1.5 σ·√h" in other
    assert "take profit forecast target 40.0000" in other and "cash 5,000" in other
