"""Helpers for tests that start real server processes (Streamlit, Ray, PostgreSQL) on
loopback: a free port, waiting for a line in a server's log, and stopping it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_text(log: Path, proc: subprocess.Popen, text: str, timeout_s: float,
                  what: str) -> None:
    """Wait until ``text`` appears in ``log``, written by ``proc``.

    Raises:
        AssertionError: ``proc`` exited first (with the log's tail), or ``timeout_s``
            seconds passed (naming ``what``).
    """
    deadline = time.monotonic() + timeout_s
    while text not in log.read_text(errors="replace"):
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, f"{what} within {timeout_s:.0f} s"
        time.sleep(1)


def stop(proc: subprocess.Popen, timeout_s: float = 10) -> None:
    """SIGTERM ``proc`` (a server stops its children on it), SIGKILL after ``timeout_s``."""
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
