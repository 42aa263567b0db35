"""Training runs, single-flight: one retrain at a time across processes (a database lock
held as a lease), each recorded ``TRAINING -> COMPLETED | FAILED`` in ``training_runs``, its
artifact registered as a **candidate** (promotion is a separate, audited step) and audited.
It takes the trainer as a callable and knows nothing of families or authentication: callers
(:mod:`core.training`, a domain's ``train`` command) pass the trainer and check who may
retrain.

The lease: the lock row names its owner (host, pid) and a daemon thread refreshes its
heartbeat every :data:`HEARTBEAT_EVERY` while the trainer runs. When the process dies
(``kill -9``, a crash), the next retrain finds the holder dead (same host and pid gone, or
no heartbeat for :data:`core.store.ops.LEASE`, 60 s), reclaims the lock and marks the
orphaned run ``FAILED`` ("holder died") with an audit entry. ``quantdesk admin unlock``
clears a stuck lock by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from typing import Callable

from sqlmodel import select

from core.errors import TrainingInProgressError
from core.family import Progress
from core.store.db import session_scope, utcnow
from core.store.ops import (
    LEASE, acquire_lock, attach_run, audit, current_lock, heartbeat, register_version,
    release_lock,
)
from core.store.tables import COMPLETED, FAILED, TrainingRun

TRAINING_LOCK = "training"
#: Seconds between two heartbeats of a running retrain (well inside the 60 s lease).
HEARTBEAT_EVERY = 20.0

log = logging.getLogger(__name__)


def _fmt(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Heartbeat:
    """A daemon thread that refreshes ``holder``'s lease on ``name`` every ``every`` seconds
    until :meth:`stop`. A failed beat (store briefly unavailable) is logged and retried; a
    lost lease (another process reclaimed it) is logged once and ends the thread."""

    def __init__(self, name: str, holder: str, every: float = HEARTBEAT_EVERY):
        self.name, self.holder, self.every = name, holder, every
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"lease-heartbeat-{holder}")

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with session_scope() as s:
                    held = heartbeat(self.name, self.holder, session=s)
            except Exception as err:  # the store may come back: keep trying
                log.warning("Lease heartbeat of %s failed: %s", self.holder, err)
                continue
            if not held:
                log.warning("Lease %s of %s was reclaimed by another process.", self.name,
                            self.holder)
                return
            self.beats += 1

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _record_failure(run_id: int, family: str, who: str, error: str) -> TrainingRun:
    """Mark run ``run_id`` FAILED with ``error`` and audit ``train_failed``."""
    with session_scope() as s:
        run = s.get(TrainingRun, run_id)
        run.status, run.finished_at, run.error = FAILED, utcnow(), error[:4000]
        s.add(run)
        audit(who, "train_failed", family, {"run": run_id, "error": run.error}, session=s)
    return run


def run_single_flight(family: str, train: Callable[..., object], *, who: str,
                      progress: Progress | None = None,
                      stale_after: dt.timedelta | None = None,
                      heartbeat_every: float = HEARTBEAT_EVERY) -> TrainingRun:
    """Run ``train(progress=...)`` for ``family`` once, single-flight, and register the
    artifact it returns as a candidate version.

    Args:
        family: the registry family the artifact belongs to.
        train: ``train(progress=None) -> core.registry.Artifact``.
        who: the user (admin name, ``cli``, ``bootstrap``) recorded in the run and audit log.
        progress: optional ``progress(fraction in [0, 1], message)`` passed to the trainer.
        stale_after: a lease without a heartbeat for this long is reclaimed (default
            :data:`core.store.ops.LEASE`, 60 s); so is one whose pid on this host is gone.
        heartbeat_every: seconds between heartbeats [s].

    Returns:
        The :class:`core.store.TrainingRun` row: ``COMPLETED`` with ``version`` set, or
        ``FAILED`` with ``error`` holding the exception text (the trainer's exception is not
        re-raised, so the caller shows ``run.error``).

    Raises:
        TrainingInProgressError: a live retrain holds the lock ("A retrain of X started by Y
            at T is running").
        sqlalchemy.exc.SQLAlchemyError: the store cannot be read or written (callers turn it
            into a message).
    """
    holder = f"{who}#{secrets.token_hex(4)}"
    with session_scope() as s:
        lock = acquire_lock(TRAINING_LOCK, holder, family, session=s,
                            stale_after=stale_after or LEASE)
        if lock is None:
            held = current_lock(TRAINING_LOCK, session=s)
            if held is None:  # released between our attempt and the read: report plainly
                raise TrainingInProgressError("Another retrain was just running; try again.")
            by = held.holder.rsplit("#", 1)[0]
            where = f" on {held.host} (pid {held.pid})" if held.host else ""
            raise TrainingInProgressError(
                f"A retrain of {held.detail} started by {by}{where} at "
                f"{_fmt(held.acquired_at)} is running. Wait for it to finish (its progress is "
                "on the Admin page); if its process is gone, the lock frees itself within a "
                "minute, or an admin runs `quantdesk admin unlock`.")
        try:
            run = TrainingRun(family=family, who=who)
            s.add(run)
            s.flush()
            attach_run(TRAINING_LOCK, holder, run.id, session=s)
            audit(who, "train_start", family, {"run": run.id}, session=s)
            s.commit()
            run_id = run.id
        except Exception:
            s.rollback()
            release_lock(TRAINING_LOCK, holder, session=s)
            raise
    try:
        with Heartbeat(TRAINING_LOCK, holder, heartbeat_every):
            try:
                artifact = train(progress=progress)
            except Exception as err:  # recorded, not re-raised: the run row carries the error
                return _record_failure(run_id, family, who, f"{type(err).__name__}: {err}")
            except BaseException as err:  # interrupted (Ctrl-C, a stopped Streamlit script):
                try:                      # recorded, then re-raised
                    _record_failure(run_id, family, who, f"interrupted ({type(err).__name__})")
                finally:
                    raise
        with session_scope() as s:
            register_version(family, artifact.version, session=s, who=who)
            run = s.get(TrainingRun, run_id)
            run.status, run.finished_at, run.version = COMPLETED, utcnow(), artifact.version
            s.add(run)
            audit(who, "train_complete", f"{family}/{artifact.version}",
                  {"run": run_id, "status": "candidate"}, session=s)
        return run
    finally:
        try:
            with session_scope() as s:
                release_lock(TRAINING_LOCK, holder, session=s)
        except Exception as err:  # the lease expires by itself within a minute
            log.warning("Could not release the training lock %s: %s", holder, err)


def training_runs(*, session, family: str | None = None, limit: int = 50) -> list:
    """Recent training runs, newest first."""
    stmt = select(TrainingRun).order_by(TrainingRun.started_at.desc(), TrainingRun.id.desc())
    if family:
        stmt = stmt.where(TrainingRun.family == family)
    return list(session.exec(stmt.limit(limit)).all())
