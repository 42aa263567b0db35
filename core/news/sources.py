"""News sources. Online ones (Yahoo, RSS) fail fast with :class:`DataSourceError` when the
network or ``QUANTDESK_OFFLINE`` forbids them; results are cached on disk for
:data:`NEWS_TTL_S` (30 min) as JSON bytes in a private (0700) diskcache directory (no
pickle).
"""

from __future__ import annotations

import io
import json
import logging
import os
import urllib.request
from pathlib import Path

import diskcache
import pandas as pd

from core.config import get_settings
from core.data.cache import BytesOnlyDisk
from core.errors import DataSourceError, DataValidationError
from core.news.frame import NEWS_COLUMNS, normalise_news
from core.news.policy import network_allowed

NEWS_TTL_S = 30 * 60
log = logging.getLogger(__name__)
logging.getLogger("yfinance").setLevel(logging.CRITICAL)


def _offline() -> bool:
    return bool(get_settings().offline)


# ----------------------------------------------------------------------- upload / paste
def parse_news_csv(src: str | Path | bytes, symbol: str = "") -> pd.DataFrame:
    """CSV with ``published_at`` and ``headline`` (optional ``symbol``, ``source``, ``url``).

    Column names are matched case-insensitively; ``title``/``text`` are accepted for
    ``headline`` and ``date``/``time``/``datetime`` for ``published_at``. Times without a zone
    are read as UTC.

    Raises:
        DataValidationError: missing or unreadable file (a directory, no permission), not
            UTF-8 CSV, missing columns, or no headline.
    """
    try:
        data = Path(src).read_bytes() if not isinstance(src, (bytes, bytearray)) else bytes(src)
        df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    except FileNotFoundError:
        raise DataValidationError(f"No such file: {src}") from None
    except IsADirectoryError:
        raise DataValidationError(f"{src} is a directory, not a news CSV file.") from None
    except OSError as err:  # permission denied, a device, ...
        raise DataValidationError(f"Could not open the news CSV {src}: "
                                  f"{err.strerror or type(err).__name__}.") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataValidationError(f"Could not read the news CSV ({err}). Expected UTF-8 with "
                                  "a header: published_at,headline[,symbol,source,url].") \
            from None
    rename = {}
    for c in df.columns:
        k = str(c).strip().lower()
        if k in ("title", "text", "headline"):
            k = "headline"
        elif k in ("date", "time", "datetime", "published", "published_at", "timestamp"):
            k = "published_at"
        rename[c] = k
    df = df.rename(columns=rename)
    df = df.loc[:, ~df.columns.duplicated()]
    missing = [c for c in ("published_at", "headline") if c not in df.columns]
    if missing:
        raise DataValidationError(f"The news CSV lacks column(s) {missing}; it needs "
                                  "published_at,headline (optional symbol,source,url).")
    out = normalise_news(df, default_source="upload", symbol=symbol)
    if out.empty:
        raise DataValidationError("The news CSV has no non-empty headline.")
    return out


def parse_pasted(text: str, symbol: str = "", now: pd.Timestamp | None = None) -> pd.DataFrame:
    """One headline per line. A line may start with a date/time and ``|`` (e.g.
    ``2024-05-02 14:30 | Apple beats estimates``); otherwise its time is ``now`` (UTC), or
    NaT when ``now`` is None (undated: aggregation treats it as current, age 0).

    Raises:
        DataValidationError: no non-empty line.
    """
    now = pd.NaT if now is None else pd.Timestamp(now)
    rows = []
    for line in str(text).splitlines():
        line = line.strip()
        if not line:
            continue
        ts = now
        if "|" in line:
            head, rest = line.split("|", 1)
            parsed = pd.to_datetime(head.strip(), utc=True, errors="coerce")
            if not pd.isna(parsed):
                ts, line = parsed, rest.strip()
        if line:
            rows.append({"published_at": ts, "headline": line})
    if not rows:
        raise DataValidationError("Paste at least one headline (one per line).")
    return normalise_news(pd.DataFrame(rows), default_source="pasted", symbol=symbol)


