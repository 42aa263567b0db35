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
clears a stuck lock by hand. ``QUANTDESK_LEASE_SECONDS`` and ``QUANTDESK_HEARTBEAT_SECONDS``
shorten both (tests kill a retrain and see the next one start within seconds).

Background jobs: :func:`start_single_flight` takes the lock and registers the run in the
calling thread (so a refusal or a store fault is reported at once), then trains in a thread
of this process (a :class:`RetrainJob`, listed by :func:`jobs`). A page that started it only
watches the job: closing the browser tab stops the page's script, not the job, and the run
ends ``COMPLETED`` or ``FAILED`` with its audit entry. A job still running when the process
exits normally is marked ``FAILED`` ("process stopped") and its lock released; one killed
outright is reclaimed through its lease.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Callable

from sqlmodel import select

from core.errors import TrainingInProgressError
from core.family import Progress
from core.store.db import session_scope, utcnow
from core.store.ops import (
    acquire_lock, attach_run, audit, current_lock, heartbeat, lease_duration, register_version,
    release_lock,
)
from core.store.tables import COMPLETED, FAILED, TRAINING, TrainingRun

TRAINING_LOCK = "training"
#: Seconds between two heartbeats of a running retrain (well inside the 60 s lease).
HEARTBEAT_EVERY = 20.0
#: Environment variable overriding :data:`HEARTBEAT_EVERY` in seconds.
HEARTBEAT_ENV = "QUANTDESK_HEARTBEAT_SECONDS"

log = logging.getLogger(__name__)


