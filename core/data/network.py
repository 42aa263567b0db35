"""Is Yahoo Finance reachable? One short probe, remembered for a minute.

Before any Yahoo download, :func:`yahoo_reachable` opens (and closes) a TCP connection to
``query1.finance.yahoo.com:443`` with a short timeout (1.5 s by default, name lookup
included: the attempt runs in a daemon thread that is waited on for that long at most).
The answer is remembered for :data:`REMEMBER_S` seconds on a monotonic clock, so an
offline desk pays the wait at most once a minute, and a page never hangs on the network.
A download that fails for network reasons although the probe said yes marks Yahoo
unreachable for the same minute (:func:`mark_yahoo_unreachable`).

When an HTTPS proxy is configured in the environment (``HTTPS_PROXY``, which yfinance's
HTTP client honours too), the probe connects to the proxy instead of Yahoo.

The state is process-wide and thread-safe (one lock; concurrent callers wait for the one
probe in flight rather than each probing). Tests inject a clock and a connect function by
replacing :data:`PROBE` with their own :class:`ReachabilityProbe`.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
import urllib.request
from typing import Callable

YAHOO_HOST = "query1.finance.yahoo.com"
HTTPS_PORT = 443
PROBE_TIMEOUT_S = 1.5
REMEMBER_S = 60.0

Connect = Callable[..., object]  # socket.create_connection((host, port), timeout=...)


def _target() -> tuple[str, int]:
    """(host, port) the probe connects to: the HTTPS proxy when one is set, else Yahoo."""
    proxy = urllib.request.getproxies().get("https")
    if proxy and not urllib.request.proxy_bypass(YAHOO_HOST):
        parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if parts.hostname:
            return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    return YAHOO_HOST, HTTPS_PORT


class ReachabilityProbe:
    """A TCP reachability check whose answer is remembered for ``remember_s`` seconds.

    Args:
        target: ``() -> (host, port)`` to connect to (default: Yahoo or the HTTPS proxy).
        remember_s: seconds an answer (probed or marked) stays valid.
        clock: monotonic seconds (injectable for tests).
        connect: ``socket.create_connection``-like; must return an object with ``close()``
            or raise. Any exception counts as "unreachable".
    """

    def __init__(
        self,
        target: Callable[[], tuple[str, int]] = _target,
        *,
        remember_s: float = REMEMBER_S,
        clock: Callable[[], float] = time.monotonic,
        connect: Connect = socket.create_connection,
    ):
        self._target, self.remember_s = target, remember_s
        self._clock, self._connect = clock, connect
        self._lock = threading.Lock()
        self._answer: tuple[bool, float] | None = None  # (reachable, decided at [clock s])
        self.probes = 0  # connection attempts made (for tests and diagnostics)

    def reachable(self, timeout: float = PROBE_TIMEOUT_S) -> bool:
        """True when the target accepted a TCP connection within ``timeout`` seconds,
        now or in an answer remembered from less than ``remember_s`` seconds ago.

        Never raises and never waits much longer than ``timeout`` seconds.
        """
        with self._lock:
            now = self._clock()
            if self._answer is not None and now - self._answer[1] < self.remember_s:
                return self._answer[0]
            ok = self._attempt(timeout)
            self._answer = (ok, self._clock())
            return ok

    def remember(self, reachable: bool) -> None:
        """Record an answer learnt elsewhere (e.g. a download that failed on the network)."""
        with self._lock:
            self._answer = (reachable, self._clock())

    def forget(self) -> None:
        """Drop the remembered answer: the next :meth:`reachable` probes again."""
        with self._lock:
            self._answer = None

    def _attempt(self, timeout: float) -> bool:
        self.probes += 1
        result: list[bool] = []

        def run() -> None:
            try:
                host, port = self._target()
                self._connect((host, port), timeout=timeout).close()
                result.append(True)
            except Exception:  # OSError, DNS failure, a test's blocked socket: all "no"
                result.append(False)

        worker = threading.Thread(target=run, name="quantdesk-net-probe", daemon=True)
        worker.start()
        worker.join(timeout + 0.25)  # name lookup ignores the socket timeout: bound it here
        return bool(result and result[0])


PROBE = ReachabilityProbe()


def yahoo_reachable(timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether Yahoo Finance answered a TCP connect within ``timeout`` s (remembered 60 s)."""
    return PROBE.reachable(timeout)


def mark_yahoo_unreachable() -> None:
    """Remember Yahoo as unreachable for the next minute (a download failed on the network)."""
    PROBE.remember(False)


def reset() -> None:
    """Forget the remembered answer (tests; or after the operator fixed the network)."""
    PROBE.forget()
