"""Stale-while-revalidate for live bars: a caller that must not wait on the network (the
Overview's auto-refreshing panel) is served the cached copy at once, and the copy is
downloaded again on one background thread; the caller's next run reads the new bars.

The pattern is HTTP's ``stale-while-revalidate`` (RFC 5861, section 3). One download per
(symbol, interval) is in flight at a time, so a refresh every second never piles up requests;
the downloads run one after another on a single daemon thread (Yahoo rate-limits bursts;
a server stopping does not wait for queued downloads; the disk cache commits each value in
one SQLite transaction, so an interrupted write leaves a readable copy). The last failure
of each (symbol, interval) is kept until a download succeeds, so the caller can label a
copy that is no longer being kept live.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from core.errors import QuantdeskError

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (symbol, interval)


class Revalidator:
    """Downloads (symbol, interval) pairs in the background with ``fetch(symbol, interval)``,
    which writes the bars where the caller reads them (the disk cache) and raises a
    :class:`~core.errors.QuantdeskError` with a plain message when it cannot."""

    def __init__(self, fetch: Callable[[str, str], object]):
        self._fetch = fetch
        self._lock = threading.Lock()
        self._pending: set[Key] = set()
        self._errors: dict[Key, str] = {}
        self._idle = threading.Condition(self._lock)
        self._queue: queue.SimpleQueue[Key] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def request(self, symbol: str, interval: str) -> None:
        """Have ``symbol``'s ``interval`` bars downloaded in the background, unless a
        download of them is already pending. Returns at once."""
        key = (symbol, interval)
        with self._lock:
            if key in self._pending:
                return
            self._pending.add(key)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="qd-revalidate",
                                                daemon=True)
                self._worker.start()
        self._queue.put(key)

    def _work(self) -> None:
        while True:
            self._run(self._queue.get())

    def _run(self, key: Key) -> None:
        try:
            self._fetch(*key)
        except QuantdeskError as err:
            error = str(err)
        except Exception as err:  # a download must never take the worker down
            log.warning("Background download of %s %s failed: %s: %s", *key,
                        type(err).__name__, err)
            error = f"The background download failed ({type(err).__name__})."
        else:
            error = None
        with self._lock:
            if error is None:
                self._errors.pop(key, None)
            else:
                self._errors[key] = error
            self._pending.discard(key)
            self._idle.notify_all()

    def pending(self, symbol: str, interval: str) -> bool:
        """Whether a download of ``symbol``'s ``interval`` bars is queued or running."""
        with self._lock:
            return (symbol, interval) in self._pending

    def last_error(self, symbol: str, interval: str) -> str | None:
        """Why the last background download of these bars failed (None: it succeeded, or
        none was made)."""
        with self._lock:
            return self._errors.get((symbol, interval))

    def wait_idle(self, timeout: float) -> bool:
        """Block until no download is pending (True) or ``timeout`` seconds passed (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending, timeout)
