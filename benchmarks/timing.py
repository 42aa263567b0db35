"""Shared timing helper for benchmarks."""

from __future__ import annotations

import statistics
import time
from typing import Callable


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
