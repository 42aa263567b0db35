"""Training runs, single-flight: one retrain at a time across processes (a database lock),
each recorded ``TRAINING -> COMPLETED | FAILED`` in ``training_runs``, its artifact
registered as a **candidate** (promotion is a separate, audited step) and audited. It takes
the trainer as a callable and knows nothing of families or authentication: callers
(:mod:`core.training`, a domain's ``train`` command) pass the trainer and check who may
retrain.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Callable

from sqlmodel import select

from core.errors import TrainingInProgressError
from core.family import Progress
from core.store.db import session_scope, utcnow
from core.store.ops import (
    STALE_LOCK_AFTER, acquire_lock, audit, current_lock, register_version, release_lock,
)
from core.store.tables import COMPLETED, FAILED, TrainingRun

TRAINING_LOCK = "training"


def _fmt(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_single_flight(family: str, train: Callable[..., object], *, who: str,
                      progress: Progress | None = None,
                      stale_after: dt.timedelta | None = None) -> TrainingRun:
    """Run ``train(progress=...)`` for ``family`` once, single-flight, and register the
    artifact it returns as a candidate version.

    Args:
        family: the registry family the artifact belongs to.
        train: ``train(progress=None) -> core.registry.Artifact``.
        who: the user (admin name, ``cli``, ``bootstrap``) recorded in the run and audit log.
        progress: optional ``progress(fraction in [0, 1], message)`` passed to the trainer.
        stale_after: a lock older than this is reclaimed (default 2 h, a crashed process).

    Returns:
        The :class:`core.store.TrainingRun` row: ``COMPLETED`` with ``version`` set, or
        ``FAILED`` with ``error`` holding the exception text (the trainer's exception is not
        re-raised, so the caller shows ``run.error``).

    Raises:
        TrainingInProgressError: another retrain holds the lock ("A retrain of X started by Y
            at T is running").
    """
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
            artifact = train(progress=progress)
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


def training_runs(*, session, family: str | None = None, limit: int = 50) -> list:
    """Recent training runs, newest first."""
    stmt = select(TrainingRun).order_by(TrainingRun.started_at.desc(), TrainingRun.id.desc())
    if family:
        stmt = stmt.where(TrainingRun.family == family)
    return list(session.exec(stmt.limit(limit)).all())
