"""Streamlit side of the Model Monitoring page: cached drift, the summary table, alert
badges. Figures come from :func:`core.monitoring.monitoring_figures` and the builders in
:mod:`core.plots.monitoring`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

EMPTY_STATE = ("No predictions logged yet — open the Overview or run "
               "`quantdesk replay --symbol MSFT --steps 50`.")

ALERT_COLOR = {"critical": "red", "warning": "orange"}


@st.cache_data(ttl=600, show_spinner="Computing feature drift…")
def cached_drift(symbol: str, interval: str, recent_bars: int) -> pd.DataFrame:
    """PSI/KS per feature: everything before the last ``recent_bars`` bars vs those bars."""
    from core.monitoring.drift import feature_drift
    from ui.data import cached_market

    return feature_drift(cached_market(symbol, interval, None, None).frame,
                         recent_bars=recent_bars)


def _f(x, pct: bool = False, digits: int = 4):
    if x is None or (isinstance(x, float) and x != x):
        return None
    return round(100 * x, 1) if pct else round(x, digits)


def summary_frame(groups) -> pd.DataFrame:
    """One row per model/version/kind/horizon with the model beside its naive baseline.
    Log-return MAE in percent; accuracy and coverage in percent."""
    rows = []
    for g in groups:
        k = 100.0 if g.kind == "log_return" else 1.0
        unit = "%" if g.kind == "log_return" else g.kind
        rows.append({
            "Model": g.model_name, "Version": g.model_version,
            "Kind": f"{g.kind}:{g.event}" if g.event else g.kind, "h [bars]": g.horizon,
            "Predictions": g.n, "Outcomes": g.n_realised,
            f"MAE": None if g.mae is None else round(g.mae * k, 4),
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


def alert_badges(alerts, max_badges: int = 8) -> None:
    """Coloured badges for the firing alerts (drift alerts summarised in one badge, all of
    them listed in an expander), or a green 'no alerts' badge."""
    if not alerts:
        st.badge("No alerts", icon=":material/check_circle:", color="green")
        return
    drift = [a for a in alerts if a.rule == "drift"]
    other = [a for a in alerts if a.rule != "drift"]
    for a in other[:max_badges]:
        st.badge(f"{a.rule}: {a.message}", icon=":material/warning:",
                 color=ALERT_COLOR.get(a.level, "orange"))
    if len(other) > max_badges:
        st.caption(f"… and {len(other) - max_badges} more (see below).")
    if drift:
        worst = max(drift, key=lambda a: a.value)
        st.badge(f"drift: {len(drift)} feature(s) with PSI > {worst.threshold:g} "
                 f"(worst {worst.target}: {worst.value:.2f})", icon=":material/warning:",
                 color="orange")
    if len(other) > max_badges or drift:
        with st.expander(f"All {len(alerts)} alerts"):
            st.dataframe(pd.DataFrame([{"Rule": a.rule, "Level": a.level, "Target": a.target,
                                        "Value": round(a.value, 4), "Threshold": a.threshold,
                                        "Message": a.message} for a in alerts]),
                         hide_index=True, width="stretch")
