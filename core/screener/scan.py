"""A universe scan: load every symbol's bars, run :func:`core.screener.row.screen_row` over
them on the batch engine, and cache the rows per (universe, interval, last bars, model
versions).

Bars come from :func:`core.data.load_ohlcv` (live Yahoo first, prefetched in batches by
:func:`core.data.batch.prefetch_yahoo`; a cached copy or the bundled history when
offline). A symbol whose bars cannot be loaded gets a row with its ``error``; the scan
goes on. The model versions are resolved once (:func:`core.serving.resolve_versions`) and
pinned for every row, so a promote during a scan never mixes versions. A cached scan is found
by the versions the store names, without reading any artifact. The ``synthetic``
universe (:mod:`core.screener.synthetic`, load tests only) takes its made-up bars from there.

Each scan also records itself as the latest of its universe (same symbols) and interval:
:func:`latest_scan` returns those rows without loading any bar, for a page opened by URL
(``/screener?universe=NAME``) before Scan is pressed.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Callable, Sequence

import diskcache
import pandas as pd

from core.config import get_settings
from core.data import load_ohlcv
from core.data.batch import prefetch_yahoo
from core.data.cache import shared_cache
from core.errors import DataValidationError, QuantdeskError
from core.families import FAMILIES
from core.batch import choose_engine, run_batch
from core.screener import synthetic
from core.screener.row import COLUMNS, INT_COLUMNS, ScanInput, screen_row
from core.universe import Universe
from core.serving import DISABLED, resolve_versions
from core.store import active_version, is_disabled, session_scope

#: bars a row needs at most (52 weeks of daily bars, the 200-bar trend, the models' windows)
SCAN_BARS = 1300
#: cached scans are kept this long [s] (a new bar changes the key anyway)
CACHE_TTL_S = 24 * 3600

Progress = Callable[[str, int, int], None]


@dataclass
class ScanResult:
    """A finished scan.

    Attributes:
        universe: what was scanned. interval: bar interval.
        rows: DataFrame with :data:`core.screener.row.COLUMNS`, one row per symbol.
        engine: ``serial`` or ``ray``. seconds: wall time of the scoring [s].
        versions: model versions pinned for every row (family -> version or None).
        cached: the rows came from the scan cache. notes: data notes (fallbacks).
        scanned_at: when the rows were scored (UTC, ISO 8601), where known.
        key: the scan-cache key of the rows (same key, same rows), where cached.
    """

    universe: Universe
    interval: str
    rows: pd.DataFrame
    engine: str
    seconds: float
    versions: dict[str, str | None]
    cached: bool = False
    notes: list[str] = field(default_factory=list)
    scanned_at: str | None = None
    key: str | None = None

    @property
    def failed(self) -> int:
        """Rows with an error."""
        return int(self.rows["error"].notna().sum()) if len(self.rows) else 0


def load_inputs(symbols: Sequence[str], interval: str = "1d", *,
                progress: Progress | None = None) -> tuple[list[ScanInput], list[str]]:
    """Each symbol's last :data:`SCAN_BARS` bars as :class:`ScanInput` (errors kept per
    symbol), after one batched Yahoo prefetch when online. Returns ``(inputs, notes)``."""
    notes: list[str] = []
    failed = prefetch_yahoo(symbols, interval,
                            progress=(lambda d, t: progress("download", d, t))
                            if progress else None)
    if failed and len(failed) == len(symbols) and len(symbols) > 1:
        notes.append(next(iter(failed.values())))
    out: list[ScanInput] = []
    fallbacks: dict[str, list[str]] = {}  # fallback sentence -> symbols
    for i, sym in enumerate(symbols):
        try:
            md = load_ohlcv(sym, interval)
        except QuantdeskError as err:
            out.append(ScanInput(sym, interval, "", None, str(err)[:300]))
        else:
            out.append(ScanInput(md.symbol, interval, md.source, md.frame.tail(SCAN_BARS)))
            if md.fallback:
                fallbacks.setdefault(md.fallback, []).append(md.symbol)
        if progress:
            progress("load", i + 1, len(symbols))
    for text, syms in fallbacks.items():
        who = ", ".join(syms[:8]) + (f" and {len(syms) - 8} more" if len(syms) > 8 else "")
        notes.append(f"{who}: {text}")
    return out, notes


def fingerprint(inputs: Sequence[ScanInput], versions: dict) -> str:
    """sha256 of what determines the rows: each symbol's source, bar count, last bar and
    close, the interval, and the pinned model versions."""
    h = hashlib.sha256(json.dumps(sorted(versions.items()), default=str).encode())
    for it in inputs:
        f = it.frame
        tail = "" if f is None or f.empty else f"{f.index[-1].isoformat()}|{f['close'].iloc[-1]!r}"
        h.update(f"{it.symbol}|{it.interval}|{it.source}|{0 if f is None else len(f)}|{tail}|"
                 f"{it.error}\n".encode())
    return h.hexdigest()


#: decoded rows by (cache directory, key), while the entry is still in that cache
_ROWS: OrderedDict[tuple[str, str], pd.DataFrame] = OrderedDict()
_MEMO_MAX = 4
_LOCK = threading.Lock()


def _cache() -> diskcache.Cache:
    return shared_cache(get_settings().cache_dir / "scans")


def _cached_rows(key: str) -> pd.DataFrame | None:
    """The rows cached under ``key`` (a copy), or None (absent, expired, undecodable, or
    the cache cannot be read). Decoded once per process while the entry lasts."""
    try:
        cache = _cache()
        memo_key = (cache.directory, key)
        with _LOCK:
            memo = _ROWS.get(memo_key)
        if memo is not None:
            if key in cache:  # still there (not expired, not deleted)
                return memo.copy()
            with _LOCK:
                _ROWS.pop(memo_key, None)
        blob = cache.get(key)
        if not isinstance(blob, bytes):
            return None
        try:
            rows = _typed(pd.read_json(io.BytesIO(blob), orient="records", dtype=False,
                                       convert_dates=False)[list(COLUMNS)])
        except (ValueError, KeyError):  # undecodable: a miss, dropped
            cache.delete(key)
            return None
    except Exception:  # an unreadable cache directory is a miss
        return None
    with _LOCK:
        _ROWS[memo_key] = rows
        while len(_ROWS) > _MEMO_MAX:
            _ROWS.popitem(last=False)
    return rows.copy()


def _store_rows(key: str, rows: pd.DataFrame) -> None:
    try:
        _cache().set(key, rows.to_json(orient="records").encode(), expire=CACHE_TTL_S)
    except Exception:  # a scan that cannot be cached is still a scan
        pass


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with exactly :data:`COLUMNS` (missing keys None)."""
    return _typed(pd.DataFrame([{k: r.get(k) for k in COLUMNS} for r in rows],
                               columns=list(COLUMNS)))


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    for col in INT_COLUMNS:  # counts stay integers beside missing values
        rows[col] = pd.to_numeric(rows[col], errors="coerce").astype("Int64")
    return rows


