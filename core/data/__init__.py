"""Market data: one entry point, one validated frame.

``load_ohlcv(source="auto")`` is live first, for every symbol: a fresh cached download,
else Yahoo Finance (when the network probe of :mod:`core.data.network` says it is
reachable and ``QUANTDESK_OFFLINE`` is not set), else a stale cached copy, else the
bundled history (daily bars of the six bundled symbols), else a clear error.
``source="bundled"`` asks for the bundled history (the offline demo) directly. Whatever
serves, the result says which source it was, whether it is stale, and, when the data are
not live, a ``fallback`` sentence with their as-of date for the page to show.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from core.config import get_settings
from core.data import network
from core.data.bundled import BUNDLED_SYMBOLS, SOURCE_NOTE, load_bundled, load_vix
from core.data.cache import FrameCache, bar_key, ttl_for
from core.data.csv import read_ohlcv_csv
from core.data.revalidate import Revalidator
from core.data.validate import OHLCV, ValidationReport, validate_ohlcv
from core.data.yahoo import INTERVALS, fetch_yahoo
from core.errors import (DataSourceError, DataValidationError, SourceUnreachableError,
                         UnknownSymbolError)

__all__ = [
    "BUNDLED_LABEL", "BUNDLED_SYMBOLS", "INTERVALS", "OHLCV", "MarketData", "ValidationReport",
    "list_symbols", "load_ohlcv", "load_csv", "load_vix", "read_ohlcv_csv", "validate_ohlcv",
]

SourceName = Literal["auto", "bundled", "yahoo"]
BUNDLED_LABEL = "Bundled history (offline demo)"


@dataclass
class MarketData:
    """Validated bars plus where they came from.

    Attributes:
        frame: OHLCV frame (see :mod:`core.data.validate`), UTC ``timestamp`` index.
        symbol: upper-case ticker. interval: yfinance-style interval, e.g. ``1d``.
        source: ``bundled`` | ``yahoo`` | ``cache`` | ``csv``.
        as_of: when the data were fetched (UTC), or the last bar for static sources.
        stale: True when older data stand in for a live download that was due: an expired
            cached copy, or the bundled history after Yahoo could not be reached or failed.
            The bundled history asked for (``source="bundled"``, or offline mode) is not
            stale, but it always carries a ``fallback`` sentence.
        notes: why a fallback was taken, the fallback sentence, and repairs made by
            validation, as sentences.
        fallback: when the data are not live, one sentence naming the source and its as-of
            date, e.g. "Bundled history (offline demo), last bar 2013-03-01."; else None.
    """

    frame: pd.DataFrame
    symbol: str
    interval: str
    source: str
    as_of: pd.Timestamp
    stale: bool = False
    notes: list[str] = field(default_factory=list)
    fallback: str | None = None

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


def parse_date(value, what: str = "date") -> pd.Timestamp:
    """``value`` (a date, datetime or ISO string) as a UTC timestamp.

    Raises:
        DataValidationError: not a date, or outside pandas' range (years 1677-2262); the
            message shows the value and the expected form.
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        ts = None
    if ts is None or ts is pd.NaT:
        shown = str(value)[:40]
        raise DataValidationError(f"The {what} {shown!r} is not a date: use YYYY-MM-DD "
                                  "(years 1677 to 2262), e.g. 2020-01-31.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _slice(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    if start is not None:
        frame = frame[frame.index >= parse_date(start, "start date")]
    if end is not None:
        end_ts = parse_date(end, "end date")
        if end_ts == end_ts.normalize():
            end_ts = end_ts + pd.Timedelta(days=1)  # an end *date* includes that day
        frame = frame[frame.index < end_ts]
    return frame


def load_csv(source, symbol: str = "CSV", *, min_bars: int = 1) -> MarketData:
    """Bars from a CSV path/upload, validated. Raises DataValidationError."""
    rep = validate_ohlcv(read_ohlcv_csv(source), symbol, min_bars=min_bars)
    f = rep.frame
    return MarketData(f, symbol.upper(), "csv", "csv", f.index[-1], notes=rep.repairs)


def _bundled_daily(symbol: str, interval: str) -> pd.DataFrame:
    """The bundled history (raw, unvalidated). Raises DataSourceError for intraday and
    UnknownSymbolError for a symbol that is not bundled."""
    if symbol in BUNDLED_SYMBOLS and interval != "1d":
        raise DataSourceError(f"Only daily (1d) history of {symbol} is bundled offline; "
                              f"{interval} bars need Yahoo Finance (online).")
    return load_bundled(symbol)


def _bundled_note(raw: pd.DataFrame) -> str:
    return f"{BUNDLED_LABEL}, last bar {raw.index[-1].date()}."


def _utc(epoch_s: float) -> pd.Timestamp:
    return pd.Timestamp(epoch_s, unit="s", tz="UTC")


def _download(symbol: str, interval: str) -> pd.DataFrame:
    """Yahoo's bars for ``symbol`` (raw, unvalidated), written to the disk cache.

    Raises:
        SourceUnreachableError: offline mode, the network probe failed, or the download
            did (then the probe is told, so nothing waits on Yahoo again this minute).
        DataSourceError / UnknownSymbolError: what :func:`fetch_yahoo` raises otherwise.
    """
    settings = get_settings()
    if settings.offline:
        raise SourceUnreachableError(
            "Offline mode (QUANTDESK_OFFLINE=1): Yahoo Finance is not contacted.")
    if not network.yahoo_reachable(settings.probe_timeout):
        raise SourceUnreachableError(
            "Yahoo Finance cannot be reached from here (the connection check failed; "
            "it is tried again within a minute).")
    try:
        raw = fetch_yahoo(symbol, interval, timeout=settings.yahoo_timeout)
    except SourceUnreachableError:
        network.mark_yahoo_unreachable()  # don't wait on Yahoo again this minute
        raise
    FrameCache.shared(settings.cache_dir).put(bar_key(symbol, interval), raw)
    return raw


#: the background downloads of ``load_ohlcv(..., wait=False)`` (one worker thread)
REVALIDATOR = Revalidator(_download)


def bars_version(symbol: str, interval: str) -> tuple[float | None, int, str | None]:
    """What ``load_ohlcv(symbol, interval, wait=False)`` answers depends on, without reading
    any bars: (when the disk cache's copy was downloaded [epoch s] or None, its age in TTLs
    capped at 2 (0 fresh, 1 being updated, 2 stale), why the last background download failed
    or None). A memory cache in front of that call holds it in its key, so it answers
    exactly what the call would."""
    symbol = symbol.strip().upper()
    at = FrameCache.shared(get_settings().cache_dir).fetched_at(bar_key(symbol, interval))
    age = 0 if at is None else _age(at, interval)
    return at, age, REVALIDATOR.last_error(symbol, interval)


BarsUpdate = Literal["none", "pending", "landed", "failed"]


def bars_update(md: MarketData) -> BarsUpdate:
    """Where the background download of ``md``'s bars stands, for a page that showed ``md``
    from ``load_ohlcv(..., wait=False)`` and reruns once something changed: ``pending`` (a
    download is on its way), ``landed`` (the disk cache holds other bars than ``md``,
    downloaded since: show them; a download that brought the same bars again is not news),
    ``failed`` (the last download failed and ``md`` does not say so yet: show the label),
    else ``none`` (nothing to wait for: a fresh or inline download, bundled, CSV). Reads no
    bars."""
    if md.source != "cache":
        return "none"
    if REVALIDATOR.pending(md.symbol, md.interval):
        return "pending"
    key = bar_key(md.symbol, md.interval)
    changed = FrameCache.shared(get_settings().cache_dir).changed_at(key)
    if changed is not None and changed > md.as_of.timestamp() + 1e-3:
        return "landed"
    error = REVALIDATOR.last_error(md.symbol, md.interval)
    return "failed" if error is not None and not md.stale else "none"


def _age(fetched_at: float, interval: str) -> int:
    """A copy's age in TTLs, capped at 2: 0 fresh, 1 past its TTL, 2 past twice it (the
    phases :func:`_live` and :func:`bars_version` both go by)."""
    return min(2, int(max(0.0, time.time() - fetched_at) // ttl_for(interval)))


def _copy_note(hit: tuple[pd.DataFrame, float], end: str) -> str:
    """The fallback sentence of a cached copy: when it was downloaded, its last bar."""
    return (f"Cached copy from {_utc(hit[1]):%Y-%m-%d %H:%M} UTC, last bar "
            f"{hit[0].index[-1].date()}{end}")


def _live(symbol: str, interval: str, notes: list[str], wait: bool = True):
    """fresh cache -> Yahoo -> stale cache -> bundled (1d) -> error.

    With ``wait=False`` a cached copy past its TTL is served at once while
    :data:`REVALIDATOR` downloads the bars again in the background; it counts as live
    (not stale) until a background download fails or the copy is twice its TTL old.

    Returns ``(raw, source, as_of or None, stale, fallback or None)``; appends why a
    fallback was taken to ``notes``.
    """
    settings = get_settings()
    cache = FrameCache.shared(settings.cache_dir)
    hit = cache.get(bar_key(symbol, interval))
    age = None if hit is None else _age(hit[1], interval)
    if age == 0:
        return hit[0], "cache", _utc(hit[1]), False, None
    if hit is not None and not wait and not settings.offline:
        error = REVALIDATOR.last_error(symbol, interval)  # of the last finished attempt
        REVALIDATOR.request(symbol, interval)
        if error is None and age == 1:
            return hit[0], "cache", _utc(hit[1]), False, None
        if error is not None:
            notes.append(error)
        fallback = _copy_note(hit, "; updating it in the background.")
        notes.append(fallback)
        return hit[0], "cache", _utc(hit[1]), True, fallback
    try:
        raw = _download(symbol, interval)
        return raw, "yahoo", pd.Timestamp.now(tz="UTC"), False, None
    except DataSourceError as err:
        notes.append(str(err))
        if hit is not None:
            fallback = _copy_note(hit, ".")
            notes.append(fallback)
            return hit[0], "cache", _utc(hit[1]), True, fallback
        if symbol in BUNDLED_SYMBOLS and interval == "1d":
            raw = load_bundled(symbol)
            fallback = _bundled_note(raw)
            notes.append(fallback)
            return raw, "bundled", None, not settings.offline, fallback
        if symbol in BUNDLED_SYMBOLS:
            raise DataSourceError(
                f"{err} Only daily (1d) history of {symbol} is bundled offline.") from None
        if isinstance(err, UnknownSymbolError):
            raise UnknownSymbolError(
                f"{err} Check the ticker as Yahoo Finance spells it (e.g. BRK-B, ^GSPC, "
                "BTC-USD, SAP.DE), or upload a CSV.") from None
        raise UnknownSymbolError(
            f"{err} No cached copy of {symbol} exists and it is not bundled "
            f"({', '.join(BUNDLED_SYMBOLS)}). Try again online, pick a bundled symbol, "
            "or upload a CSV.") from None


def _empty_range(symbol: str, interval: str, raw: pd.DataFrame, src: str) -> DataValidationError:
    kind = "daily" if interval == "1d" else interval
    text = (f"No {symbol} {interval} bars in the chosen dates: {symbol} has {kind} bars from "
            f"{raw.index[0].date()} to {raw.index[-1].date()}; pick dates inside that range "
            "or clear them.")
    limit = INTERVALS.get(interval)
    if limit is not None and src != "bundled":
        text += f" Yahoo Finance keeps only the last {limit} days of {interval} bars."
    return DataValidationError(text)


def load_ohlcv(
    symbol: str,
    interval: str = "1d",
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    *,
    source: SourceName = "auto",
    min_bars: int = 1,
    wait: bool = True,
) -> MarketData:
    """Validated bars for ``symbol`` from the best available source.

    ``source="auto"`` (or ``"yahoo"``) asks Yahoo Finance for every symbol, bundled ones
    included, through the disk cache (TTL 60 s intraday, 1 day daily). When Yahoo cannot
    be reached (probe remembered for a minute), fails, or ``QUANTDESK_OFFLINE`` is set, a
    cached copy serves, else the bundled history (1d only). ``source="bundled"`` serves
    the bundled history only. Whenever the data are not live, ``MarketData.fallback`` and
    ``notes`` say so with the as-of date.

    Args:
        symbol: ticker as Yahoo spells it (case-insensitive), e.g. ``MSFT``, ``^GSPC``.
        interval: a key of :data:`INTERVALS`; only ``1d`` is bundled.
        start, end: inclusive dates (UTC); None = from the first / to the last bar.
        min_bars: fewest bars the caller needs.
        wait: False for a caller that reruns by itself (the auto-refreshing panel): a
            cached copy past its TTL serves at once and is downloaded again in the
            background (:data:`REVALIDATOR`); the next call reads the new bars. It is
            labelled stale once a background download failed or it is twice its TTL old.
            Without any cached copy the call downloads as with ``wait=True``.

    Returns:
        MarketData whose frame is OHLCV (+ ``adj_close``) on a UTC index.

    Raises:
        UnknownSymbolError: nothing serves the symbol (message says what to do).
        DataSourceError: Yahoo failed and no fallback exists (e.g. intraday offline).
        DataValidationError / InsufficientDataError: no bars in the dates, or the bars
            break the contract (message says why).
    """
    symbol = symbol.strip().upper()
    if not symbol:
        raise UnknownSymbolError("Enter a ticker symbol such as MSFT or ^GSPC.")
    if source not in ("auto", "bundled", "yahoo"):
        raise DataSourceError(f"Unknown data source '{source}': use auto, bundled or yahoo "
                              "(CSV files go through load_csv).")
    notes: list[str] = []
    if source == "bundled":
        raw = _bundled_daily(symbol, interval)
        src, as_of, stale, fallback = "bundled", None, False, _bundled_note(raw)
        notes.append(fallback)
    else:
        raw, src, as_of, stale, fallback = _live(symbol, interval, notes, wait)
    frame = _slice(raw, start, end)
    if frame.empty and not raw.empty:
        raise _empty_range(symbol, interval, raw, src)
    rep = validate_ohlcv(frame, symbol, min_bars=min_bars)
    notes.extend(rep.repairs)
    if as_of is None:
        as_of = rep.frame.index[-1]
    return MarketData(rep.frame, symbol, interval, src, as_of, stale=stale, notes=notes,
                      fallback=fallback)
