"""The Patterns page's tables and sentences (core.patterns.report), from hand-made inputs."""

import math

import pandas as pd
import pytest

from core.display import Metric
from core.patterns import report
from core.patterns.rules import PATTERNS

IDX = pd.bdate_range("2020-01-01", periods=6, tz="UTC")
META = {"params": {"k_target": 3.0, "k_stop": 1.5, "horizon": 12}, "base_rate": 0.284,
        "metrics": {"n_events": 1327, "auc": 0.512, "auc_ci95": [0.481, 0.543],
                    "brier": 0.20981, "brier_base_rate": 0.20893, "success_rate_all": 0.2841,
                    "success_rate_selected": 0.30123, "brier_skill": -0.0042}}


def test_chart_bars_and_default_patterns():
    assert report.chart_bars(5000) == (60, 1500, 250)
    assert report.chart_bars(120) == (60, 120, 120)
    assert "doji" not in report.DEFAULT_SHOWN and len(report.DEFAULT_SHOWN) == len(PATTERNS) - 1


def test_shown_detections_and_nearest_levels():
    det = pd.DataFrame({"pattern": ["doji", "hammer", "doji", "engulfing"]})
    assert report.shown_detections(det, ["hammer", "engulfing"])["pattern"].tolist() == [
        "hammer", "engulfing"]
    frame = pd.DataFrame({"close": [120.0, 100.0]}, index=IDX[:2])
    res, sup = report.nearest_levels([90, 101, 102, 103, 104], [80, 95, 96, 97, 98, 120], frame)
    assert res == [101, 102, 103] and sup == [96, 97, 98]
    assert report.nearest_levels([], [], frame) == ([], [])
    assert report.chart_window(frame, 1)["close"].tolist() == [100.0]


def test_latest_table_and_rule_hits():
    scores = pd.DataFrame({"pattern": ["bullish_engulfing", "hammer", "doji", "a", "b", "c"],
                           "cnn_probability": [0.91234, 0.5, 0.1, 0.05, 0.04, 0.03],
                           "threshold": [0.456, 0.5, 0.5, 0.5, 0.5, 0.5],
                           "rule_hit": [True, False, True, False, False, False]})
    t = report.latest_table(scores)
    assert len(t) == 5 and list(t.columns) == ["pattern", "CNN confidence [%]", "threshold [%]",
                                               "rule fires"]
    first = t.iloc[0]
    assert (first["pattern"], first["CNN confidence [%]"], first["threshold [%]"],
            first["rule fires"]) == ("bullish engulfing", 91.2, 46.0, "yes")
    assert report.rule_hits(scores) == "bullish engulfing, doji"
    assert report.rule_hits(scores.assign(rule_hit=False)) == "none"


def test_patterns_with_edge_counts_real_edges_only():
    table = pd.DataFrame({"verdict": ["no measurable edge", "edge at 5b", "too few cases",
                                      "edge at 1b", "no measurable edge"]})
    assert report.patterns_with_edge(table) == 2  # "too few cases" is no edge either


def test_breakout_rule_warning_and_metrics():
    assert report.breakout_rule(META) == "+3 ATR target before a −1.5 ATR stop within 12 bars"
    assert report.breakout_rule({}) == "+2 ATR target before a −1 ATR stop within 10 bars"
    warn = report.no_skill_warning(META)
    assert warn.startswith("**No skill.** Out of sample (walk-forward, 1327 breakouts) the "
                           "breakout filter's AUC is 0.51 [0.48, 0.54] and its Brier score "
                           "0.2098 is not better than the base-rate forecast (0.2089).")
    assert "base-rate chance of about 28% to reach +3 ATR target" in warn
    assert report.breakout_metrics(META) == [
        Metric("Breakout success, all [%]", "28.4"),
        Metric("Model-selected success [%]", "30.1",
               help="Breakouts whose walk-forward probability exceeded the base rate."),
        Metric("AUC (walk-forward)", "0.512"),
        Metric("Brier skill vs base rate", "-0.004"),
    ]
    assert [m.value for m in report.breakout_metrics({})] == ["nan", "nan", "nan", "+nan"]


def _events():
    return pd.DataFrame({"direction": [1, -1], "level": [101.0, 1234.5], "close": [102.0, 1200.0],
                         "target_price": [106.0, 1150.0], "stop_price": [100.0, 1224.0],
                         "probability": [0.4, 0.31234]}, index=IDX[[1, 3]])


def test_latest_breakout_line_and_probability():
    frame = pd.DataFrame({"close": range(6)}, index=IDX)
    line = report.latest_breakout(_events(), frame, META, "v7")
    assert line == (f"{IDX[3]:%Y-%m-%d} (2 bars ago) · **DOWN** through 1,234.50 · target "
                    "1,150.00 · stop 1,224.00 · horizon 12 bars · risk 2.00% of price to the "
                    "stop · model v7")
    assert report.success_metric(_events(), META) == Metric(
        "P(success) [%]", "31.2", help="P(price reaches +3 ATR target before a −1.5 ATR stop "
                                       "within 12 bars).")
    assert report.raw_probability(_events(), META) == "P(success) = 31.2% vs base rate 28.4%."
    with pytest.raises(IndexError):
        report.latest_breakout(_events().iloc[0:0], frame, META, "v7")


def test_track_record_table_newest_first_and_caption():
    n = 205
    rec = pd.DataFrame({"timestamp": pd.bdate_range("2001-01-01", periods=n, tz="UTC"),
                        "direction": [1, -1] * 102 + [1], "level": [10.123] * n,
                        "probability": [0.3456] * n, "base_rate": [0.28] * n,
                        "success": [1.0, 0.0, 0.0, 1.0, 0.0] * 41})
    t = report.track_record_table(rec)
    assert len(t) == report.TRACK_RECORD_ROWS == 200
    top = t.iloc[0]
    assert top["timestamp"] == f"{rec['timestamp'].iloc[-1]:%Y-%m-%d}"
    assert (top["direction"], top["level"], top["probability [%]"], top["base rate [%]"],
            top["success"]) == ("UP", 10.12, 34.6, 28.0, "no")
    assert "probability" not in t.columns and "base_rate" not in t.columns
    assert report.track_record_caption(rec, "IBM") == "205 breakouts of IBM: success 40.0%."
    assert not math.isnan(rec["probability"].iloc[0])  # the input is left alone


def test_confidence_bars_rank_every_pattern_and_mark_rule_hits():
    from core.display import Bar

    scores = pd.DataFrame({"pattern": ["shooting_star", "hammer", "doji"],
                           "cnn_probability": [0.1, 0.83, 0.5], "rule_hit": [False, True, False]})
    assert report.confidence_bars(scores) == [Bar("hammer", 83.0, "83% · rule", True),
                                              Bar("doji", 50.0, "50%", False),
                                              Bar("shooting star", 10.0, "10%", False)]


def test_shown_summary_names_the_shorter_list():
    assert report.shown_summary(list(PATTERNS)) == "all 15 patterns"
    assert report.shown_summary(report.DEFAULT_SHOWN) == "14 of 15 patterns (hidden: doji)"
    assert report.shown_summary(["hammer", "doji"]) == "2 of 15 patterns: doji, hammer"
    assert report.shown_summary([p for p in PATTERNS if "star" not in p]) == (
        "12 of 15 patterns (hidden: shooting star, morning star, evening star)")
    assert report.shown_summary([]) == "none of the 15 patterns"
