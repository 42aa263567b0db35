"""What the Model Monitoring page shows, as display tables: one row per model group beside
its naive baseline, the alert list, the drift table. Pure functions of
:class:`core.monitoring.MonitoringReport` parts."""

from __future__ import annotations

import pandas as pd

from core.display import Metric
from core.monitoring.figures import Alert, GroupFigures, MonitoringReport


def _f(x, pct: bool = False, digits: int = 4):
    if x is None or (isinstance(x, float) and x != x):
        return None
    return round(100 * x, 1) if pct else round(x, digits)


#: number formats of :func:`summary_frame`'s columns on the page (others: one decimal)
SUMMARY_FORMATS = {c: "{:.4f}" for c in ("MAE", "Naive MAE", "Brier", "Brier clim.")}


def summary_frame(groups: list[GroupFigures]) -> pd.DataFrame:
    """One row per model/version/kind/horizon with the model beside its naive baseline.

    Columns: Model, Version, Kind, h [bars], Predictions, Outcomes, MAE, Naive MAE (log-return
    kinds in percent, others in the prediction's unit), MAE unit, Dir. acc. [%], Always-up
    [%], Coverage 80 [%], Brier, Brier clim., Latency p50 [ms], Latency p95 [ms]; None where
    a figure does not apply or has no outcomes yet. Empty frame for no groups.
    """
    rows = []
    for g in groups:
        k = 100.0 if g.kind == "log_return" else 1.0
        unit = "%" if g.kind == "log_return" else g.kind
        rows.append({
            "Model": g.model_name, "Version": g.model_version,
            "Kind": f"{g.kind}:{g.event}" if g.event else g.kind, "h [bars]": g.horizon,
            "Predictions": g.n, "Outcomes": g.n_realised,
            "MAE": None if g.mae is None else round(g.mae * k, 4),
            "Naive MAE": None if g.baseline_mae is None else round(g.baseline_mae * k, 4),
            "MAE unit": unit,
            "Dir. acc. [%]": _f(g.directional_accuracy, True),
            "Always-up [%]": _f(g.baseline_accuracy, True),
            "Coverage 80 [%]": _f(g.coverage, True),
            "Brier": _f(g.brier), "Brier clim.": _f(g.brier_climatology),
            "Latency p50 [ms]": _f(g.latency_p50, digits=1),
            "Latency p95 [ms]": _f(g.latency_p95, digits=1),
        })
    return pd.DataFrame(rows)


def default_group(groups: list[GroupFigures]) -> int:
    """Index of the group the page opens on: the first that is not the naive baseline
    (0 when all are naive or there are none)."""
    return next((i for i, g in enumerate(groups) if g.model_name != "naive"), 0)


def split_alerts(alerts: list[Alert]) -> tuple[list[Alert], list[Alert]]:
    """(alerts other than drift, drift alerts), each in the given order."""
    return ([a for a in alerts if a.rule != "drift"], [a for a in alerts if a.rule == "drift"])


def drift_summary(drift_alerts: list[Alert]) -> str:
    """One line for many drift alerts: how many features and the worst PSI.

    Raises:
        ValueError: no drift alerts.
    """
    worst = max(drift_alerts, key=lambda a: a.value)
    return (f"drift: {len(drift_alerts)} feature(s) with PSI > {worst.threshold:g} "
            f"(worst {worst.target}: {worst.value:.2f})")


def alerts_frame(alerts: list[Alert]) -> pd.DataFrame:
    """All alerts as a table: Rule, Level, Target, Value (4 decimals), Threshold, Message."""
    return pd.DataFrame([{"Rule": a.rule, "Level": a.level, "Target": a.target,
                          "Value": round(a.value, 4), "Threshold": a.threshold,
                          "Message": a.message} for a in alerts])


def drift_frame(drift: pd.DataFrame) -> pd.DataFrame:
    """The drift table (one row per feature: PSI, KS ...) rounded to 4 decimals for display."""
    return drift.round(4)


def ops_metrics(report: MonitoringReport) -> list[Metric]:
    """Four headline figures: requests, error rate [%], cache hit rate [%] (``–`` before any
    request) and the number of prediction groups."""
    ops = report.ops
    return [
        Metric("Requests", f"{ops['requests']:.0f}"),
        Metric("Error rate [%]",
               "–" if ops["error_rate"] is None else f"{100 * ops['error_rate']:.1f}"),
        Metric("Cache hit rate [%]",
               "–" if ops["cache_hit_rate"] is None else f"{100 * ops['cache_hit_rate']:.0f}"),
        Metric("Prediction groups", str(len(report.groups))),
    ]


def group_metrics(g: GroupFigures) -> list[Metric]:
    """Three headline figures of one group: outcomes / predictions, latency p50 / p95 [ms]
    and 80% interval coverage [%] (``–`` where not available)."""
    return [
        Metric("Outcomes", f"{g.n_realised} / {g.n}"),
        Metric("Latency p50 / p95 [ms]", "–" if g.latency_p50 is None else
               f"{g.latency_p50:.1f} / {g.latency_p95:.1f}"),
        Metric("Coverage 80 [%]", "–" if g.coverage is None else f"{100 * g.coverage:.1f}"),
    ]
