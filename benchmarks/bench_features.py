"""Benchmark: build_features on 5,031 daily bars of ^GSPC (bundled arch.data history)."""

from __future__ import annotations

from benchmarks.timing import median_ms, report

TARGET_MS = 100.0  # issue 2 / features brief: ~5,000 bars well under 100 ms


def run() -> None:
    from core.data.bundled import load_bundled
    from core.features import FEATURE_COLUMNS, build_features

    frame = load_bundled("^GSPC")
    report(f"build_features ^GSPC {len(frame):,} bars x {len(FEATURE_COLUMNS)} cols",
           median_ms(lambda: build_features(frame), repeat=30), TARGET_MS)
    last = frame.iloc[-260:]
    report("build_features last 260 bars (serving path)",
           median_ms(lambda: build_features(last), repeat=30))