# ----------------------------------------------------------------------- online
def fetch_yahoo_news(symbol: str, count: int = 30) -> pd.DataFrame:
    """Latest headlines for ``symbol`` from yfinance ``Ticker.news`` (handles the old flat
    and the new ``content``-nested item layouts).

    Raises:
        DataSourceError: offline mode, network failure or no news.
    """
    if _offline():
        raise DataSourceError("Offline mode: Yahoo news is not fetched. Upload a news CSV or "
                              "paste headlines.")
    try:
        import yfinance as yf  # deferred: yfinance is slow to import

        items = yf.Ticker(symbol).get_news(count=count) or []
    except Exception as err:  # yfinance raises many types on network failure
        raise DataSourceError(f"Yahoo news for {symbol} is unavailable "
                              f"({type(err).__name__}).") from None
    rows = []
    for it in items:
        c = it.get("content", it) if isinstance(it, dict) else {}
        title = c.get("title")
        if not title:
            continue
        pub = c.get("pubDate") or c.get("displayTime")
        if pub is None and c.get("providerPublishTime"):
            pub = pd.Timestamp(int(c["providerPublishTime"]), unit="s", tz="UTC")
        prov = c.get("provider") or {}
        url = (c.get("canonicalUrl") or {}).get("url") or c.get("link") or ""
        rows.append({"published_at": pub, "headline": title, "symbol": symbol,
                     "source": prov.get("displayName") if isinstance(prov, dict) else
                     c.get("publisher", "Yahoo"), "url": url})
    if not rows:
        raise DataSourceError(f"Yahoo returned no news for {symbol}.")
    return normalise_news(pd.DataFrame(rows), "Yahoo Finance", symbol)


def fetch_rss(url: str, symbol: str = "", timeout: float = 5.0) -> pd.DataFrame:
    """Entries of an RSS/Atom feed (title, published/updated time, link) via feedparser.
    The feed is downloaded with a ``timeout`` (s) first, so a dead host cannot hang.

    Raises:
        DataSourceError: offline mode, bad URL, network failure, or no entries.
    """
    if _offline():
        raise DataSourceError("Offline mode: RSS feeds are not fetched.")
    if not str(url).lower().startswith(("http://", "https://")):
        raise DataSourceError(f"RSS feed URL must start with http:// or https:// ({url!r}).")
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "quantdesk/0.1"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http only)
            body = resp.read(5_000_000)
    except (OSError, ValueError) as err:
        raise DataSourceError(f"Could not fetch the feed {url} ({type(err).__name__}).") \
            from None
    import feedparser

    feed = feedparser.parse(body)
    rows = []
    for e in feed.entries:
        t = e.get("published_parsed") or e.get("updated_parsed")
        pub = pd.Timestamp(*t[:6], tz="UTC") if t else None  # feedparser gives UTC
        rows.append({"published_at": pub, "headline": e.get("title", ""), "symbol": symbol,
                     "source": feed.feed.get("title", url), "url": e.get("link", "")})
    out = normalise_news(pd.DataFrame(rows, columns=NEWS_COLUMNS), url, symbol) if rows else \
        pd.DataFrame(columns=NEWS_COLUMNS)
    if out.empty:
        raise DataSourceError(f"The feed {url} has no entries with a title.")
    return out


# ----------------------------------------------------------------------- cache
def _cache() -> diskcache.Cache:
    """The news cache: ``cache_dir/news`` (mode 0700) on :class:`BytesOnlyDisk`, so a
    pickled row planted there is refused before it is unpickled."""
    d = get_settings().cache_dir / "news"
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    return diskcache.Cache(str(d), disk=BytesOnlyDisk)


def _key(symbol: str, feeds) -> str:
    return "news:" + json.dumps([str(symbol).upper(), sorted(str(f) for f in feeds)])


