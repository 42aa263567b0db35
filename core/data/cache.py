"""A private on-disk cache of downloaded bars that never pickles.

diskcache pickles Python objects by default (CVE-2025-69872 class of risk: a writable cache
directory becomes code execution). Here only ``bytes`` go in (parquet of the frame), the
directory is created with mode 0700, and entries carry a time-to-live.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

import diskcache
import pandas as pd

log = logging.getLogger(__name__)

INTRADAY_TTL_S = 60
DAILY_TTL_S = 24 * 3600


def ttl_for(interval: str) -> int:
    """Seconds a cached download stays fresh: 60 s intraday, one day for daily and longer."""
    return INTRADAY_TTL_S if interval.endswith(("m", "h")) and interval != "1mo" else DAILY_TTL_S


def bar_key(symbol: str, interval: str) -> str:
    """The cache key of Yahoo's ``interval`` bars of ``symbol`` (upper case)."""
    return f"yahoo:{symbol}:{interval}"


class BytesOnlyDisk(diskcache.Disk):
    """A diskcache ``Disk`` that stores only ``bytes`` and refuses a pickled row on read
    *before* unpickling it (a row planted in the cache directory never runs its payload).

    Raises:
        TypeError: storing anything but bytes.
        UnsafeCacheEntry: reading a row in diskcache's pickle mode.
    """

    def store(self, value, read, key=diskcache.core.UNKNOWN):
        if not read and not isinstance(value, bytes):
            raise TypeError(f"the cache stores bytes only, not {type(value).__name__}")
        return super().store(value, read, key=key)

    def fetch(self, mode, filename, value, read):
        if mode == diskcache.core.MODE_PICKLE:
            raise UnsafeCacheEntry("a pickled cache row was refused unread")
        return super().fetch(mode, filename, value, read)


class UnsafeCacheEntry(Exception):
    """A cache row in a mode this cache never writes (pickle): refused, then deleted."""


def _open(directory: Path) -> diskcache.Cache:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    return diskcache.Cache(str(directory), disk=BytesOnlyDisk)


#: open caches by (process, directory): opening one writes its settings to SQLite (~2 ms
#: here, 30-300 ms on a slow disk), which a screener paid once per symbol read
_SHARED: OrderedDict[tuple[int, str], diskcache.Cache] = OrderedDict()
_SHARED_MAX = 8
_SHARED_LOCK = threading.Lock()


def shared_cache(directory: Path) -> diskcache.Cache:
    """The bytes-only cache at ``directory`` (created with mode 0700), opened once per
    process and directory and kept open (diskcache handles are thread-safe; a forked child
    opens its own). A directory deleted meanwhile is created and opened again.

    Raises:
        OSError: the directory cannot be created or opened.
    """
    directory = Path(directory)
    key = (os.getpid(), str(directory.resolve()))
    with _SHARED_LOCK:
        cache = _SHARED.get(key)
        if cache is not None and not directory.is_dir():
            del _SHARED[key]
            cache.close()
            cache = None
        if cache is None:
            cache = _SHARED[key] = _open(directory)
            while len(_SHARED) > _SHARED_MAX:
                _SHARED.popitem(last=False)[1].close()
        _SHARED.move_to_end(key)
    return cache


class FrameCache:
    """Store DataFrames as parquet bytes with a fetch time, in a 0700 directory.

    ``get`` returns ``(frame, fetched_at_epoch_s)`` even when expired (callers use stale
    copies as a fallback); ``is_fresh`` tells whether the TTL still holds.
    """

    def __init__(self, directory: Path, *, _cache: diskcache.Cache | None = None):
        self._owned = _cache is None
        self._cache = _open(Path(directory)) if _cache is None else _cache

    @classmethod
    def shared(cls, directory: Path) -> "FrameCache":
        """A FrameCache on :func:`shared_cache` (its ``close`` leaves the handle open)."""
        return cls(directory, _cache=shared_cache(directory))

    def put(self, key: str, frame: pd.DataFrame) -> bool:
        """Store ``frame`` under ``key`` with the time now as its fetch time; the time its
        content last changed (:meth:`changed_at`) moves only when the bytes differ from the
        copy stored before. Returns whether they did (True for a first copy)."""
        buf = io.BytesIO()
        frame.to_parquet(buf)
        blob, now = buf.getvalue(), str(time.time()).encode()
        try:
            changed = self._cache.get(key) != blob
        except UnsafeCacheEntry:
            changed = True
        self._cache.set(key, blob)
        if changed:
            self._cache.set(key + ":changed", now)
        self._cache.set(key + ":at", now)
        return changed

    def get(self, key: str) -> tuple[pd.DataFrame, float] | None:
        """``(frame, fetched_at_epoch_s)``, or None on a miss. An entry that cannot be
        decoded (garbage bytes: ``pyarrow.ArrowInvalid``, a bad timestamp) counts as a miss
        and is deleted, so the caller refetches and overwrites it."""
        try:
            blob = self._cache.get(key)
            at = self._cache.get(key + ":at")
        except UnsafeCacheEntry as err:
            log.warning("Dropping cache entry %s: %s.", key, err)
            self.delete(key)
            return None
        if not isinstance(blob, bytes) or not isinstance(at, bytes):
            return None
        try:
            return pd.read_parquet(io.BytesIO(blob)), float(at.decode())
        except Exception as err:  # ArrowInvalid, OSError, ValueError, UnicodeDecodeError...
            log.warning("Dropping undecodable cache entry %s (%s: %s).", key,
                        type(err).__name__, err)
            self.delete(key)
            return None

    def fetched_at(self, key: str) -> float | None:
        """The fetch time [epoch s] stored with ``key``, None when absent or unreadable;
        the frame itself is not read."""
        try:
            at = self._cache.get(key + ":at")
            return float(at.decode()) if isinstance(at, bytes) else None
        except (UnsafeCacheEntry, ValueError, UnicodeDecodeError):
            return None

    def changed_at(self, key: str) -> float | None:
        """When the content stored under ``key`` last changed [epoch s] (a download that
        brought the same bytes again does not count): the fetch time for a copy stored
        before this was recorded; None when absent or unreadable. Reads no frame."""
        try:
            at = self._cache.get(key + ":changed")
            return float(at.decode()) if isinstance(at, bytes) else self.fetched_at(key)
        except (UnsafeCacheEntry, ValueError, UnicodeDecodeError):
            return self.fetched_at(key)

    def delete(self, key: str) -> None:
        """Remove ``key``, its fetch time and its change time (no error when absent)."""
        self._cache.delete(key)
        self._cache.delete(key + ":at")
        self._cache.delete(key + ":changed")

    @staticmethod
    def is_fresh(fetched_at: float, ttl_s: int) -> bool:
        return time.time() - fetched_at < ttl_s

    def close(self) -> None:
        """Close the handle this instance opened (a shared one stays open)."""
        if self._owned:
            self._cache.close()
