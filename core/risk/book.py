"""A new trade against the current book (the user's portfolio), for the Risk Sizing page.

The book is a holdings table ``symbol, shares, entry`` (:func:`core.risk.portfolio.parse_holdings`).
Its weights are signed position values over equity at each holding's last close; the trade
is sized by :func:`core.risk.sizing.size_position` and then set against the book: the
correlation of the trade's returns with the book's returns and the book's risk before and
after adding it (:func:`core.risk.portfolio.marginal_effect`).

Functions that the page runs on partial data (a holding whose prices fail to load, histories
that do not overlap) return the problems as sentences beside their result instead of raising,
so one bad row does not hide the rest of the page.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import pandas as pd

from core.errors import QuantdeskError
from core.risk.portfolio import (aligned_returns, correlation_risk, marginal_effect,
                                 portfolio_returns, position_values, weights)
from core.risk.sizing import RiskParameters, SizingResult, size_position


def example_holdings() -> pd.DataFrame:
    """The example book the page starts with: 300 IBM and 40 GOOG, entry prices unknown.

    Returns:
        DataFrame ``symbol`` (str), ``shares`` (float64), ``entry`` (float64, NaN) - 2 rows.
    """
    return pd.DataFrame({"symbol": ["IBM", "GOOG"], "shares": [300.0, 40.0],
                         "entry": [np.nan, np.nan]})


def book_closes(symbols: Iterable[str], own_symbol: str, own_close: pd.Series,
                load_close: Callable[[str], pd.Series]
                ) -> tuple[dict[str, pd.Series], list[str]]:
    """Close prices of each holding; the traded symbol's own (already loaded) closes reused.

    Args:
        symbols: the holdings' symbols (upper case, unique).
        own_symbol, own_close: the symbol on the page and its close prices.
        load_close: ``symbol -> close prices`` for the others (raises QuantdeskError).
    Returns:
        (closes by symbol for the holdings that loaded, one ``"SYM: reason"`` sentence per
        holding that did not).
    """
    closes: dict[str, pd.Series] = {}
    problems: list[str] = []
    for sym in symbols:
        try:
            closes[sym] = own_close if sym == own_symbol else load_close(sym)
        except QuantdeskError as err:
            problems.append(f"{sym}: {err}")
    return closes, problems


def book_weights(holdings: pd.DataFrame, closes: dict[str, pd.Series], equity: float
                 ) -> tuple[pd.Series, list[str]]:
    """Signed weights of the holdings that have prices, at their last close.

    Args:
        holdings: parsed holdings table (rows of symbols absent from ``closes`` are ignored).
        closes: close prices by symbol (last value = the price used).
        equity: account equity [currency].
    Returns:
        (weights [fraction of equity] indexed by symbol - empty float64 Series when nothing is
        held or the values cannot be computed -, problems as sentences, e.g. equity <= 0).
    """
    held = holdings[holdings["symbol"].isin(closes)]
    if held.empty:
        return pd.Series(dtype="float64"), []
    try:
        values = position_values(held, {s: float(c.iloc[-1]) for s, c in closes.items()})
        return weights(values, equity), []
    except QuantdeskError as err:
        return pd.Series(dtype="float64"), [str(err)]


def signed_weight(res: SizingResult) -> float:
    """The sized position as a signed fraction of equity (+ long, - short)."""
    sgn = 1 if res.direction == "long" else -1
    return sgn * res.position_pct_equity / 100


def size_in_book(frame: pd.DataFrame, params: RiskParameters, symbol: str, interval: str,
                 closes: dict[str, pd.Series], book: pd.Series
                 ) -> tuple[SizingResult, list[str]]:
    """Size a trade (:func:`core.risk.sizing.size_position`) and fill in its correlation with
    the book (``correlation_risk``: Pearson correlation of the trade's signed daily returns
    with the book's returns on their common bars, last 500; NaN when the book is empty).

    Args:
        frame: OHLCV of ``symbol`` (>= 60 bars). params: the sizing inputs.
        closes: the holdings' close prices (:func:`book_closes`). book: their weights
            (:func:`book_weights`).
    Returns:
        (the sizing result, problems with the correlation as sentences, e.g. histories that
        barely overlap - the result is still returned, its correlation NaN).
    Raises:
        DataValidationError, InsufficientDataError: from ``size_position`` (bad inputs).
    """
    res = size_position(frame, params, symbol, interval)
    problems: list[str] = []
    if closes and not book.empty:
        try:
            R = aligned_returns({**closes, symbol: frame["close"]})
            sgn = 1 if params.direction == "long" else -1
            res.correlation_risk = sgn * correlation_risk(R[symbol], portfolio_returns(R, book))
        except QuantdeskError as err:
            problems.append(str(err))
    return res, problems


def trade_marginal_effect(returns: pd.DataFrame, book: pd.Series, res: SizingResult,
                          level: float = 0.95) -> dict:
    """The book's risk before and after adding the sized trade (signed weight of ``res``).

    Args:
        returns: bars x symbols simple returns including ``res.symbol``
            (:func:`core.risk.portfolio.aligned_returns`). book: weights before the trade.
        level: VaR confidence.
    Returns:
        :func:`core.risk.portfolio.marginal_effect`'s dict (``vol_*`` annualised, ``var_*``
        and ``cvar_*`` historical 1-bar; fractions of equity; ``delta_*`` after - before).
    Raises:
        DataValidationError: a weighted symbol has no returns.
    """
    return marginal_effect(returns, book, res.symbol, signed_weight(res), level)
