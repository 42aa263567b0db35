"""The batch engine of universe work (screener scans, universe-wide training): the same pure function over many symbols, serially in
this process or as tasks on Ray (https://docs.ray.io/en/latest/ray-core/tasks.html).

* ``serial``: a loop in this process (tiny jobs, tests that need no Ray).
* ``ray``: Ray tasks of up to :data:`MAX_CHUNK` symbols each (:func:`chunk_size`: small
  enough that the workers finish together) on a local Ray instance, or on the cluster named
  by ``RAY_ADDRESS`` (``ray.init()`` reads it): the same code either way. Tasks are retried
  when their worker dies (``max_retries``), so a scan that loses a worker finishes on the
  others; a task of several symbols that still fails is split into one task per symbol, so
  only the symbol that fails gets an error row. A task holds one CPU and runs its native
  thread pools (OpenMP, BLAS, torch) on one thread (:func:`limit_threads`), whatever
  ``OMP_NUM_THREADS`` the driver's environment passed on.
* ``auto`` (default, ``QUANTDESK_SCAN_ENGINE``): serial up to ``scan_serial_max`` symbols
  (starting Ray costs seconds), else Ray.

The function must be pure: ``fn(item, *args) -> dict`` reads only its arguments (and the
model files its pinned versions name), returns a row with a ``symbol`` key, and reports
its own failures in the row (see :func:`core.screener.row.screen_row`). Worker processes
get this process's data, models and cache directories and offline flag through
:func:`worker_settings`, since a Ray worker may have started under other settings.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Callable, Sequence

from core.config import get_settings
from core.errors import DataValidationError

log = logging.getLogger(__name__)

ENGINES = ("auto", "ray", "serial")
#: re-executions of a task whose worker process died
MAX_RETRIES = 2
#: CPUs a Ray task holds (Ray's default), and so the threads of its native thread pools
TASK_CPUS = 1
#: the most items one Ray task scores: each task costs about 1 ms of scheduling and
#: (de)serialisation in the driver and the raylet, on the cores the workers use
MAX_CHUNK = 8
#: a job is cut into at least this many tasks per CPU, so that no worker is left with a
#: long last task while the others idle
TASKS_PER_CPU = 8
#: niceness of the workers of a local Ray instance. Ray's default, 15, makes them yield to
#: every other process: on a machine with other work, a 500-symbol scan took 45-69 s for
#: 17-18 s of its workers' CPU (the same scan at 0: 17.0 s). The scan is the job its user
#: waits for, so its workers run at the priority a serial scan has. ``RAY_worker_niceness``
#: in the environment wins; a cluster (``RAY_ADDRESS``) keeps its own setting.
WORKER_NICENESS = 0
#: settings a worker must share with the driver (environment variable names)
_SHARED_ENV = ("QUANTDESK_DATA_DIR", "QUANTDESK_MODELS_DIR", "QUANTDESK_OFFLINE",
               "DATABASE_URL", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")

Progress = Callable[[int, int], None]


def choose_engine(engine: str | None, n_items: int) -> str:
    """``serial`` or ``ray`` for a job of ``n_items`` (``engine`` None reads the setting).

    Raises:
        DataValidationError: an engine name other than auto, ray, serial.
    """
    name = (engine or get_settings().scan_engine or "auto").strip().lower()
    if name not in ENGINES:
        raise DataValidationError(f"Unknown engine {name[:20]!r}: use {', '.join(ENGINES)}.")
    if name == "auto":
        return "serial" if n_items <= get_settings().scan_serial_max else "ray"
    return name


def worker_settings() -> dict[str, str]:
    """The settings a worker process must share with this one, as environment variables
    (data and models directories as absolute paths, offline flag, database URL)."""
    s = get_settings()
    env = {k: os.environ[k] for k in _SHARED_ENV if k in os.environ}
    env.update(QUANTDESK_DATA_DIR=str(s.data_dir.resolve()),
               QUANTDESK_MODELS_DIR=str(s.models_dir.resolve()),
               QUANTDESK_OFFLINE="1" if s.offline else "0")
    return env


def apply_settings(env: dict[str, str]) -> None:
    """In a worker: adopt the driver's :func:`worker_settings` (settings re-read when they
    changed)."""
    if any(os.environ.get(k) != v for k, v in env.items()):
        os.environ.update(env)
        get_settings.cache_clear()


#: threads this process's native thread pools were limited to (None: not limited here)
_THREADS: int | None = None
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_threads(n: int) -> None:
    """In a worker: native thread pools on ``n`` threads, once per process: the OpenMP and
    BLAS runtimes already loaded (threadpoolctl), torch's intra-op pool if imported, and
    the environment variables read by runtimes loaded later (LightGBM's OpenMP, torch).

    Ray sets ``OMP_NUM_THREADS`` to a task's CPUs only when the driver's environment has
    none; with ``OMP_NUM_THREADS=2`` inherited, two workers on two cores ran four OpenMP
    threads on tiny per-symbol models (one-row LightGBM predictions, a one-window CNN), and
    a row took 2-3x as long."""
    global _THREADS
    if _THREADS == n:
        return
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        pass
    else:
        threadpool_limits(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    _THREADS = n


def _run_chunk(fn, env, items, args) -> list:
    """A Ray task: ``[fn(item, *args) for item in items]`` under the driver's settings."""
    apply_settings(env)
    limit_threads(TASK_CPUS)
    return [fn(item, *args) for item in items]


def chunk_size(n_items: int, cpus: int) -> int:
    """Items per Ray task for a job of ``n_items`` on ``cpus`` CPUs: at least
    :data:`TASKS_PER_CPU` tasks per CPU, at most :data:`MAX_CHUNK` items per task."""
    return max(1, min(MAX_CHUNK, n_items // max(1, cpus * TASKS_PER_CPU)))


def ray_available() -> bool:
    """True when Ray can be imported here."""
    try:
        import ray  # noqa: F401  deferred: Ray takes ~0.4 s to import
    except ImportError:
        return False
    return True


def ensure_ray():
    """Connect to Ray once per process: the cluster in ``RAY_ADDRESS`` if set, else a local
    instance using this machine's cores, its workers at :data:`WORKER_NICENESS`. Returns the
    ``ray`` module.

    Raises:
        DataValidationError: Ray is not installed or cannot start / connect (the message
            says to use ``--engine serial`` meanwhile).
    """
    try:
        import ray  # deferred: Ray takes ~0.4 s to import
    except ImportError:
        raise DataValidationError("Ray is not installed here; run the scan with --engine "
                                  "serial (or QUANTDESK_SCAN_ENGINE=serial).") from None
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS") or None
        if address is None:  # read by the raylet this starts (Ray's RAY_<setting> names)
            os.environ.setdefault("RAY_worker_niceness", str(WORKER_NICENESS))
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.WARNING, ignore_reinit_error=True)
        except Exception as err:  # cannot start or reach the cluster
            where = os.environ.get("RAY_ADDRESS") or "a local Ray instance"
            raise DataValidationError(
                f"Could not start or reach {where} ({type(err).__name__}: {err}). Check "
                "RAY_ADDRESS (a cluster with token authentication also needs RAY_AUTH_MODE="
                "token and its token in RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH), or run with "
                "--engine serial.") from None
    return ray


def run_batch(fn: Callable[..., dict], items: Sequence[Any], *args, engine: str | None = None,
              progress: Progress | None = None, chunk: int | None = None) -> list[dict]:
    """``[fn(item, *args) for item in items]`` on the chosen engine, in ``items``' order.

    Args:
        fn: a pure, importable (module-level) function returning a dict with ``symbol``.
        items: work items with a ``symbol`` attribute (e.g. ScanInput).
        args: extra arguments passed to every call (shipped once to Ray's object store).
        engine: ``auto``/``ray``/``serial`` (None: the ``scan_engine`` setting).
        progress: ``progress(done, total)`` after each finished item (on Ray, after each
            finished task, for all its items).
        chunk: items per Ray task (default :func:`chunk_size`).
    Returns:
        One row per item. On Ray, an item whose task failed after :data:`MAX_RETRIES`
        re-executions gets ``{"symbol": ..., "error": "..."}``.
    Raises:
        DataValidationError: an unknown engine, or Ray cannot start (see :func:`ensure_ray`).
    """
    total = len(items)
    if choose_engine(engine, total) == "serial":
        out = []
        for i, item in enumerate(items):
            out.append(fn(item, *args))
            if progress:
                progress(i + 1, total)
        return out
    ray = ensure_ray()
    remote = ray.remote(num_cpus=TASK_CPUS, max_retries=MAX_RETRIES,
                        retry_exceptions=False)(_run_chunk)
    env, shared_fn = ray.put(worker_settings()), ray.put(fn)
    shared_args = ray.put(tuple(args))
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    size = max(1, chunk) if chunk else chunk_size(total, cpus)
    position: dict = {}  # ref -> the positions of its items

    def submit(idx: list[int]) -> None:
        ref = remote.remote(shared_fn, env, [items[i] for i in idx], shared_args)
        position[ref] = idx

    for start in range(0, total, size):
        submit(list(range(start, min(start + size, total))))
    out: list[dict | None] = [None] * total
    done = 0
    while position:
        ready, _ = ray.wait(list(position), num_returns=min(len(position), 8), timeout=1.0)
        for ref in ready:
            idx = position.pop(ref)
            try:
                rows = ray.get(ref)
            except Exception as err:  # the task failed even after its retries
                if len(idx) > 1:  # again one task per item: only the failing one fails
                    for i in idx:
                        submit([i])
                    continue
                i = idx[0]
                log.warning("scan task %s failed: %s", getattr(items[i], "symbol", i), err)
                rows = [{"symbol": getattr(items[i], "symbol", str(i)),
                         "error": f"worker failed ({type(err).__name__}); rescan to retry"}]
            for i, row in zip(idx, rows):
                out[i] = row
            done += len(idx)
            if progress:
                progress(done, total)
    return out  # type: ignore[return-value]
