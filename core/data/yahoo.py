"""Yahoo Finance bars through yfinance (live, when the network allows).

Offline, yfinance either returns an empty frame or raises ``OSError`` within milliseconds;
both become :class:`DataSourceError` with a plain message so callers can fall back.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

import logging

from core.errors import DataSourceError

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
    """Download raw bars (unvalidated) with auto-adjusted OFF and ``adj_close`` kept.

    Returns:
        DataFrame with columns open, high, low, close, adj_close, volume; UTC index.

    Raises:
        DataSourceError: unsupported interval, network failure, or no rows (unknown symbol
        or no data in range).
    """
    if interval not in INTERVALS:
        raise DataSourceError(
            f"Interval '{interval}' is not offered by Yahoo; use one of {', '.join(INTERVALS)}."
        )
    try:
        import yfinance as yf

        kwargs: dict = {"interval": interval, "auto_adjust": False, "actions": False,
                        "timeout": timeout, "raise_errors": True}
        limit = INTERVALS[interval]
        if start is None and end is None:
            kwargs["period"] = "max" if limit is None else f"{limit}d"
        else:
            kwargs["start"] = start
            kwargs["end"] = end
        raw = yf.Ticker(symbol).history(**kwargs)
    except OSError as err:
        raise DataSourceError(f"Yahoo Finance is unreachable ({type(err).__name__}). "
                              "Showing cached or bundled data if available.") from None
    except Exception as err:  # yfinance raises its own exception zoo for bad symbols
        raise DataSourceError(f"Yahoo Finance returned no data for '{symbol}' ({err}).") from None
    if raw is None or raw.empty:
        raise DataSourceError(
            f"Yahoo Finance returned no bars for '{symbol}' at {interval}: the symbol may not "
            "exist, or the network is down."
        )
    raw = raw.rename(columns=lambda c: str(c).strip().lower().replace(" ", "_"))
    cols = [c for c in ["open", "high", "low", "close", "adj_close", "volume"] if c in raw]
    out = raw[cols].copy()
    out.index = pd.to_datetime(out.index, utc=True).rename("timestamp")
    return out
