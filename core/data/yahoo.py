"""Yahoo Finance bars through yfinance (live, when the network allows).

Every failure becomes a :class:`DataSourceError` with a plain message so callers can fall
back: :class:`SourceUnreachableError` for the network (or Yahoo rate-limiting), and
:class:`UnknownSymbolError` when Yahoo answers with no bars. Bars are adjusted the way the
bundled history is (:func:`core.data.bundled.adjust_to_adj_close`), so a split inside the
range never shows as a price jump, whether or not Yahoo has already adjusted ``Close``.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from core.data.bundled import adjust_to_adj_close
from core.errors import DataSourceError, SourceUnreachableError, UnknownSymbolError

# yfinance logs every network failure to stderr; the DataSourceError message says it once.
logging.getLogger("yfinance").setLevel(logging.CRITICAL)

# yfinance intervals and how far back Yahoo serves each (days); None = full history.
INTERVALS: dict[str, int | None] = {
    "1m": 7, "2m": 59, "5m": 59, "15m": 59, "30m": 59, "60m": 729, "90m": 59,
    "1h": 729, "1d": None, "5d": None, "1wk": None, "1mo": None, "3mo": None,
}


def fetch_yahoo(
    symbol: str,
    interval: str = "1d",
    start: dt.date | None = None,
    end: dt.date | None = None,
    timeout: float = 10.0,
) -> pd.DataFrame:
    """Download raw bars (unvalidated) with auto-adjust OFF, then adjust by ``adj_close``.

    Without ``start``/``end`` the whole look-back Yahoo offers for ``interval`` is asked
    for (:data:`INTERVALS`). yfinance answers ``Open High Low Close Adj Close Volume`` on an
    exchange-time index; this returns lower-case ``open high low close volume adj_close``
    [price, shares] on a UTC index named ``timestamp``, with OHLC scaled by
    ``adj_close / close`` and volume by the split part of that factor.

    Raises:
        DataSourceError: unsupported interval, or Yahoo failed otherwise.
        SourceUnreachableError: network failure or rate limiting (try again later).
        UnknownSymbolError: Yahoo has no bars for the symbol (and range).
    """
    if interval not in INTERVALS:
        raise DataSourceError(
            f"Interval '{interval}' is not offered by Yahoo; use one of {', '.join(INTERVALS)}."
        )
    try:
        import yfinance as yf  # deferred: yfinance is slow to import
        from yfinance.exceptions import YFRateLimitError, YFTickerMissingError
    except ImportError:  # pragma: no cover - yfinance is a core dependency
        raise DataSourceError("yfinance is not installed; Yahoo Finance is unavailable.") from None
    kwargs: dict = {"interval": interval, "auto_adjust": False, "actions": False,
                    "timeout": timeout, "raise_errors": True}
    limit = INTERVALS[interval]
    if start is None and end is None:
        kwargs["period"] = "max" if limit is None else f"{limit}d"
    else:
        kwargs["start"] = start
        kwargs["end"] = end
    where = "" if start is None and end is None else " in that date range"
    try:
        raw = yf.Ticker(symbol).history(**kwargs)
    except YFRateLimitError:
        raise SourceUnreachableError(
            "Yahoo Finance is rate-limiting requests; try again in a minute. "
            "Showing cached or bundled data if available."
        ) from None
    except OSError as err:  # curl_cffi's connection and timeout errors are OSErrors
        raise SourceUnreachableError(f"Yahoo Finance is unreachable ({type(err).__name__}). "
                                     "Showing cached or bundled data if available.") from None
    except YFTickerMissingError as err:
        raise UnknownSymbolError(f"Yahoo Finance has no {interval} bars for '{symbol}'{where} "
                                 f"({err}).") from None
    except Exception as err:  # yfinance's own exception zoo
        raise DataSourceError(f"Yahoo Finance returned no data for '{symbol}' "
                              f"({type(err).__name__}: {err}).") from None
    if raw is None or raw.empty:
        raise UnknownSymbolError(f"Yahoo Finance has no {interval} bars for '{symbol}'{where}.")
    return normalise_history(raw)


def normalise_history(raw: pd.DataFrame) -> pd.DataFrame:
    """yfinance's ``Open High Low Close Adj Close Volume`` (exchange-time index) as
    lower-case ``open high low close adj_close volume`` on a UTC ``timestamp`` index,
    adjusted by ``adj_close`` (:func:`core.data.bundled.adjust_to_adj_close`); rows
    without a close (a ticker missing from a multi-ticker download) are dropped."""
    raw = raw.rename(columns=lambda c: str(c).strip().lower().replace(" ", "_"))
    cols = [c for c in ["open", "high", "low", "close", "adj_close", "volume"] if c in raw]
    out = raw[cols].dropna(subset=["close"]).copy() if "close" in raw else raw[cols].copy()
    out.index = pd.to_datetime(out.index, utc=True).rename("timestamp")
    return adjust_to_adj_close(out)
