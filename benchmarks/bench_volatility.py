"""Volatility benchmarks (issue 4): all forecasters for one symbol, warm (<= 100 ms), and the
full rolling evaluation of one symbol and horizon (<= 30 s). ``python -m benchmarks volatility``.

Wall time on a shared machine depends on its load, so the CPU time of this (single-threaded)
process is printed beside it: on an idle core the wall time is about the CPU time.
"""

from __future__ import annotations

import os
import time

from benchmarks.timing import median_ms, report


def run() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from core.data import load_ohlcv
    from core.volatility.evaluate import evaluate
    from core.volatility.serve import forecasts_from_artifact, load_model

    print(f"   load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    md = load_ohlcv("^GSPC")
    art = load_model()
    if art is None:
        print("   no volatility artifact: run `quantdesk train volatility` first")
    else:
        def all_forecasters():
            return forecasts_from_artifact(md.frame, "^GSPC", art, (1, 5, 21))

        c0 = time.process_time()
        wall = median_ms(all_forecasters, 20)
        cpu = (time.process_time() - c0) / 22 * 1000
        report("all 5 forecasters x 3 horizons, ^GSPC, warm (wall)", wall, 100.0)
        report("  same, CPU time per call", cpu, 100.0)
    t0, c0 = time.perf_counter(), time.process_time()
    evaluate(md.frame, "^GSPC", (1,))
    report("rolling evaluation ^GSPC h=1 (wall)", time.perf_counter() - t0, 30.0, "s")
    report("  same, CPU time", time.process_time() - c0, 30.0, "s")
