"""GET /health carries the alerts the Model Monitoring page computes (its default
settings), from core.monitoring: none on an empty store, the same list as
monitoring_report() when rules fire, and the worst level as the alert status."""

import dataclasses

import pandas as pd

from core.monitoring.queries import monitoring_report
from core.predictions import Prediction
from core.store import log_predictions, session_scope
from core.store.ops import record_metric


def test_no_alerts_on_an_empty_store(client):
    body = client.get("/health").json()
    assert body["alerts"]["status"] == "ok" and body["alerts"]["count"] == 0
    assert body["alerts"]["alerts"] == []
    assert body["status"] == "ok"  # existing keys unchanged


def test_firing_rules_are_reported_like_the_monitoring_page(client):
    origin = pd.Timestamp("2012-01-03", tz="UTC")
    slow = [Prediction("forecast", "v1", "MSFT", "1d", "log_return", 1,
                       origin + pd.Timedelta(days=i), 0.001, latency_ms=500.0)
            for i in range(5)]
    with session_scope() as s:
        log_predictions(slow, session=s)
        record_metric("requests", 10, session=s)
        record_metric("errors", 1, session=s)  # 10% > the 5% error-rate alert
    alerts = client.get("/health").json()["alerts"]
    want = [dataclasses.asdict(a) for a in monitoring_report().alerts]
    assert {a["rule"] for a in want} == {"latency", "errors"}
    assert alerts["alerts"] == want and alerts["count"] == 2
    assert alerts["status"] == "critical"  # errors are critical, latency a warning


def test_unreadable_store_gives_unknown_alert_state(client, monkeypatch):
    from core.api import service

    def broken(**kw):
        raise RuntimeError("store gone")

    monkeypatch.setattr(service, "monitoring_report", broken)
    alerts = client.get("/health").json()["alerts"]
    assert alerts["status"] == "unknown" and "store gone" in alerts["detail"]