def scan_inputs(inputs: Sequence[ScanInput], *, engine: str | None = None,
                progress: Progress | None = None,
                versions: dict[str, str | None] | None = None) -> tuple[pd.DataFrame, str]:
    """Score ``inputs`` on the engine; returns ``(rows, engine used)``. No cache."""
    versions = resolve_versions(FAMILIES) if versions is None else versions
    used = choose_engine(engine, len(inputs))
    rows = run_batch(screen_row, list(inputs), versions, engine=used,
                     progress=(lambda d, t: progress("score", d, t)) if progress else None)
    return rows_frame(rows), used


def serving_versions(families) -> dict[str, str | None]:
    """:func:`core.serving.resolve_versions` from the store alone when it names an active
    version (or "disabled") for every family: the same answer without reading and hashing
    every artifact file (~45 ms a call). Otherwise (a family never registered, only
    candidates, the store unreadable) :func:`core.serving.resolve_versions` itself."""
    out: dict[str, str | None] = {}
    try:
        with session_scope() as s:  # one session for every family
            for fam in families:
                version = active_version(fam, session=s)
                if version is not None:
                    out[fam] = version
                elif is_disabled(fam, session=s):
                    out[fam] = DISABLED
                else:
                    break
            else:
                return out
    except Exception:  # the store cannot be read: resolve_versions' own rules apply
        pass
    return resolve_versions(families)


def _scan_key(universe: Universe, interval: str, inputs: Sequence[ScanInput],
              versions: dict[str, str | None]) -> str:
    """The scan cache's key of the rows of ``inputs`` scored with ``versions``."""
    return f"scan:{universe.name}:{interval}:{fingerprint(inputs, versions)}"


