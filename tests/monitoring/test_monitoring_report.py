"""The Monitoring page's store reads (core.monitoring.queries) and display tables
(core.monitoring.report)."""

import pandas as pd
import pytest

from core.display import Metric
from core.monitoring.figures import Alert, GroupFigures, MonitoringReport
from core.monitoring.queries import model_families, monitoring_report
from core.monitoring.report import (alerts_frame, default_group, drift_frame, drift_summary,
                                    group_metrics, ops_metrics, split_alerts, summary_frame)
from core.predictions import Prediction
from core.store import log_predictions, session_scope
from tests.pg import both_backends


def _log(model_name, symbol="MSFT", n=3):
    t0 = pd.Timestamp("2010-01-04", tz="UTC")
    preds = [Prediction(model_name, "v1", symbol, "1d", "log_return", 1,
                        t0 + pd.Timedelta(days=i), 0.01, latency_ms=2.0) for i in range(n)]
    with session_scope() as s:
        log_predictions(preds, session=s)


@both_backends
def test_model_families_lists_each_logged_family_once_sorted():
    assert model_families() == []
    _log("naive")
    _log("forecast")
    _log("forecast", symbol="IBM")
    assert model_families() == ["forecast", "naive"]


@both_backends
def test_monitoring_report_filters_and_checks_the_window():
    _log("naive")
    _log("forecast", n=2)
    _log("forecast", symbol="IBM", n=4)
    everything = monitoring_report()
    assert {g.model_name for g in everything.groups} == {"forecast", "naive"}
    one = monitoring_report(model_name="forecast", symbol="IBM", window=7, accuracy_floor=0.55)
    assert [(g.model_name, g.n) for g in one.groups] == [("forecast", 4)]
    assert one.window == 7
    with pytest.raises(ValueError, match="window"):
        monitoring_report(window=0)


def _group(**kw) -> GroupFigures:
    base = dict(model_name="fc", model_version="v1", kind="log_return", event=None, horizon=5,
                n=10, n_realised=8)
    base.update(kw)
    return GroupFigures(**base)


def test_summary_frame_units_and_rounding():
    groups = [
        _group(mae=0.0123456, baseline_mae=0.015, directional_accuracy=0.5678,
               baseline_accuracy=0.52, coverage=0.8125, latency_p50=1.234, latency_p95=9.876),
        _group(model_name="brk", kind="probability", event="up", horizon=10, mae=0.3,
               brier=0.212345, brier_climatology=0.25),
    ]
    t = summary_frame(groups)
    r = t.iloc[0]
    assert (r["Model"], r["Kind"], r["h [bars]"], r["Predictions"], r["Outcomes"]) == (
        "fc", "log_return", 5, 10, 8)
    assert r["MAE"] == 1.2346 and r["Naive MAE"] == 1.5 and r["MAE unit"] == "%"
    assert r["Dir. acc. [%]"] == 56.8 and r["Always-up [%]"] == 52.0
    assert r["Coverage 80 [%]"] == 81.2 and r["Latency p50 [ms]"] == 1.2
    assert r["Latency p95 [ms]"] == 9.9
    p = t.iloc[1]
    assert p["Kind"] == "probability:up" and p["MAE"] == 0.3 and p["MAE unit"] == "probability"
    assert p["Brier"] == 0.2123 and p["Brier clim."] == 0.25
    assert p["Naive MAE"] is None or pd.isna(p["Naive MAE"])
    assert summary_frame([]).empty


def test_default_group_skips_the_naive_baseline():
    assert default_group([_group(model_name="naive"), _group(model_name="fc")]) == 1
    assert default_group([_group(model_name="naive")]) == 0
    assert default_group([]) == 0


def _alert(rule, value=0.3, target="x"):
    return Alert(rule, "warning", f"{rule} fired", target, value, 0.2)


def test_alert_split_summary_and_table():
    alerts = [_alert("latency"), _alert("drift", 0.25, "rsi"), _alert("cache"),
              _alert("drift", 0.61234, "atr")]
    other, drift = split_alerts(alerts)
    assert [a.rule for a in other] == ["latency", "cache"]
    assert [a.target for a in drift] == ["rsi", "atr"]
    assert drift_summary(drift) == "drift: 2 feature(s) with PSI > 0.2 (worst atr: 0.61)"
    with pytest.raises(ValueError):
        drift_summary([])
    t = alerts_frame(alerts)
    assert list(t.columns) == ["Rule", "Level", "Target", "Value", "Threshold", "Message"]
    assert t["Value"].tolist() == [0.3, 0.25, 0.3, 0.6123]


def test_drift_frame_rounds_to_four_decimals():
    d = pd.DataFrame({"feature": ["a"], "psi": [0.123456], "ks_pvalue": [0.00001234]})
    assert drift_frame(d).to_dict("records") == [{"feature": "a", "psi": 0.1235,
                                                  "ks_pvalue": 0.0}]


def test_ops_and_group_metrics_text():
    ops = {"requests": 120.0, "error_rate": 0.0123, "cache_hit_rate": 0.876}
    rep = MonitoringReport(pd.Timestamp("2024-01-01", tz="UTC"), 50, [_group(), _group()],
                           pd.DataFrame(), ops, [])
    assert ops_metrics(rep) == [Metric("Requests", "120"), Metric("Error rate [%]", "1.2"),
                                Metric("Cache hit rate [%]", "88"),
                                Metric("Prediction groups", "2")]
    rep.ops = {"requests": 0.0, "error_rate": None, "cache_hit_rate": None}
    assert [m.value for m in ops_metrics(rep)] == ["0", "–", "–", "2"]
    g = _group(latency_p50=1.25, latency_p95=3.0, coverage=0.8)
    assert group_metrics(g) == [Metric("Outcomes", "8 / 10"),
                                Metric("Latency p50 / p95 [ms]", "1.2 / 3.0"),
                                Metric("Coverage 80 [%]", "80.0")]
    assert [m.value for m in group_metrics(_group())] == ["8 / 10", "–", "–"]
