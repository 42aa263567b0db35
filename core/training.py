"""Model families, their default trainers, and single-flight training runs.

Each trainer is ``train(progress: Callable[[float, str], None] | None) ->
core.registry.Artifact`` and writes a new version (used by ``quantdesk init``, the CLI and the
Admin page). Add a family by adding one line to ``FAMILIES``: ``name -> "module:function"``.

:func:`run_training` is what the Admin page and ``quantdesk train`` call: it holds a
database lock so only one retrain runs at a time (a second attempt raises
:class:`core.errors.TrainingInProgressError` naming who started the running one), records
the run ``TRAINING -> COMPLETED | FAILED`` in ``training_runs``, registers the new version as
a **candidate** (promotion is a separate, audited step) and writes the audit log. It knows
nothing about authentication: the caller checks that ``who`` may retrain.
"""

from __future__ import annotations

import datetime as dt
import importlib
import secrets
from typing import Callable

from core.errors import QuantdeskError, TrainingInProgressError

Progress = Callable[[float, str], None]

FAMILIES: dict[str, str] = {
    "naive-baseline": "core.predictors:train_naive_baseline",
    "risk-dqn": "core.risk.dqn:train",
    "signal-quality": "core.risk.signal_quality:train",
    "forecast": "core.forecasting.train:train",
    "volatility": "core.volatility.train:train",
    "patterns-cnn": "core.patterns.train:train_patterns",
    "breakout": "core.patterns.train:train_breakout",
    "sentiment-head": "core.sentiment.train:train",
}

TRAINING_LOCK = "training"


def trainer(family: str) -> Callable[..., object]:
    """The training function for ``family``. Raises KeyError for an unknown family.

    A ``FAMILIES`` value is ``"module:function"`` (or, in tests, the callable itself).
    """
    target = FAMILIES[family]
    if callable(target):
        return target
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def _fmt(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_training(family: str, *, who: str, progress: Progress | None = None,
                 stale_after: dt.timedelta | None = None):
    """Train ``family`` once, single-flight, and register the result as a candidate.

    Args:
        family: a key of :data:`FAMILIES`.
        who: the user (admin name, ``cli``, ``bootstrap``) recorded in the run and audit log.
        progress: optional ``progress(fraction in [0, 1], message)`` passed to the trainer.
        stale_after: a lock older than this is reclaimed (default 2 h, a crashed process).

    Returns:
        The :class:`core.store.TrainingRun` row: ``COMPLETED`` with ``version`` set, or
        ``FAILED`` with ``error`` holding the exception text (the trainer's exception is not
        re-raised, so the caller shows ``run.error``).

    Raises:
        QuantdeskError: unknown family.
        TrainingInProgressError: another retrain holds the lock ("A retrain of X started by Y
            at T is running").
    """
    from core.store.db import session_scope, utcnow
    from core.store.ops import (
        STALE_LOCK_AFTER, acquire_lock, audit, current_lock, register_version, release_lock,
    )
    from core.store.tables import COMPLETED, FAILED, TrainingRun

    if family not in FAMILIES:
        raise QuantdeskError(f"Unknown model family {family!r}. Known: "
                             f"{', '.join(sorted(FAMILIES)) or 'none registered'}.")
    holder = f"{who}#{secrets.token_hex(4)}"
    with session_scope() as s:
        lock = acquire_lock(TRAINING_LOCK, holder, family, session=s,
                            stale_after=stale_after or STALE_LOCK_AFTER)
        if lock is None:
            held = current_lock(TRAINING_LOCK, session=s)
            if held is None:  # released between our attempt and the read: report plainly
                raise TrainingInProgressError("Another retrain was just running; try again.")
            by = held.holder.rsplit("#", 1)[0]
            raise TrainingInProgressError(
                f"A retrain of {held.detail} started by {by} at {_fmt(held.acquired_at)} is "
                "running. Wait for it to finish (its progress is on the Admin page).")
        run = TrainingRun(family=family, who=who)
        s.add(run)
        audit(who, "train_start", family, {}, session=s)
        s.commit()
        run_id = run.id
    try:
        try:
            artifact = trainer(family)(progress=progress)
        except Exception as err:  # recorded, not re-raised: the run row carries the error
            with session_scope() as s:
                run = s.get(TrainingRun, run_id)
                run.status, run.finished_at = FAILED, utcnow()
                run.error = f"{type(err).__name__}: {err}"[:4000]
                s.add(run)
                audit(who, "train_failed", family, {"run": run_id, "error": run.error}, session=s)
            return run
        with session_scope() as s:
            register_version(family, artifact.version, session=s, who=who)
            run = s.get(TrainingRun, run_id)
            run.status, run.finished_at, run.version = COMPLETED, utcnow(), artifact.version
            s.add(run)
            audit(who, "train_complete", f"{family}/{artifact.version}",
                  {"run": run_id, "status": "candidate"}, session=s)
        return run
    finally:
        with session_scope() as s:
            release_lock(TRAINING_LOCK, holder, session=s)


def train_all(*, who: str, progress: Progress | None = None) -> list:
    """Run :func:`run_training` for every family in turn (one at a time); returns the runs.
    ``progress`` receives the overall fraction and ``"<family>: <message>"``."""
    runs = []
    fams = sorted(FAMILIES)
    for i, fam in enumerate(fams):
        def sub(frac: float, msg: str, _i=i, _fam=fam) -> None:
            if progress is not None:
                progress((_i + max(0.0, min(1.0, frac))) / len(fams), f"{_fam}: {msg}")
        runs.append(run_training(fam, who=who, progress=sub))
    return runs


def training_runs(*, session, family: str | None = None, limit: int = 50) -> list:
    """Recent training runs, newest first."""
    from sqlmodel import select

    from core.store.tables import TrainingRun

    stmt = select(TrainingRun).order_by(TrainingRun.started_at.desc(), TrainingRun.id.desc())
    if family:
        stmt = stmt.where(TrainingRun.family == family)
    return list(session.exec(stmt.limit(limit)).all())
