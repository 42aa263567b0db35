"""Cached wrappers of the Volatility page (st.cache_* at the page edge; all maths in core)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data import MarketData, load_vix
from core.errors import NotTrainedError
from core.predictions import hash_inputs
from core.volatility import all_estimators, predict_latest, volatility_cone
from core.volatility.serve import history
from ui.models import active_artifact

#: every cache here is bounded in time and entries (issue 18). 10 minutes: the serving model
#: may change (the key names its version) and live bars move; entries: one per symbol's bars
#: (``frame_key``), a few dozen symbols in use at once; the estimators also per window (5).
TTL_S = 600
MAX_ENTRIES = 32


def frame_key(md: MarketData) -> str:
    """Cache key of a symbol's bars (content hash)."""
    return f"{md.symbol}|{md.interval}|{hash_inputs(md.frame)}"


def cached_artifact():
    """The serving, sha256-verified ``volatility`` artifact (cached per serving version), or
    None when none is trained or the family is disabled."""
    try:
        return active_artifact("volatility")
    except NotTrainedError:
        return None


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner="Forecasting volatility…")
def cached_predictions(key: str, _md: MarketData):
    """``core.volatility.predict_latest`` for h = 1, 5, 21 (list of Prediction)."""
    return predict_latest(_md)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner="Filtering GARCH volatility…")
def cached_history(key: str, _md: MarketData, periods_per_year: float) -> pd.DataFrame:
    """GJR conditional vol, realised vol and regime per bar."""
    return history(_md.frame, _md.symbol, cached_artifact(), periods_per_year)


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def cached_cone(key: str, _md: MarketData, periods_per_year: float) -> pd.DataFrame:
    """Volatility cone of the bars (:func:`core.volatility.volatility_cone`), per ``key``."""
    return volatility_cone(_md.frame, periods_per_year=periods_per_year)


@st.cache_data(ttl=TTL_S, max_entries=2 * MAX_ENTRIES, show_spinner=False)
def cached_estimators(key: str, _md: MarketData, window: int, periods_per_year: float
                      ) -> pd.DataFrame:
    """Every realised-volatility estimator over ``window`` bars, annualised
    (:func:`core.volatility.all_estimators`), per ``key``."""
    return all_estimators(_md.frame, window, periods_per_year)


@st.cache_data(ttl=3600, max_entries=1, show_spinner=False)  # one series, no arguments
def cached_vix() -> pd.Series:
    """Bundled ^VIX closes (:func:`core.data.load_vix`), an hour."""
    return load_vix()