def _latest_key(universe: Universe, interval: str) -> str:
    members = hashlib.sha256("\n".join(universe.symbols).encode()).hexdigest()[:16]
    return f"latest:{universe.name}:{interval}:{members}"


def _store_latest(res: ScanResult, key: str) -> None:
    """Record ``res`` (rows cached under ``key``) as the latest scan of its universe and
    interval. A cache hit keeps the ``scanned_at`` recorded when those rows were scored."""
    try:
        cache = _cache()
        latest = _latest_key(res.universe, res.interval)
        if res.scanned_at is None:
            old = cache.get(latest)
            old = json.loads(old) if isinstance(old, bytes) else {}
            if isinstance(old, dict) and old.get("key") == key:
                res.scanned_at = old.get("scanned_at")
        record = {"key": key, "versions": res.versions, "notes": res.notes,
                  "scanned_at": res.scanned_at}
        cache.set(latest, json.dumps(record, default=str).encode(), expire=CACHE_TTL_S)
    except Exception:  # a scan that cannot be recorded is still a scan
        pass


def latest_scan(universe: Universe, interval: str = "1d", *,
                versions: dict[str, str | None] | None = None) -> ScanResult | None:
    """The latest scan of ``universe`` (the same symbols) at ``interval`` still in the scan
    cache, as a cached :class:`ScanResult` with its ``scanned_at``; loads no bar and scores
    nothing. None when there is none, it expired (:data:`CACHE_TTL_S`), or the model
    versions serving now (``versions``, default :func:`serving_versions`) differ from the
    scan's. Its rows are those of that scan's bars: Scan checks for newer
    bars."""
    try:
        blob = _cache().get(_latest_key(universe, interval))
        record = json.loads(blob) if isinstance(blob, bytes) else None
        if not isinstance(record, dict) or not isinstance(record.get("key"), str):
            return None
    except Exception:  # an unreadable cache or record is a miss
        return None
    now = serving_versions(FAMILIES) if versions is None else versions
    if json.dumps(record.get("versions"), sort_keys=True, default=str) != \
            json.dumps(now, sort_keys=True, default=str):
        return None
    rows = _cached_rows(record["key"])
    if rows is None:
        return None
    return ScanResult(universe, interval, rows, "cache", 0.0, now, True,
                      [str(n) for n in record.get("notes") or []], record.get("scanned_at"),
                      record["key"])


def scan(universe: Universe, interval: str = "1d", *, engine: str | None = None,
         progress: Progress | None = None, use_cache: bool = True) -> ScanResult:
    """Scan ``universe`` at ``interval`` (see the module docstring).

    Args:
        progress: ``progress(stage, done, total)`` with stage ``download``, ``load`` or
            ``score``.
        use_cache: reuse rows cached for the same fingerprint (:func:`fingerprint`).
    Raises:
        DataValidationError: an unknown engine, Ray cannot start, or the SYNTHETIC
            universe at an interval other than 1d.
    """
    if universe.name == synthetic.NAME:  # made-up bars (load tests), not market data
        if interval != "1d":
            raise DataValidationError("The SYNTHETIC universe has daily bars only: scan it "
                                      "at 1d.")
        inputs = list(synthetic.inputs(len(universe.symbols)))
        notes = [synthetic.NOTE]
    else:
        inputs, notes = load_inputs(universe.symbols, interval, progress=progress)
    # a cache hit parses no model, so the store's answer names the versions (no artifact read
    # and hashed, ~45 ms); scoring pins the verified versions, whose key differs only when an
    # artifact fails its check
    versions = serving_versions(FAMILIES)
    key = _scan_key(universe, interval, inputs, versions)
    hit = _cached_rows(key) if use_cache else None
    if hit is None:
        verified = resolve_versions(FAMILIES)
        if verified != versions:
            versions, key = verified, _scan_key(universe, interval, inputs, verified)
            hit = _cached_rows(key) if use_cache else None
    if hit is not None:
        res = ScanResult(universe, interval, hit, "cache", 0.0, versions, True, notes, key=key)
    else:
        t0 = time.perf_counter()
        rows, used = scan_inputs(inputs, engine=engine, progress=progress, versions=versions)
        seconds = time.perf_counter() - t0
        _store_rows(key, rows)
        res = ScanResult(universe, interval, rows, used, seconds, versions, False, notes,
                         datetime.now(UTC).isoformat(timespec="seconds"), key)
    _store_latest(res, key)
    return res
