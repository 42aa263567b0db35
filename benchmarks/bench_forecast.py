"""Forecast benchmarks: warm inference (one symbol, all horizons), training the default
universe (6 bundled symbols x 3 horizons, wall and CPU seconds), and the walk-forward interval
coverage stored with the active model (target: within 3 points of nominal)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.timing import median_ms, report


def run() -> None:
    from core.data import load_ohlcv
    from core.forecasting.serve import predict_latest
    from core.forecasting.train import train
    from core.serving import load_active

    art = load_active("forecast")
    md = load_ohlcv("MSFT")
    report("forecast inference, 1 symbol x 3 horizons (warm)",
           median_ms(lambda: predict_latest(md, art), repeat=30), 50)
    c0 = time.process_time()
    for _ in range(30):
        predict_latest(md, art)
    report("forecast inference, CPU time per call", (time.process_time() - c0) / 30 * 1000, 50)
    t0, c0 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as d:
        train(models_dir=Path(d))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    report("forecast training, default universe (wall)", wall, 60, unit="s")
    report("forecast training, default universe (CPU)", cpu, 60, unit="s")
    wf = art.metadata.get("walk_forward") or {}
    for sym, per_h in wf.items():
        for h, r in per_h.items():
            print(f"   coverage {sym:<6} h={h:<3} 80%: {100 * r['coverage_80']:5.1f}  "
                  f"95%: {100 * r['coverage_95']:5.1f}  "
                  f"{'OK' if abs(r['coverage_80'] - .8) <= .03 and abs(r['coverage_95'] - .95) <= .03 else 'MISS'}")
