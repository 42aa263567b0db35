"""A universe scan: load every symbol's bars, run :func:`core.screener.row.screen_row` over
them on the batch engine, and cache the rows per (universe, interval, last bars, model
versions).

Bars come from :func:`core.data.load_ohlcv` (live Yahoo first, prefetched in batches by
:func:`core.data.batch.prefetch_yahoo`; a cached copy or the bundled history when
offline). A symbol whose bars cannot be loaded gets a row with its ``error``; the scan
goes on. The model versions are resolved once (:func:`core.serving.resolve_versions`) and
pinned for every row, so a promote during a scan never mixes versions.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import diskcache
import pandas as pd

from core.config import get_settings
from core.data import load_ohlcv
from core.data.batch import prefetch_yahoo
from core.data.cache import BytesOnlyDisk
from core.errors import QuantdeskError
from core.families import FAMILIES
from core.batch import choose_engine, run_batch
from core.screener.row import COLUMNS, INT_COLUMNS, ScanInput, screen_row
from core.universe import Universe
from core.serving import resolve_versions

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
    """

    universe: Universe
    interval: str
    rows: pd.DataFrame
    engine: str
    seconds: float
    versions: dict[str, str | None]
    cached: bool = False
    notes: list[str] = field(default_factory=list)

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


def _cache() -> diskcache.Cache:
    d = get_settings().cache_dir / "scans"
    d.mkdir(parents=True, exist_ok=True)
    return diskcache.Cache(str(d), disk=BytesOnlyDisk)


def _cached_rows(key: str) -> pd.DataFrame | None:
    try:
        cache = _cache()
    except Exception:  # an unreadable cache directory is a miss
        return None
    try:
        blob = cache.get(key)
        if not isinstance(blob, bytes):
            return None
        try:
            return _typed(pd.read_json(io.BytesIO(blob), orient="records", dtype=False,
                                       convert_dates=False)[list(COLUMNS)])
        except (ValueError, KeyError):  # undecodable: a miss, dropped
            cache.delete(key)
            return None
    except Exception:
        return None
    finally:
        cache.close()


def _store_rows(key: str, rows: pd.DataFrame) -> None:
    try:
        cache = _cache()
        try:
            cache.set(key, rows.to_json(orient="records").encode(), expire=CACHE_TTL_S)
        finally:
            cache.close()
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


def scan(universe: Universe, interval: str = "1d", *, engine: str | None = None,
         progress: Progress | None = None, use_cache: bool = True) -> ScanResult:
    """Scan ``universe`` at ``interval`` (see the module docstring).

    Args:
        progress: ``progress(stage, done, total)`` with stage ``download``, ``load`` or
            ``score``.
        use_cache: reuse rows cached for the same fingerprint (:func:`fingerprint`).
    Raises:
        DataValidationError: an unknown engine, or Ray cannot start.
    """
    inputs, notes = load_inputs(universe.symbols, interval, progress=progress)
    versions = resolve_versions(FAMILIES)
    key = f"scan:{universe.name}:{interval}:{fingerprint(inputs, versions)}"
    if use_cache:
        hit = _cached_rows(key)
        if hit is not None:
            return ScanResult(universe, interval, hit, "cache", 0.0, versions, True, notes)
    t0 = time.perf_counter()
    rows, used = scan_inputs(inputs, engine=engine, progress=progress, versions=versions)
    seconds = time.perf_counter() - t0
    _store_rows(key, rows)
    return ScanResult(universe, interval, rows, used, seconds, versions, False, notes)
