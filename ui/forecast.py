"""Cached wrappers of the Forecasts page around :mod:`core.forecasting`."""

from __future__ import annotations

import streamlit as st

from core.forecasting.serve import predict_latest
from core.registry import list_versions, read_metadata
from ui.models import active_artifact


def active_forecast_artifact():
    """The serving ``forecast`` artifact (sha256-verified), cached per serving version."""
    return active_artifact("forecast")


# bounded in time and entries (issue 18): keyed by (symbol, last bar, version), so a new bar
# or version is a new entry; 64 covers a few dozen symbols in use; an hour lets the entries
# of bars and versions nobody asks for any more go
@st.cache_data(show_spinner=False, ttl=3600, max_entries=64)
def cached_predictions(_md, symbol: str, interval: str, last_ts, n_bars: int, version: str):
    """``predict_latest`` for the market data's last bar, cached per (symbol, bar, version)."""
    return predict_latest(_md, active_forecast_artifact())


def walk_forward_results(metadata: dict) -> tuple[dict | None, str | None]:
    """Precomputed walk-forward results stored with a forecast version (this one, else the
    newest version that has them) -> (results by symbol/horizon, version) or (None, None)."""
    if metadata.get("walk_forward"):
        return metadata["walk_forward"], metadata.get("version")
    for v in reversed(list_versions("forecast")):
        m = read_metadata("forecast", v)
        if m.get("walk_forward"):
            return m["walk_forward"], v
    return None, None
