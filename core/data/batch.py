"""Many symbols' bars from Yahoo Finance in batches, into the same disk cache that
:func:`core.data.load_ohlcv` reads, so a universe scan downloads once per batch instead of
once per symbol.

One ``yfinance.download`` call per :data:`BATCH_SIZE` tickers (yfinance's multi-ticker
download; https://ranaroussi.github.io/yfinance/reference/api/yfinance.download.html), a
pause of :data:`PAUSE_S` between batches and up to :data:`RETRIES` retries of a batch that
failed as a whole (network, rate limit) with exponential back-off. A ticker Yahoo has no
bars for is reported, never invented. Symbols whose cached copy is still fresh are not
downloaded again.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Sequence

import pandas as pd

from core.config import get_settings
from core.data import network
from core.data.cache import FrameCache, bar_key, ttl_for
from core.data.yahoo import INTERVALS, normalise_history

log = logging.getLogger(__name__)

BATCH_SIZE = 50
PAUSE_S = 1.0
RETRIES = 2

Downloader = Callable[[list[str], str], pd.DataFrame]


def yahoo_download(symbols: list[str], interval: str) -> pd.DataFrame:
    """One multi-ticker ``yfinance.download`` of the whole history Yahoo offers for
    ``interval``, unadjusted (adjusted here like single downloads), grouped by ticker
    (columns ``(ticker, field)``). Raises what yfinance raises."""
    import yfinance as yf  # deferred: yfinance is slow to import

    limit = INTERVALS.get(interval)
    return yf.download(symbols, period="max" if limit is None else f"{limit}d",
                       interval=interval, auto_adjust=False, actions=False,
                       group_by="ticker", threads=True, progress=False,
                       timeout=get_settings().yahoo_timeout, multi_level_index=True)


def _split(raw: pd.DataFrame, symbols: list[str]) -> dict[str, pd.DataFrame]:
    """Per-ticker frames of a multi-ticker download (empty frame for a missing ticker)."""
    out = {}
    for sym in symbols:
        if isinstance(raw.columns, pd.MultiIndex) and sym in raw.columns.get_level_values(0):
            out[sym] = raw[sym]
        elif not isinstance(raw.columns, pd.MultiIndex) and len(symbols) == 1:
            out[sym] = raw
        else:
            out[sym] = pd.DataFrame()
    return out


def prefetch_yahoo(symbols: Sequence[str], interval: str = "1d", *,
                   download: Downloader | None = None, batch_size: int = BATCH_SIZE,
                   pause_s: float = PAUSE_S, sleep: Callable[[float], None] = time.sleep,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
    """Download ``symbols`` in batches into the disk cache (skipping fresh entries).

    Does nothing offline (``QUANTDESK_OFFLINE``) or when the Yahoo probe fails: the scan
    then reads cached copies or the bundled history through :func:`core.data.load_ohlcv`.

    Args:
        symbols: upper-case Yahoo tickers. interval: a key of ``INTERVALS``.
        download: ``download(batch, interval) -> frame`` (default :func:`yahoo_download`;
            injectable for tests).
        progress: ``progress(done, total)`` after each batch [symbols].
    Returns:
        symbol -> why it was not downloaded (a failed batch, or no bars on Yahoo); symbols
        downloaded or already fresh are absent.
    """
    settings = get_settings()
    symbols = list(dict.fromkeys(symbols))
    if settings.offline or not symbols or interval not in INTERVALS:
        return {}
    if not network.yahoo_reachable(settings.probe_timeout):
        return {s: "Yahoo Finance cannot be reached from here." for s in symbols}
    download = download or yahoo_download
    failed: dict[str, str] = {}
    cache = FrameCache.shared(settings.cache_dir)
    todo = []
    for sym in symbols:
        hit = cache.get(bar_key(sym, interval))
        if hit is None or not FrameCache.is_fresh(hit[1], ttl_for(interval)):
            todo.append(sym)
    done = len(symbols) - len(todo)
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        raw = None
        for attempt in range(RETRIES + 1):
            try:
                raw = download(batch, interval)
                break
            except Exception as err:  # network, rate limit, yfinance's exceptions
                why = f"{type(err).__name__}: {err}"[:200]
                if attempt < RETRIES:
                    sleep(pause_s * 2 ** (attempt + 1))
        if raw is None:
            failed.update({s: f"Yahoo download failed ({why})" for s in batch})
        else:
            for sym, part in _split(raw, batch).items():
                frame = normalise_history(part) if len(part) else part
                if frame is None or frame.empty:
                    failed[sym] = f"Yahoo Finance has no {interval} bars for '{sym}'."
                    continue
                cache.put(bar_key(sym, interval), frame)
        done += len(batch)
        if progress:
            progress(done, len(symbols))
        if start + batch_size < len(todo):
            sleep(pause_s)
    return failed
