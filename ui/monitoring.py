"""Streamlit side of the Model Monitoring page: store reads, cached drift, alert badges.
Figures come from :mod:`core.monitoring` (queries, report tables) and the builders in
:mod:`core.plots.monitoring`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.display import badge_literal
from core.monitoring.drift import feature_drift
from core.monitoring.figures import Alert, MonitoringReport
from core.monitoring.queries import model_families, monitoring_report
from core.monitoring.report import alerts_frame, drift_summary, split_alerts
from ui.data import cached_market

EMPTY_STATE = ("No predictions logged yet — open the Overview or run "
               "`quantdesk replay --symbol MSFT --steps 50`.")

ALERT_COLOR = {"critical": "red", "warning": "orange"}


@st.cache_data(ttl=600, max_entries=32, show_spinner="Computing feature drift…")
def cached_drift(symbol: str, interval: str, recent_bars: int) -> pd.DataFrame:
    """PSI/KS per feature: everything before the last ``recent_bars`` bars vs those bars
    (cached 600 s, at most 32 entries)."""
    return feature_drift(cached_market(symbol, interval, None, None).frame,
                         recent_bars=recent_bars)


def store_families() -> list[str]:
    """Model families with logged predictions (:func:`core.monitoring.queries.model_families`);
    not cached: the store grows while the page is open."""
    return model_families()


def load_report(family: str, symbol: str, window: int, accuracy_floor: float,
                drift: pd.DataFrame | None) -> MonitoringReport:
    """The monitoring report for the page's choices (``"All"`` = no filter), not cached
    (:func:`core.monitoring.queries.monitoring_report`)."""
    return monitoring_report(model_name=None if family == "All" else family,
                             symbol=None if symbol == "All" else symbol, window=window,
                             accuracy_floor=accuracy_floor, drift=drift)


def alert_badges(alerts: list[Alert], max_badges: int = 8) -> None:
    """Coloured badges for the firing alerts (drift alerts summarised in one badge, all of
    them listed in an expander), or a green 'no alerts' badge. Alert texts (they name
    symbols and models) are shown literally."""
    if not alerts:
        st.badge("No alerts", icon=":material/check_circle:", color="green")
        return
    other, drift = split_alerts(alerts)
    for a in other[:max_badges]:
        st.badge(badge_literal(f"{a.rule}: {a.message}"), icon=":material/warning:",
                 color=ALERT_COLOR.get(a.level, "orange"))
    if len(other) > max_badges:
        st.caption(f"… and {len(other) - max_badges} more (see below).")
    if drift:
        st.badge(badge_literal(drift_summary(drift)), icon=":material/warning:", color="orange")
    if len(other) > max_badges or drift:
        with st.expander(f"All {len(alerts)} alerts"):
            st.dataframe(alerts_frame(alerts), hide_index=True, width="stretch")
