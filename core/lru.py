"""A thread-safe LRU map with an optional age limit per lookup: the in-process caches of the
API (:mod:`core.api.cache`) and of the volatility models' in-sample fits
(:mod:`core.volatility.api`). Several script threads (browser tabs) and API workers use them at
once."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_MISSING = object()


class LRUCache:
    """A thread-safe LRU map with an optional age limit per lookup.

    Args:
        maxsize: most entries; the least recently used goes first.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, maxsize: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.maxsize = int(maxsize)
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, max_age_s: float | None = None, default=None):
        """The value under ``key`` if present and at most ``max_age_s`` seconds old (no
        limit when None), else ``default``."""
        with self._lock:
            item = self._data.get(key, _MISSING)
            if item is not _MISSING and (max_age_s is None
                                         or self.clock() - item[0] <= max_age_s):
                self._data.move_to_end(key)
                self.hits += 1
                return item[1]
            if item is not _MISSING:
                del self._data[key]
            self.misses += 1
            return default

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._data[key] = (self.clock(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def get_or_create(self, key: Hashable, make: Callable[[], Any]):
        """The value under ``key``, else ``make()`` stored under it. ``make`` runs outside the
        lock (a slow fit does not hold up other keys); two threads that miss the same key at
        once may both run it, and the last one's value is kept. An exception from ``make``
        stores nothing and propagates."""
        value = self.get(key, default=_MISSING)
        if value is _MISSING:
            value = make()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
