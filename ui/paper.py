"""Streamlit glue of the Paper Book page: the book's owner (signed-in user or browser
session, as for the watchlist), store calls that report instead of raising, the cached panel
the desk's signal comes from, and the account figure. Simulated only."""

from __future__ import annotations

import secrets

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots
from sqlalchemy.exc import SQLAlchemyError

from core.data import MarketData
from core.display import literal
from core.errors import QuantdeskError
from core.panel.symbol import SymbolPanel, symbol_panel
from core.panel.watchlist import owner_key
from core.store import session_scope
from core.store.db import store_error_message
from ui.auth import ADMIN_KEY

K_SID = "qd_session_id"  # the browser session id the watchlist uses too


def owner() -> str:
    """Store key of this page's book: ``user:<name>`` signed in, else ``session:<id>``."""
    sid = st.session_state.setdefault(K_SID, secrets.token_hex(8))
    return owner_key(st.session_state.get(ADMIN_KEY), sid)


def store_call(fn, *args, **kwargs):
    """``fn(owner(), *args, session=s, **kwargs)`` in one transaction; on failure show why
    (``st.error``, never a traceback) and return None."""
    try:
        with session_scope() as s:
            return fn(owner(), *args, session=s, **kwargs)
    except QuantdeskError as err:
        st.error(literal(err))
    except SQLAlchemyError as err:
        st.error(literal(store_error_message(err)))
    except Exception as err:  # noqa: BLE001 - a page never shows a traceback
        st.error(literal(f"The paper book failed unexpectedly ({type(err).__name__}: {err}); "
                         "nothing was changed."))
    return None


@st.cache_data(ttl=3600, max_entries=64, show_spinner="Asking the desk for its signal…")
def _panel(symbol: str, interval: str, bar_key: str, source: str, n: int,
           _md: MarketData) -> SymbolPanel:
    return symbol_panel(_md)


def cached_panel(md: MarketData) -> SymbolPanel:
    """The desk's panel (predictions and fused signal) of ``md``'s last bar, cached per
    (symbol, bar, source, bars)."""
    return _panel(md.symbol, md.interval, md.frame.index[-1].isoformat(), md.source,
                  len(md.frame), md)


def account_figure(marks: pd.DataFrame, initial_cash: float) -> go.Figure:
    """Equity [currency] with the starting cash, drawdown [%] and gross exposure [% of
    equity] at each marked close."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, row_heights=[0.55, 0.225, 0.225],
                        vertical_spacing=0.05,
                        subplot_titles=("Equity", "Drawdown [%]", "Exposure [% of equity]"))
    x = marks.index
    fig.add_trace(go.Scatter(x=x, y=marks["equity"], name="Equity", mode="lines+markers",
                             line={"color": "#1f77b4"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=[initial_cash] * len(x), name="Starting cash",
                             mode="lines", line={"color": "#999", "dash": "dot"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=100 * marks["drawdown"], name="Drawdown", fill="tozeroy",
                             mode="lines", line={"color": "#d62728"}), row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=100 * marks["exposure"].fillna(0), name="Exposure",
                             fill="tozeroy", mode="lines", line={"color": "#2ca02c"}),
                  row=3, col=1)
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      showlegend=False, hovermode="x unified")
    return fig