def _to_json(df: pd.DataFrame) -> bytes:
    return df.to_json(orient="records", date_format="iso").encode()


def _from_json(blob: bytes) -> pd.DataFrame:
    df = pd.DataFrame(json.loads(blob.decode()), columns=NEWS_COLUMNS)
    return normalise_news(df)


def _read(cache: diskcache.Cache, key: str, *, drop_bad: bool) -> pd.DataFrame | None:
    """The cached headlines under ``key``, or None on a miss. A refused (pickled) or
    undecodable row is also a miss; it is deleted when ``drop_bad``."""
    try:
        blob = cache.get(key)
        if not isinstance(blob, bytes):  # a miss (or a value this cache never writes)
            if blob is not None and drop_bad:
                cache.delete(key)
            return None
        return _from_json(blob)
    except Exception as err:  # UnsafeCacheEntry, JSONDecodeError, UnicodeDecodeError, ...
        log.warning("Dropping news cache entry %s (%s: %s).", key, type(err).__name__, err)
        if drop_bad:
            cache.delete(key)
        return None


def cached_news(symbol: str, feeds: list[str] | tuple = ()) -> pd.DataFrame | None:
    """The headlines :func:`get_news` cached for ``symbol`` and ``feeds`` (same key), from
    the disk cache only: never the network, never an entry written or deleted (a bad
    entry is left for :func:`get_news` to drop and refetch). Fast enough to call per row of
    a table (one SQLite lookup).

    Returns:
        The news frame (:data:`NEWS_COLUMNS`), or None on a miss, an expired entry (older
        than :data:`NEWS_TTL_S`, 30 min), a refused pickled row or an undecodable one.
    """
    d = get_settings().cache_dir / "news"
    if not (d / diskcache.core.DBNAME).is_file():  # nothing cached yet: create nothing
        return None
    try:
        cache = diskcache.Cache(str(d), disk=BytesOnlyDisk)
    except Exception as err:  # an unreadable cache directory is a miss
        log.warning("News cache unreadable (%s: %s).", type(err).__name__, err)
        return None
    try:
        return _read(cache, _key(symbol, feeds), drop_bad=False)
    finally:
        cache.close()


def get_news(symbol: str, feeds: list[str] | tuple = (), *, use_cache: bool = True
             ) -> tuple[pd.DataFrame, list[str]]:
    """Headlines for ``symbol`` from Yahoo plus each RSS feed URL, cached 30 minutes.

    A cached entry that is refused (a pickled row) or cannot be decoded is a miss: it is
    deleted and the sources are fetched again.

    Returns:
        (news frame, notes): notes say which source failed and why; an empty frame is
        returned when every source failed (never fabricated content).
    """
    if not network_allowed():  # a universe scan: cached headlines or none
        hit = cached_news(symbol, feeds)
        return ((hit, ["from the 30-minute news cache"]) if hit is not None else
                (pd.DataFrame(columns=NEWS_COLUMNS), ["no cached headlines (not fetched)"]))
    key = _key(symbol, feeds)
    cache = _cache() if use_cache else None
    try:
        if cache is not None:
            hit = _read(cache, key, drop_bad=True)
            if hit is not None:
                return hit, ["from the 30-minute news cache"]
        frames, notes = [], []
        for name, fn in [("Yahoo", lambda: fetch_yahoo_news(symbol))] + \
                [(u, lambda u=u: fetch_rss(u, symbol)) for u in feeds]:
            try:
                frames.append(fn())
            except DataSourceError as err:
                notes.append(str(err))
        frames = [f for f in frames if not f.empty]
        out = normalise_news(pd.concat(frames, ignore_index=True)) if frames else \
            pd.DataFrame(columns=NEWS_COLUMNS)
        if cache is not None and not out.empty:
            cache.set(key, _to_json(out), expire=NEWS_TTL_S)
        return out, notes
    finally:
        if cache is not None:
            cache.close()
