"""Model monitoring: figures from stored predictions and outcomes
(:mod:`core.monitoring.figures`), feature drift (:mod:`core.monitoring.drift`) and alert
rules. Plotly builders for the page live in :mod:`core.plots.monitoring`."""

from core.monitoring.figures import (
    Alert, GroupFigures, MonitoringReport, Thresholds, monitoring_figures, summary_rows,
)

__all__ = ["Alert", "GroupFigures", "MonitoringReport", "Thresholds", "monitoring_figures",
           "summary_rows"]
