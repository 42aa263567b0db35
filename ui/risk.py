"""Cached wrappers around core.risk for the Risk Sizing page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import QuantdeskError
from ui.models import serving_key


@st.cache_resource(max_entries=4, show_spinner="Loading the DQN policy…")
def _dqn(key: tuple):
    from core.risk.dqn import load_agent

    return load_agent()  # failures raise and are not cached


@st.cache_resource(max_entries=4, show_spinner="Loading the signal-quality scorer…")
def _scorer(key: tuple):
    from core.risk.signal_quality import load_scorer

    return load_scorer()


def cached_dqn():
    """(agent, metadata) of the active risk-dqn artifact, or (None, error message); cached
    per serving version (:func:`ui.models.serving_key`)."""
    try:
        return _dqn(serving_key("risk-dqn"))
    except QuantdeskError as err:
        return None, str(err)


def cached_scorer():
    """(scorer, metadata) of the active signal-quality artifact, or (None, error message);
    cached per serving version."""
    try:
        return _scorer(serving_key("signal-quality"))
    except QuantdeskError as err:
        return None, str(err)


@st.cache_data(show_spinner="Backtesting sizing policies…", max_entries=32)
def cached_policy_backtest(frame: pd.DataFrame, target_vol: float, cost_bp: float,
                           dqn_key: tuple = ()):
    """(metrics table, results by policy) for all policies on ``frame``; ``dqn_key`` (the
    DQN's :func:`ui.models.serving_key`) makes a promoted DQN recompute."""
    from core.risk.backtest import compare
    from core.risk.dqn import policy_exposures

    agent, _ = cached_dqn()
    return compare(frame["close"], policy_exposures(frame, agent, target_vol), cost_bp)


@st.cache_data(show_spinner="Loading portfolio prices…", ttl=300, max_entries=64)
def cached_close(symbol: str, interval: str) -> pd.Series:
    """Close prices of a portfolio holding (``core.data.load_ohlcv``)."""
    from core.data import load_ohlcv

    return load_ohlcv(symbol, interval).frame["close"]
