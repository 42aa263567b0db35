"""Cached wrappers around core.risk for the Risk Sizing page: models, prices, the sized trade
against the book, the book's risk and the policy backtest."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data import MarketData
from core.errors import QuantdeskError
from core.risk import book as _book
from core.risk.backtest import compare
from core.risk.dqn import load_agent  # torch is imported inside, on use
from core.risk.evaluate import policy_exposures
from core.risk.portfolio import PortfolioRisk, aligned_returns, portfolio_risk
from core.risk.signal_quality import load_scorer, score_latest
from core.risk.sizing import RiskParameters, SizingResult
from ui.data import cached_market, follow_bars
from ui.models import serving_key

#: every cache here is bounded in time and entries (issue 18). Entries: one per (symbol's
#: bars, inputs) for a few dozen users at once. TTLs: the policy backtest and the signal
#: score (keyed by the model's serving version) are costly and stay an hour; the book's
#: weights and risk are cheap and follow the portfolio editor, so they go after 30 minutes.
MODEL_TTL_S = 3600
BOOK_TTL_S = 30 * 60


# model caches: keyed by serving version, bounded by entries; no TTL, which would only reload
# the same weights (a promote or rollback changes the key)
@st.cache_resource(max_entries=4, show_spinner="Loading the DQN policy…")
def _dqn(key: tuple):
    return load_agent()  # failures raise and are not cached


@st.cache_resource(max_entries=4, show_spinner="Loading the signal-quality scorer…")
def _scorer(key: tuple):
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


@st.cache_data(show_spinner="Backtesting sizing policies…", ttl=MODEL_TTL_S, max_entries=32)
def cached_policy_backtest(frame: pd.DataFrame, target_vol: float, cost_bp: float,
                           dqn_key: tuple = ()):
    """(metrics table, results by policy) for all policies on ``frame``; ``dqn_key`` (the
    DQN's :func:`ui.models.serving_key`) makes a promoted DQN recompute."""
    agent, _ = cached_dqn()
    return compare(frame["close"], policy_exposures(frame, agent, target_vol), cost_bp)


def book_closes(symbols, md: MarketData) -> tuple[dict[str, pd.Series], list[str]]:
    """Close prices of the holdings (the page's own symbol from ``md``, the others through
    :func:`ui.data.cached_market`) and one sentence per holding that failed to load
    (:func:`core.risk.book.book_closes`).

    A holding's expired copy is used at once while it is downloaded again in the background,
    and the page reruns when the new bars landed (:func:`ui.data.follow_bars`): a portfolio
    of many symbols never holds the page on Yahoo Finance once each has a copy."""
    loaded: list[MarketData] = []

    def close(sym: str) -> pd.Series:
        holding = cached_market(sym, md.interval)
        loaded.append(holding)
        return holding.frame["close"]

    closes = _book.book_closes(symbols, md.symbol, md.frame["close"], close)
    follow_bars(*loaded)
    return closes


@st.cache_data(show_spinner=False, ttl=BOOK_TTL_S, max_entries=64)
def cached_book_weights(holdings: pd.DataFrame, closes: dict[str, pd.Series], equity: float
                        ) -> tuple[pd.Series, list[str]]:
    """(weights [fraction of equity], problems) of the priced holdings
    (:func:`core.risk.book.book_weights`)."""
    return _book.book_weights(holdings, closes, equity)


@st.cache_data(show_spinner=False, ttl=MODEL_TTL_S, max_entries=64)
def cached_signal_score(frame: pd.DataFrame, direction: str, scorer_key: tuple = ()) -> dict:
    """The signal-quality scorer's P(success) for a ``direction`` trade on the last bar
    (:func:`core.risk.signal_quality.score_latest`); ``scorer_key`` (its serving key) makes a
    promoted scorer recompute."""
    return score_latest(frame, direction)


def size_trade(frame: pd.DataFrame, params: RiskParameters, symbol: str, interval: str,
               closes: dict[str, pd.Series], book: pd.Series
               ) -> tuple[SizingResult, list[str]]:
    """The sized trade with its correlation to the book, and problems with that correlation
    (:func:`core.risk.book.size_in_book`). Not cached: its volatility forecast may follow the
    serving volatility model."""
    return _book.size_in_book(frame, params, symbol, interval, closes, book)


@st.cache_data(show_spinner=False, ttl=BOOK_TTL_S, max_entries=64)
def cached_book_returns(closes: dict[str, pd.Series]) -> pd.DataFrame:
    """Simple returns of the book's symbols on their common bars, last 500
    (:func:`core.risk.portfolio.aligned_returns`)."""
    return aligned_returns(closes)


@st.cache_data(show_spinner=False, ttl=BOOK_TTL_S, max_entries=64)
def cached_book_risk(returns: pd.DataFrame, book: pd.Series, level: float) -> PortfolioRisk:
    """VaR/CVaR, volatility and Euler contributions of the book at ``level``
    (:func:`core.risk.portfolio.portfolio_risk`)."""
    return portfolio_risk(returns, book, level)


@st.cache_data(show_spinner=False, ttl=BOOK_TTL_S, max_entries=64)
def cached_marginal_effect(returns: pd.DataFrame, book: pd.Series, res: SizingResult,
                           level: float) -> dict:
    """The book's risk before and after the sized trade
    (:func:`core.risk.book.trade_marginal_effect`)."""
    return _book.trade_marginal_effect(returns, book, res, level)
