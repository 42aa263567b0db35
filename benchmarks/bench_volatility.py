"""Volatility benchmarks (issue 4): all forecasters for one symbol, warm (<= 100 ms), and the
full rolling evaluation of one symbol and horizon (<= 30 s). ``python -m benchmarks volatility``.

Also a symbol *without* trained parameters (a screener row): 3 horizons on distinct
SYNTHETIC 1,300-bar symbols (each one a new GARCH fit), through the pooled ML model and
through the older on-the-fly path (in-sample LightGBM per symbol), models warm.

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
        _unseen(art)
    t0, c0 = time.perf_counter(), time.process_time()
    evaluate(md.frame, "^GSPC", (1,))
    report("rolling evaluation ^GSPC h=1 (wall)", time.perf_counter() - t0, 30.0, "s")
    report("  same, CPU time", time.process_time() - c0, 30.0, "s")


def _per_symbol_ms(fn, frames) -> tuple[float, float]:
    """Median wall ms and mean CPU ms of ``fn(frame)`` over distinct frames."""
    import statistics

    wall = []
    c0 = time.process_time()
    for f in frames:
        t0 = time.perf_counter()
        fn(f)
        wall.append((time.perf_counter() - t0) * 1000)
    return statistics.median(wall), (time.process_time() - c0) / len(frames) * 1000


def _unseen(art) -> None:
    from core.screener.synthetic import synthetic_universe
    from core.volatility.api import forecast_all
    from core.volatility.pooled import forecasts_pooled
    from core.volatility.serve import pooled_models

    items = synthetic_universe(32, n_bars=1300, seed=3)  # SYNTHETIC load-test symbols
    frames = [it.frame for it in items]
    horizons = (1, 5, 21)
    models = pooled_models(art, horizons)
    if models is not None:
        forecasts_pooled(frames[0], models, horizons)  # warm: boosters parsed, imports done
        wall, cpu = _per_symbol_ms(lambda f: forecasts_pooled(f, models, horizons), frames[1:25])
        report("unseen symbol, pooled ML, 3 horizons (wall)", wall, 100.0)
        report("  same, CPU time per symbol", cpu, 100.0)
    else:
        print("   the active volatility artifact has no pooled model (or does not serve it)")
    forecast_all(frames[0], 1)
    wall, cpu = _per_symbol_ms(lambda f: [forecast_all(f, h) for h in horizons], frames[25:])
    report("unseen symbol, on the fly, 3 horizons (wall)", wall, 100.0)
    report("  same, CPU time per symbol", cpu, 100.0)