def _fmt(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def heartbeat_interval() -> float:
    """Seconds between heartbeats: ``QUANTDESK_HEARTBEAT_SECONDS`` when set to a positive
    number, else :data:`HEARTBEAT_EVERY`; never more than a third of the lease
    (:func:`core.store.ops.lease_duration`), so two missed beats do not lose it."""
    raw = os.environ.get(HEARTBEAT_ENV, "").strip()
    try:
        every = float(raw) if raw else HEARTBEAT_EVERY
    except ValueError:
        every = HEARTBEAT_EVERY
    if every <= 0:
        every = HEARTBEAT_EVERY
    return min(every, lease_duration().total_seconds() / 3)


class Heartbeat:
    """A daemon thread that refreshes ``holder``'s lease on ``name`` every ``every`` seconds
    until :meth:`stop`. A failed beat (store briefly unavailable) is logged and retried; a
    lost lease (another process reclaimed it) is logged once and ends the thread."""

    def __init__(self, name: str, holder: str, every: float | None = None):
        self.name, self.holder = name, holder
        self.every = heartbeat_interval() if every is None else every
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
    """Mark run ``run_id`` FAILED with ``error`` and audit ``train_failed`` (once: a run that
    already ended, e.g. reclaimed or unlocked meanwhile, is returned unchanged)."""
    with session_scope() as s:
        run = s.get(TrainingRun, run_id)
        if run.status != TRAINING:
            return run
        run.status, run.finished_at, run.error = FAILED, utcnow(), error[:4000]
        s.add(run)
        audit(who, "train_failed", family, {"run": run_id, "error": run.error}, session=s)
    return run


def _refusal(session) -> TrainingInProgressError:
    held = current_lock(TRAINING_LOCK, session=session)
    if held is None:  # released between our attempt and the read: report plainly
        return TrainingInProgressError("Another retrain was just running; try again.")
    by = held.holder.rsplit("#", 1)[0]
    where = f" on {held.host} (pid {held.pid})" if held.host else ""
    return TrainingInProgressError(
        f"A retrain of {held.detail} started by {by}{where} at "
        f"{_fmt(held.acquired_at)} is running. Wait for it to finish (its progress is "
        "on the Admin page); if its process is gone, the lock frees itself within a "
        "minute, or an admin runs `quantdesk admin unlock`.")


def begin_run(family: str, *, who: str,
              stale_after: dt.timedelta | None = None) -> tuple[str, int]:
    """Take the training lock for ``family`` and register a ``TRAINING`` run (audited
    ``train_start``); returns ``(holder, run id)`` for :func:`finish_run`.

    Raises:
        TrainingInProgressError: a live retrain holds the lock.
        sqlalchemy.exc.SQLAlchemyError: the store cannot be read or written.
    """
    holder = f"{who}#{secrets.token_hex(4)}"
    with session_scope() as s:
        lock = acquire_lock(TRAINING_LOCK, holder, family, session=s,
                            stale_after=stale_after or lease_duration())
        if lock is None:
            raise _refusal(s)
        try:
            run = TrainingRun(family=family, who=who)
            s.add(run)
            s.flush()
            attach_run(TRAINING_LOCK, holder, run.id, session=s)
            audit(who, "train_start", family, {"run": run.id}, session=s)
            s.commit()
            return holder, run.id
        except Exception:
            s.rollback()
            release_lock(TRAINING_LOCK, holder, session=s)
            raise


def finish_run(family: str, train: Callable[..., object], holder: str, run_id: int, *,
               who: str, progress: Progress | None = None,
               heartbeat_every: float | None = None) -> TrainingRun:
    """Run ``train(progress=...)`` under the lease ``holder`` took in :func:`begin_run`
    (heartbeat thread running), register the artifact as a candidate, end the run
    ``COMPLETED`` or ``FAILED`` (audited) and release the lock, whatever happens."""
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
        try:
            with session_scope() as s:
                register_version(family, artifact.version, session=s, who=who)
                run = s.get(TrainingRun, run_id)
                run.status, run.finished_at, run.version = COMPLETED, utcnow(), artifact.version
                s.add(run)
                audit(who, "train_complete", f"{family}/{artifact.version}",
                      {"run": run_id, "status": "candidate"}, session=s)
        except Exception as err:  # the artifact is on disk; say why it is not registered
            log.warning("Could not register %s/%s: %s", family, artifact.version, err)
            try:
                return _record_failure(run_id, family, who,
                                       f"trained {artifact.version} but could not register "
                                       f"it ({type(err).__name__}: {err})")
            except Exception:
                raise err from None
        return run
    finally:
        try:
            with session_scope() as s:
                release_lock(TRAINING_LOCK, holder, session=s)
        except Exception as err:  # the lease expires by itself within a minute
            log.warning("Could not release the training lock %s: %s", holder, err)


def run_single_flight(family: str, train: Callable[..., object], *, who: str,
                      progress: Progress | None = None,
                      stale_after: dt.timedelta | None = None,
                      heartbeat_every: float | None = None) -> TrainingRun:
    """Run ``train(progress=...)`` for ``family`` once, single-flight, in this thread, and
    register the artifact it returns as a candidate version.

    Args:
        family: the registry family the artifact belongs to.
        train: ``train(progress=None) -> core.registry.Artifact``.
        who: the user (admin name, ``cli``, ``bootstrap``) recorded in the run and audit log.
        progress: optional ``progress(fraction in [0, 1], message)`` passed to the trainer.
        stale_after: a lease without a heartbeat for this long is reclaimed (default
            :func:`core.store.ops.lease_duration`, 60 s); so is one whose pid on this host
            is gone.
        heartbeat_every: seconds between heartbeats (default :func:`heartbeat_interval`).

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
    holder, run_id = begin_run(family, who=who, stale_after=stale_after)
    return finish_run(family, train, holder, run_id, who=who, progress=progress,
                      heartbeat_every=heartbeat_every)


# ---------------------------------------------------------------- background jobs

@dataclass
class RetrainJob:
    """A retrain running in a thread of this process (see the module docstring).

    Attributes:
        id: hex job id. families: what it trains, in order. who: who started it.
        progress: overall fraction done in [0, 1]. message: the trainer's last message.
        runs: the finished :class:`TrainingRun` rows. error: why it stopped early (a
            refusal or store fault after the first family), else None.
        run_ids: the store's run ids, as they are registered.
    """

    id: str
    families: list[str]
    who: str
    progress: float = 0.0
    message: str = "starting"
    runs: list = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    error: str | None = None
    started_at: dt.datetime = field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job ends (or ``timeout`` seconds); True when it has ended."""
        return self._done.wait(timeout)

    def report(self, frac: float, msg: str) -> None:
        """The trainer's progress callback: stores the state only (no UI call)."""
        self.progress = max(0.0, min(1.0, float(frac)))
        self.message = str(msg)[:500]


_JOBS: dict[str, RetrainJob] = {}
_JOBS_LOCK = threading.Lock()
_JOBS_KEEP = 50
#: Run in a job: (family, train callable) per step, in order.
Step = tuple[str, Callable[..., object]]


def jobs(*, running_only: bool = False) -> list[RetrainJob]:
    """This process's retrain jobs, newest first (the last :data:`_JOBS_KEEP`)."""
    with _JOBS_LOCK:
        out = list(_JOBS.values())[::-1]
    return [j for j in out if not (running_only and j.done)]


def get_job(job_id: str) -> RetrainJob | None:
    with _JOBS_LOCK:
        return _JOBS.get(job_id)


def _keep(job: RetrainJob) -> None:
    with _JOBS_LOCK:
        _JOBS[job.id] = job
        for old in [k for k, j in _JOBS.items() if j.done][:max(0, len(_JOBS) - _JOBS_KEEP)]:
            _JOBS.pop(old, None)


def start_single_flight(steps: list[Step], *, who: str,
                        stale_after: dt.timedelta | None = None,
                        heartbeat_every: float | None = None) -> RetrainJob:
    """Train ``steps`` (``[(family, train), ...]``, one after the other, each single-flight)
    in a background thread of this process; returns the :class:`RetrainJob` at once.

    The first step's lock and run are taken here, in the caller's thread, so a live retrain
    elsewhere or a store fault is raised to the caller before any thread starts; later
    steps are taken in the job (a refusal then ends the job with ``error`` set).

    Raises:
        TrainingInProgressError, sqlalchemy.exc.SQLAlchemyError: as :func:`begin_run`, for
            the first step.
    """
    if not steps:
        raise ValueError("nothing to train")
    first_family = steps[0][0]
    holder, run_id = begin_run(first_family, who=who, stale_after=stale_after)
    job = RetrainJob(uuid.uuid4().hex, [f for f, _ in steps], who, run_ids=[run_id])
    n = len(steps)

    def body() -> None:
        try:
            for i, (family, train) in enumerate(steps):
                def sub(frac: float, msg: str, _i=i, _family=family) -> None:
                    frac = max(0.0, min(1.0, float(frac)))
                    job.report((_i + frac) / n, f"{_family}: {msg}" if n > 1 else msg)

                if i == 0:
                    h, rid = holder, run_id
                else:
                    try:
                        h, rid = begin_run(family, who=who, stale_after=stale_after)
                    except Exception as err:  # refused or store fault: reported on the job
                        job.error = f"{family}: {err}"
                        return
                    job.run_ids.append(rid)
                job.report(i / n, f"{family}: training" if n > 1 else "training")
                job.runs.append(finish_run(family, train, h, rid, who=who, progress=sub,
                                           heartbeat_every=heartbeat_every))
            job.report(1.0, "done")
        except Exception as err:  # a store fault while recording: the lease frees the lock
            log.exception("retrain job %s failed", job.id)
            job.error = f"{type(err).__name__}: {err}"
        finally:
            job.finished_at = utcnow()
            job._done.set()

    job._thread = threading.Thread(target=body, name=f"retrain-{first_family}-{job.id[:6]}",
                                   daemon=True)
    _keep(job)
    try:
        job._thread.start()
    except BaseException:
        finish_run(first_family, _not_started, holder, run_id, who=who)
        job._done.set()
        raise
    return job


def _not_started(progress=None):
    raise RuntimeError("the retrain thread could not be started")


@atexit.register
def _fail_unfinished_jobs() -> None:
    """At a normal interpreter exit (the server stopped) daemon job threads are about to
    vanish: mark their runs FAILED ("process stopped", audited) and free the lock now
    rather than when the lease runs out."""
    for job in jobs(running_only=True):
        for rid, family in zip(job.run_ids, job.families):
            try:
                _record_failure(rid, family, job.who, "interrupted (process stopped)")
            except Exception as err:  # the lease frees the lock within a minute
                log.warning("Could not record the end of run %s: %s", rid, err)
        try:
            with session_scope() as s:
                held = current_lock(TRAINING_LOCK, session=s)
                if held is not None and held.run_id in job.run_ids:
                    release_lock(TRAINING_LOCK, held.holder, session=s)
        except Exception as err:
            log.warning("Could not release the training lock at exit: %s", err)


def training_runs(*, session, family: str | None = None, limit: int = 50) -> list:
    """Recent training runs, newest first."""
    stmt = select(TrainingRun).order_by(TrainingRun.started_at.desc(), TrainingRun.id.desc())
    if family:
        stmt = stmt.where(TrainingRun.family == family)
    return list(session.exec(stmt.limit(limit)).all())
