"""The batch engine: Ray and serial give the same rows; a worker that dies mid-scan does not
lose its symbol (Ray re-executes the task); the engine setting is honoured."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.errors import DataValidationError
from core.batch import chunk_size, choose_engine, run_batch
from core.screener.scan import scan_inputs
from core.screener.synthetic import SOURCE, synthetic_universe

ray = pytest.importorskip("ray")
# this module is not importable in a Ray worker (pytest's importlib mode): ship its
# functions and classes by value
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module", autouse=True)
def ray_instance():
    """One local Ray instance for this module (2 CPUs, as on the CI machine)."""
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _same(a, b) -> bool:
    """Equal, NaN == NaN; floats to 1e-6 relative: LightGBM and the GARCH optimiser sum in
    another order with the one thread a Ray worker gets (OMP_NUM_THREADS=1)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6,
                                                                   abs_tol=1e-9)
    return a == b or (a != a and b != b)


def test_ray_and_serial_rows_agree():
    items = synthetic_universe(4, n_bars=700, seed=7)
    assert {i.source for i in items} == {SOURCE}
    serial, e1 = scan_inputs(items, engine="serial")
    ray_rows, e2 = scan_inputs(items, engine="ray")
    assert (e1, e2) == ("serial", "ray")
    assert list(serial["symbol"]) == list(ray_rows["symbol"]) == [i.symbol for i in items]
    for col in serial.columns:
        for a, b in zip(serial[col], ray_rows[col]):
            assert _same(a, b), (col, a, b)


@dataclass(frozen=True)
class Item:
    symbol: str


def die_once(item: Item, flag_dir: str) -> dict:
    """Kills its worker process the first time it sees symbol DIE (a lost worker)."""
    flag = Path(flag_dir) / "died"
    if item.symbol == "DIE" and not flag.exists():
        flag.write_text("1")
        os._exit(1)
    return {"symbol": item.symbol, "pid": os.getpid()}


def always_die(item: Item) -> dict:
    if item.symbol == "DIE":
        os._exit(1)
    return {"symbol": item.symbol}


def test_scan_that_loses_a_worker_finishes(tmp_path):
    items = [Item(s) for s in ("A", "B", "DIE", "C", "D")]
    seen = []
    rows = run_batch(die_once, items, str(tmp_path), engine="ray",
                     progress=lambda d, t: seen.append((d, t)))
    assert [r["symbol"] for r in rows] == ["A", "B", "DIE", "C", "D"]
    assert all("error" not in r for r in rows)
    assert (tmp_path / "died").exists()  # the worker really died once
    assert seen[-1] == (5, 5)


def test_task_that_keeps_failing_becomes_its_error_row():
    rows = run_batch(always_die, [Item("A"), Item("DIE"), Item("B")], engine="ray")
    assert [r["symbol"] for r in rows] == ["A", "DIE", "B"]
    assert "error" not in rows[0] and "error" not in rows[2]
    assert "worker failed" in rows[1]["error"]


def test_engine_setting(monkeypatch):
    from core.config import get_settings

    assert choose_engine("serial", 10_000) == "serial"
    assert choose_engine("auto", 3) == "serial" and choose_engine("auto", 500) == "ray"
    monkeypatch.setenv("QUANTDESK_SCAN_ENGINE", "serial")
    get_settings.cache_clear()
    assert choose_engine(None, 500) == "serial"
    with pytest.raises(DataValidationError, match="Unknown engine"):
        choose_engine("spark", 5)


def test_chunks_and_a_failing_item_in_a_chunk():
    """A job is cut into tasks of several items; a task that keeps failing is split, so only
    the item that fails gets an error row."""
    assert chunk_size(3, 2) == 1 and chunk_size(500, 2) == 8 and chunk_size(64, 2) == 4
    names = [f"S{i:02d}" for i in range(40)]
    names[13] = "DIE"
    rows = run_batch(always_die, [Item(s) for s in names], engine="ray")
    assert [r["symbol"] for r in rows] == names
    assert "worker failed" in rows[13]["error"]
    assert all("error" not in r for i, r in enumerate(rows) if i != 13)


def threads_seen(item: Item) -> dict:
    """The thread settings a task runs under."""
    from threadpoolctl import threadpool_info

    return {"symbol": item.symbol, "omp": os.environ.get("OMP_NUM_THREADS"),
            "pools": sorted({p["num_threads"] for p in threadpool_info()})}


def test_tasks_run_their_thread_pools_on_one_thread():
    rows = run_batch(threads_seen, [Item("A"), Item("B"), Item("C")], engine="ray")
    assert all(r["omp"] == "1" and set(r["pools"]) <= {1} for r in rows), rows


def test_limit_threads_overrides_an_inherited_omp_setting():
    """A worker that inherited OMP_NUM_THREADS=2 (Ray keeps a driver's setting) runs its
    OpenMP, BLAS and torch pools on one thread after limit_threads(1)."""
    import json
    import subprocess

    code = ("import json, torch, lightgbm; from threadpoolctl import threadpool_info; "
            "from core.batch import limit_threads; before = torch.get_num_threads(); "
            "limit_threads(1); print(json.dumps([before, torch.get_num_threads(), "
            "sorted({p['num_threads'] for p in threadpool_info()})]))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=120, check=False, env={**os.environ, "OMP_NUM_THREADS": "2",
                                                      "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr[-2000:]
    before, after, pools = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == 2 and after == 1 and pools == [1]


def test_local_ray_workers_run_at_normal_priority():
    """ensure_ray's local instance runs its workers at niceness 0 (Ray's default, 15, let
    any other process starve a scan)."""
    import json
    import subprocess

    code = ("import json, os, ray; from core.batch import ensure_ray, run_batch; "
            "ensure_ray(); "
            "nice = lambda item: {'symbol': item, 'nice': os.nice(0)}; "
            "print(json.dumps([r['nice'] for r in run_batch(nice, ['A', 'B'], "
            "engine='ray')])); ray.shutdown()")
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS",
                                                           "RAY_worker_niceness")}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=300, check=False,
                         env={**env, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [0, 0]
