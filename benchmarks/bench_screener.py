"""Screener benchmark (issue 19): a universe scan of SYNTHETIC symbols, serial against Ray.

The universe is :func:`core.screener.synthetic.synthetic_universe` (block-bootstrapped
bundled real bars, named SYNTH-0001..., ~1,300 daily bars each): load-test data only,
never market data. Models are warm: the versions are pinned and loaded once in this
process (serial) and in each Ray worker (a warm-up pass) before timing.

Prints, for ``QD_BENCH_SCAN_SYMBOLS`` symbols (default 500; serial on
``QD_BENCH_SCAN_SERIAL`` of them, default 100, extrapolated per symbol): the serial time,
the Ray time, their ratio, symbols per second per core, Ray's overhead per task and per
symbol (no-op tasks: one symbol per task, and the scan's own chunking), the median
per-stage time of one row (which part of the models costs what), and the load average
before and after (the machine is shared). The serial rows run on one thread, as each Ray
task does (:func:`core.batch.limit_threads`), so the ratio compares cores, not thread
pools. The issue's target: the 500-symbol Ray scan in <= 20 s on 2 cores.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@contextlib.contextmanager
def one_thread():
    """This process's loaded OpenMP/BLAS pools and torch's pool on one thread, restored
    after (the later benchmarks of ``make bench`` keep their threads)."""
    import torch
    from threadpoolctl import threadpool_limits

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(n)


def noop(item) -> dict:
    """A task that does nothing: measures the engine's own cost per task."""
    return {"symbol": getattr(item, "symbol", "")}


def timed_row(item, versions) -> dict:
    """:func:`core.screener.row.screen_row` with the CPU time it took and the worker's pid
    (``_cpu`` [s], ``_pid``): what the workers themselves spent, whatever else runs."""
    from core.screener.row import screen_row

    c0 = time.process_time()
    row = screen_row(item, versions)
    return {**row, "_cpu": time.process_time() - c0, "_pid": os.getpid()}


def _stage_times(items, versions) -> dict[str, float]:
    """Median ms per domain predictor and for the technical columns, over ``items``."""
    from core.data import MarketData
    from core.news import cache_only
    from core.screener.columns import technical_columns
    from core.screener.row import row_predictors
    from core.serving import pinned

    times: dict[str, list[float]] = {}
    with pinned(versions), cache_only():  # as screen_row runs them
        for it in items:
            md = MarketData(it.frame, it.symbol, it.interval, it.source, it.frame.index[-1])
            t0 = time.perf_counter()
            technical_columns(it.frame)
            times.setdefault("technical columns", []).append(time.perf_counter() - t0)
            for dp in row_predictors():
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
    from core.batch import chunk_size, ensure_ray, run_batch
    from core.screener.scan import scan_inputs
    from core.screener.synthetic import synthetic_universe
    from core.serving import resolve_versions

    n = int(os.environ.get("QD_BENCH_SCAN_SYMBOLS", "500"))
    n_serial = min(n, int(os.environ.get("QD_BENCH_SCAN_SERIAL", "100")))
    cores = os.cpu_count() or 1
    items = synthetic_universe(n, n_bars=1300, seed=1)
    versions = resolve_versions(FAMILIES)
    print(f"   SYNTHETIC universe: {n} symbols x 1,300 daily bars (load test, not market "
          f"data); {cores} cores; load average (1/5/15 min) {_load()}")

    scan_inputs(items[:2], engine="serial", versions=versions)  # warm: models loaded here
    with one_thread():
        t0 = time.perf_counter()
        rows, _ = scan_inputs(items[:n_serial], engine="serial", versions=versions)
        serial_s = time.perf_counter() - t0
    per_symbol = serial_s / n_serial
    serial_full = per_symbol * n
    print(f"   serial (one thread): {n_serial} symbols in {serial_s:.1f} s = "
          f"{1000 * per_symbol:.0f} ms/symbol -> {serial_full:.0f} s for {n} (extrapolated); "
          f"{int(rows['error'].notna().sum())} failed; load {_load()}")

    ray = ensure_ray()
    ray_cpus = int(ray.cluster_resources().get("CPU", cores))
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # timed_row, noop
    scan_inputs(items[:8 * ray_cpus], engine="ray", versions=versions)  # warm each worker
    cpu0, t0 = time.process_time(), time.perf_counter()
    timed = run_batch(timed_row, items, versions, engine="ray")  # = scan_inputs' scoring
    ray_s, driver_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    failed = sum(1 for r in timed if r.get("error"))
    verdict = ("OK" if ray_s <= 20 else "MISS") if n == 500 else "applies to 500 symbols"
    print(f"   ray ({ray_cpus} CPUs, {chunk_size(n, ray_cpus)} symbols per task): {n} symbols "
          f"in {ray_s:.1f} s (target <= 20 s: {verdict}); serial/ray = "
          f"{serial_full / ray_s:.2f}; {failed} failed; load {_load()}")
    per_worker: dict[int, float] = {}
    for r in timed:
        per_worker[r.get("_pid", 0)] = per_worker.get(r.get("_pid", 0), 0.0) + r.get("_cpu", 0)
    cpu = [r["_cpu"] for r in timed if "_cpu" in r]
    print(f"   ray workers' own CPU: {1000 * statistics.median(cpu):.0f} ms per row (median); "
          f"per worker {', '.join(f'{v:.1f}' for v in sorted(per_worker.values()))} s; "
          f"driver {driver_cpu:.2f} s (the scan's time on {ray_cpus} otherwise idle cores "
          f"would be about the busiest worker's)")
    print(f"   throughput: {n / ray_s / ray_cpus:.2f} symbols/s per core on Ray "
          f"({1 / per_symbol:.2f} serial) -> a 32-core node ~{32 * n / ray_s / ray_cpus:.0f} "
          "symbols/s")

    m = min(200, n)
    for label, chunk in (("per task (one symbol per task)", 1),
                         ("per symbol (the scan's chunking)", None)):
        t0 = time.perf_counter()
        run_batch(noop, items[:m], engine="ray", chunk=chunk)
        overhead = (time.perf_counter() - t0) / m
        print(f"   ray overhead {label}, no-op, {m} symbols, bars shipped: "
              f"{1000 * overhead:.2f} ms")
    fresh = synthetic_universe(10, n_bars=1300, seed=99)  # not seen: no fit cached
    with one_thread():
        stages = _stage_times(fresh, versions)
    for name, ms in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"   per row (one thread), {name:<22} median {ms:8.1f} ms")
