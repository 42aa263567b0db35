"""The batch engine of universe work (screener scans, universe-wide training): the same pure function over many symbols, serially in
this process or as tasks on Ray (https://docs.ray.io/en/latest/ray-core/tasks.html).

* ``serial``: a loop in this process (tiny jobs, tests that need no Ray).
* ``ray``: one Ray task per symbol on a local Ray instance, or on the cluster named by
  ``RAY_ADDRESS`` (``ray.init()`` reads it): the same code either way. Tasks are retried
  when their worker dies (``max_retries``), so a scan that loses a worker finishes on the
  others; a task that still fails becomes that symbol's error row.
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
from typing import Any, Callable, Sequence

from core.config import get_settings
from core.errors import DataValidationError

log = logging.getLogger(__name__)

ENGINES = ("auto", "ray", "serial")
#: re-executions of a task whose worker process died
MAX_RETRIES = 2
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


def _run_one(fn, env, item, args):
    apply_settings(env)
    return fn(item, *args)


def ray_available() -> bool:
    """True when Ray can be imported here."""
    try:
        import ray  # noqa: F401  deferred: Ray takes ~0.4 s to import
    except ImportError:
        return False
    return True


def ensure_ray():
    """Connect to Ray once per process: the cluster in ``RAY_ADDRESS`` if set, else a local
    instance using this machine's cores. Returns the ``ray`` module.

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
        try:
            ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.WARNING,
                     ignore_reinit_error=True)
        except Exception as err:  # cannot start or reach the cluster
            where = os.environ.get("RAY_ADDRESS") or "a local Ray instance"
            raise DataValidationError(
                f"Could not start or reach {where} ({type(err).__name__}: {err}). Check "
                "RAY_ADDRESS, or run with --engine serial.") from None
    return ray


def run_batch(fn: Callable[..., dict], items: Sequence[Any], *args, engine: str | None = None,
              progress: Progress | None = None) -> list[dict]:
    """``[fn(item, *args) for item in items]`` on the chosen engine, in ``items``' order.

    Args:
        fn: a pure, importable (module-level) function returning a dict with ``symbol``.
        items: work items with a ``symbol`` attribute (e.g. ScanInput).
        args: extra arguments passed to every call (shipped once to Ray's object store).
        engine: ``auto``/``ray``/``serial`` (None: the ``scan_engine`` setting).
        progress: ``progress(done, total)`` after each finished item.
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
    remote = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(_run_one)
    env, shared_fn = ray.put(worker_settings()), ray.put(fn)
    shared_args = ray.put(tuple(args))
    refs = [remote.remote(shared_fn, env, item, shared_args) for item in items]
    position = {ref: i for i, ref in enumerate(refs)}
    out: list[dict | None] = [None] * total
    pending, done = list(refs), 0
    while pending:
        ready, pending = ray.wait(pending, num_returns=min(len(pending), 8), timeout=1.0)
        for ref in ready:
            i = position[ref]
            try:
                out[i] = ray.get(ref)
            except Exception as err:  # the task failed even after its retries
                log.warning("scan task %s failed: %s", getattr(items[i], "symbol", i), err)
                out[i] = {"symbol": getattr(items[i], "symbol", str(i)),
                          "error": f"worker failed ({type(err).__name__}); rescan to retry"}
            done += 1
            if progress:
                progress(done, total)
    return out  # type: ignore[return-value]
