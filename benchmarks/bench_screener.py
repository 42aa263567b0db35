"""Screener benchmark (issue 19): a universe scan of SYNTHETIC symbols, serial against Ray.

The universe is :func:`core.screener.synthetic.synthetic_universe` (block-bootstrapped
bundled real bars, named SYNTH-0001..., ~1,300 daily bars each): load-test data only,
never market data. Models are warm: the versions are pinned and loaded once in this
process (serial) and in each Ray worker (a warm-up pass) before timing.

Prints, for ``QD_BENCH_SCAN_SYMBOLS`` symbols (default 500; serial on
``QD_BENCH_SCAN_SERIAL`` of them, default 100, extrapolated per symbol): the serial time,
the Ray time, their ratio, symbols per second per core, Ray's overhead per task (a no-op
task, median), and the median per-stage time of one row (which part of the models costs
what). The issue's target: the 500-symbol Ray scan in <= 20 s on 2 cores.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time


def noop(item) -> dict:
    """A task that does nothing: measures the engine's own cost per task."""
    return {"symbol": getattr(item, "symbol", "")}


def _stage_times(items, versions) -> dict[str, float]:
    """Median ms per domain predictor and for the technical columns, over ``items``."""
    from core.data import MarketData
    from core.panel.predictors import DOMAIN_PREDICTORS
    from core.screener.columns import technical_columns
    from core.serving import pinned

    times: dict[str, list[float]] = {}
    with pinned(versions):
        for it in items:
            md = MarketData(it.frame, it.symbol, it.interval, it.source, it.frame.index[-1])
            t0 = time.perf_counter()
            technical_columns(it.frame)
            times.setdefault("technical columns", []).append(time.perf_counter() - t0)
            for dp in DOMAIN_PREDICTORS:
                t0 = time.perf_counter()
                try:
                    dp.predict(md)
                except Exception:  # a domain that cannot serve a synthetic symbol
                    pass
                times.setdefault(f"domain {dp.name}", []).append(time.perf_counter() - t0)
    return {k: 1000 * statistics.median(v) for k, v in times.items()}


def run() -> None:
    os.environ.setdefault("QUANTDESK_DATA_DIR", tempfile.mkdtemp(prefix="qd-bench-scan-"))
    from core.config import get_settings

    get_settings.cache_clear()
    from core.families import FAMILIES
    from core.batch import ensure_ray, run_batch
    from core.screener.scan import scan_inputs
    from core.screener.synthetic import synthetic_universe
    from core.serving import resolve_versions

    n = int(os.environ.get("QD_BENCH_SCAN_SYMBOLS", "500"))
    n_serial = min(n, int(os.environ.get("QD_BENCH_SCAN_SERIAL", "100")))
    cores = os.cpu_count() or 1
    items = synthetic_universe(n, n_bars=1300, seed=1)
    versions = resolve_versions(FAMILIES)
    print(f"   SYNTHETIC universe: {n} symbols x 1,300 daily bars (load test, not market "
          f"data); {cores} cores")

    scan_inputs(items[:2], engine="serial", versions=versions)  # warm: models loaded here
    t0 = time.perf_counter()
    rows, _ = scan_inputs(items[:n_serial], engine="serial", versions=versions)
    serial_s = time.perf_counter() - t0
    per_symbol = serial_s / n_serial
    serial_full = per_symbol * n
    print(f"   serial: {n_serial} symbols in {serial_s:.1f} s = {1000 * per_symbol:.0f} ms/"
          f"symbol -> {serial_full:.0f} s for {n} (extrapolated); "
          f"{int(rows['error'].notna().sum())} failed")

    ray = ensure_ray()
    ray_cpus = int(ray.cluster_resources().get("CPU", cores))
    scan_inputs(items[:2 * ray_cpus], engine="ray", versions=versions)  # warm each worker
    t0 = time.perf_counter()
    rows, _ = scan_inputs(items, engine="ray", versions=versions)
    ray_s = time.perf_counter() - t0
    verdict = ("OK" if ray_s <= 20 else "MISS") if n == 500 else "applies to 500 symbols"
    print(f"   ray ({ray_cpus} CPUs): {n} symbols in {ray_s:.1f} s "
          f"(target <= 20 s: {verdict}); serial/ray = "
          f"{serial_full / ray_s:.2f}; {int(rows['error'].notna().sum())} failed")
    print(f"   throughput: {n / ray_s / ray_cpus:.2f} symbols/s per core on Ray "
          f"({1 / per_symbol:.2f} serial) -> a 32-core node ~{32 * n / ray_s / ray_cpus:.0f} "
          "symbols/s")

    t0 = time.perf_counter()
    run_batch(noop, items[:200], engine="ray")
    overhead = (time.perf_counter() - t0) / 200
    print(f"   ray overhead per task (no-op, 200 tasks, bars shipped): {1000 * overhead:.1f} ms")
    fresh = synthetic_universe(10, n_bars=1300, seed=99)  # not seen: no fit cached
    for name, ms in sorted(_stage_times(fresh, versions).items(), key=lambda kv: -kv[1]):
        print(f"   per row, {name:<28} median {ms:8.1f} ms")
