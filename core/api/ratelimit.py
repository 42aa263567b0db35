"""An in-process token bucket per client (API key, else client address).

Each client may make ``burst`` requests at once and ``rate_per_minute`` per minute on
average; past that :meth:`RateLimiter.take` returns the seconds to wait, which the app
sends as ``Retry-After`` with a 429. State lives in this process only (one uvicorn
worker); buckets idle for ten minutes are forgotten.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable


class RateLimiter:
    """Token buckets keyed by client.

    Args:
        rate_per_minute: refill rate [requests / minute]; 0 or less turns limiting off.
        burst: bucket size [requests] (default: ``rate_per_minute / 6``, at least 1).
        clock: monotonic seconds (injectable for tests).
    """

    IDLE_S = 600.0

    def __init__(self, rate_per_minute: float, burst: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = float(rate_per_minute) / 60.0
        self.burst = float(burst if burst is not None else max(1, int(rate_per_minute / 6)))
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last time)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0 and self.burst > 0

    def take(self, client: str) -> float:
        """Spend one token of ``client``'s bucket. Returns 0.0 when allowed, else the
        seconds until a token is available (> 0)."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                allowed = 0.0
            else:
                self._buckets[client] = (tokens, now)
                allowed = (1.0 - tokens) / self.rate
            if len(self._buckets) > 10_000:
                self._buckets = {c: v for c, v in self._buckets.items()
                                 if now - v[1] < self.IDLE_S}
        return allowed

    @staticmethod
    def retry_after(wait_s: float) -> int:
        """Whole seconds for a ``Retry-After`` header (at least 1)."""
        return max(1, math.ceil(wait_s))
