"""Market data: one entry point, one validated frame.

``load_ohlcv`` tries, in order: a CSV (when given), the bundled history (for bundled
symbols at 1d, unless ``source="yahoo"``), Yahoo Finance through a private disk cache, a
stale cached copy, and finally the bundled history. The result says which one served and
whether it is stale, so pages can show "stale data as of ...".
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from core.config import get_settings
from core.data.bundled import BUNDLED_SYMBOLS, SOURCE_NOTE, load_bundled, load_vix
from core.data.cache import FrameCache, ttl_for
from core.data.csv import read_ohlcv_csv
from core.data.validate import OHLCV, ValidationReport, validate_ohlcv
from core.data.yahoo import INTERVALS, fetch_yahoo
from core.errors import DataSourceError, UnknownSymbolError

__all__ = [
    "BUNDLED_SYMBOLS", "INTERVALS", "OHLCV", "MarketData", "ValidationReport", "list_symbols",
    "load_ohlcv", "load_csv", "load_vix", "read_ohlcv_csv", "validate_ohlcv",
]

SourceName = Literal["auto", "bundled", "yahoo", "csv"]


@dataclass
class MarketData:
    """Validated bars plus where they came from.

    Attributes:
        frame: OHLCV frame (see :mod:`core.data.validate`), UTC ``timestamp`` index.
        symbol: upper-case ticker. interval: yfinance-style interval, e.g. ``1d``.
        source: ``bundled`` | ``yahoo`` | ``cache`` | ``csv``.
        as_of: when the data were fetched (UTC), or the last bar for static sources.
        stale: True when a live fetch failed and an older copy is shown.
        notes: repairs made by validation and fallbacks taken, as sentences.
    """

    frame: pd.DataFrame
    symbol: str
    interval: str
    source: str
    as_of: pd.Timestamp
    stale: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def status_line(self) -> str:
        f = self.frame
        first, last = f.index[0].date(), f.index[-1].date()
        text = (f"{self.symbol} {self.interval} · {len(f):,} bars {first} → {last} · "
                f"source: {self.source} · as of {self.as_of:%Y-%m-%d %H:%M} UTC")
        return ("STALE · " + text) if self.stale else text


def list_symbols() -> list[dict]:
    """Bundled symbols with their range and provenance (for ``quantdesk data list``)."""
    rows = []
    for sym in BUNDLED_SYMBOLS:
        f = load_bundled(sym)
        rows.append({"symbol": sym, "interval": "1d", "rows": len(f),
                     "first": f.index[0].date().isoformat(), "last": f.index[-1].date().isoformat(),
                     "source": "bundled", "provenance": SOURCE_NOTE[sym]})
    return rows


def _slice(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    if start is not None:
        frame = frame[frame.index >= pd.Timestamp(start, tz="UTC")]
    if end is not None:
        end_ts = pd.Timestamp(end, tz="UTC")
        if end_ts == end_ts.normalize():
            end_ts = end_ts + pd.Timedelta(days=1)  # an end *date* includes that day
        frame = frame[frame.index < end_ts]
    return frame


def load_csv(source, symbol: str = "CSV", *, min_bars: int = 1) -> MarketData:
    """Bars from a CSV path/upload, validated. Raises DataValidationError."""
    rep = validate_ohlcv(read_ohlcv_csv(source), symbol, min_bars=min_bars)
    f = rep.frame
    return MarketData(f, symbol.upper(), "csv", "csv", f.index[-1], notes=rep.repairs)


def load_ohlcv(
    symbol: str,
    interval: str = "1d",
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    *,
    source: SourceName = "auto",
    min_bars: int = 1,
) -> MarketData:
    """Validated bars for ``symbol`` from the best available source.

    ``source="auto"``: bundled symbols at ``1d`` come from the bundled history (fast,
    offline, reproducible); anything else goes to Yahoo (cached), falling back to a stale
    cached copy and then to the bundled history.

    Raises:
        UnknownSymbolError: nothing serves the symbol (message says what to do).
        DataSourceError: Yahoo failed and no fallback exists.
        DataValidationError / InsufficientDataError: the bars break the contract.
    """
    symbol = symbol.strip().upper()
    if not symbol:
        raise UnknownSymbolError("Enter a ticker symbol such as MSFT or ^GSPC.")
    settings = get_settings()
    notes: list[str] = []
    bundled_ok = symbol in BUNDLED_SYMBOLS and interval == "1d"

    if source == "bundled" or (source == "auto" and bundled_ok):
        raw, src, as_of, stale = load_bundled(symbol), "bundled", None, False
    else:
        raw, src, as_of, stale = None, "yahoo", None, False
        key = f"yahoo:{symbol}:{interval}"
        cache = FrameCache(settings.cache_dir)
        try:
            hit = cache.get(key)
            if hit is not None and FrameCache.is_fresh(hit[1], ttl_for(interval)):
                raw, as_of, src = hit[0], pd.Timestamp(hit[1], unit="s", tz="UTC"), "cache"
            else:
                try:
                    if settings.offline:
                        raise DataSourceError("Offline mode: Yahoo Finance is not contacted.")
                    raw = fetch_yahoo(symbol, interval, timeout=settings.yahoo_timeout)
                    cache.put(key, raw)
                    as_of = pd.Timestamp(time.time(), unit="s", tz="UTC")
                except DataSourceError as err:
                    notes.append(str(err))
                    if hit is not None:
                        raw, src, stale = hit[0], "cache", True
                        as_of = pd.Timestamp(hit[1], unit="s", tz="UTC")
                    elif symbol in BUNDLED_SYMBOLS and interval == "1d":
                        raw, src, stale = load_bundled(symbol), "bundled", True
                    elif symbol in BUNDLED_SYMBOLS:
                        raise DataSourceError(
                            f"{err} Only daily (1d) history of {symbol} is bundled offline."
                        ) from None
                    else:
                        raise UnknownSymbolError(
                            f"{err} No cached copy of {symbol} exists and it is not bundled "
                            f"({', '.join(BUNDLED_SYMBOLS)}). Try again online or upload a CSV."
                        ) from None
        finally:
            cache.close()
    frame = _slice(raw, start, end)
    rep = validate_ohlcv(frame, symbol, min_bars=min_bars)
    notes.extend(rep.repairs)
    if as_of is None:
        as_of = rep.frame.index[-1]
    return MarketData(rep.frame, symbol, interval, src, as_of, stale=stale, notes=notes)
