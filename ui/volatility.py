"""Cached wrappers of the Volatility page (st.cache_* at the page edge; all maths in core)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data import MarketData


def frame_key(md: MarketData) -> str:
    """Cache key of a symbol's bars (content hash)."""
    from core.predictions import hash_inputs

    return f"{md.symbol}|{md.interval}|{hash_inputs(md.frame)}"


def cached_artifact():
    """The serving, sha256-verified ``volatility`` artifact (cached per serving version), or
    None when none is trained or the family is disabled."""
    from core.errors import NotTrainedError
    from ui.models import active_artifact

    try:
        return active_artifact("volatility")
    except NotTrainedError:
        return None


@st.cache_data(ttl=600, show_spinner="Forecasting volatility…")
def cached_predictions(key: str, _md: MarketData):
    """``core.volatility.predict_latest`` for h = 1, 5, 21 (list of Prediction)."""
    from core.volatility import predict_latest

    return predict_latest(_md)


@st.cache_data(ttl=600, show_spinner="Filtering GARCH volatility…")
def cached_history(key: str, _md: MarketData, periods_per_year: float) -> pd.DataFrame:
    """GJR conditional vol, realised vol and regime per bar."""
    from core.volatility.serve import history

    return history(_md.frame, _md.symbol, cached_artifact(), periods_per_year)


@st.cache_data(ttl=600, show_spinner=False)
def cached_cone(key: str, _md: MarketData, periods_per_year: float) -> pd.DataFrame:
    from core.volatility import volatility_cone

    return volatility_cone(_md.frame, periods_per_year=periods_per_year)


@st.cache_data(ttl=600, show_spinner=False)
def cached_estimators(key: str, _md: MarketData, window: int, periods_per_year: float
                      ) -> pd.DataFrame:
    from core.volatility import all_estimators

    return all_estimators(_md.frame, window, periods_per_year)


@st.cache_data(ttl=3600, show_spinner=False)
def cached_vix() -> pd.Series:
    from core.data import load_vix

    return load_vix()
