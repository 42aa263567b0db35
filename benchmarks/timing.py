"""Shared timing helper for benchmarks."""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]


def median_ms(fn: Callable[[], object], repeat: int = 20, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeat`` runs after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def report(name: str, median: float, target: float | None = None, unit: str = "ms") -> None:
    """Print one line: median, target and ratio median/target (<= 1 meets the target)."""
    if target:
        print(f"   {name:<48} median {median:10.2f} {unit}   target {target:g} {unit}   "
              f"ratio {median / target:5.2f} {'OK' if median <= target else 'MISS'}")
    else:
        print(f"   {name:<48} median {median:10.2f} {unit}")


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(argv: list[str], port: int, ready_path: str, env: dict, log: Path,
          timeout_s: float = 60) -> tuple[str, subprocess.Popen]:
    """Start ``argv`` (a server listening on loopback ``port``) with its output in ``log``;
    returns ``(base URL, process)`` once ``ready_path`` answers 200.

    Raises:
        RuntimeError: the process exited (the log's tail in the message).
        TimeoutError: no answer within ``timeout_s`` (the process is killed).
    """
    with open(log, "w") as fh:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{argv[2:4]} exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}{ready_path}", timeout=2) as r:
                if r.status == 200:
                    return url, proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise TimeoutError(f"{url}{ready_path} did not answer within {timeout_s:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate ``proc``; kill it when it has not exited within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
