"""Registry operations (the database is the source of truth for which version serves),
the audit log, named locks and metric counters.

Contract for serving code (:func:`core.serving.load_active`):

* a family with an ``active`` row serves that version;
* a family an admin disabled (a ``disabled`` row, no ``active`` row) raises
  :class:`core.errors.NotTrainedError` whose message starts with ``"Model family 'X' is
  disabled"`` - serving code catches it, falls back to its naive baseline and shows a banner;
* a family with rows but none ``active`` (only candidates) serves nothing:
  :class:`core.errors.NotTrainedError` ("promote a version");
* a family with no rows in the store serves the newest version on disk (a fresh clone before
  ``quantdesk init``; see :func:`core.serving.load_active` for the whole rule).

Locks are leases owned by (host, pid) with a heartbeat: see :func:`acquire_lock`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from core import registry
from core.errors import QuantdeskError
from core.store.db import to_utc, utcnow
from core.store.tables import (
    ACTIVE, CANDIDATE, DEPRECATED, DISABLED, FAILED, TRAINING, AuditLog, Lock, MetricSnapshot,
    ModelVersion, TrainingRun,
)


class RegistryOpError(QuantdeskError):
    """A promote/rollback/disable request that cannot be carried out (message says why)."""


# ---------------------------------------------------------------- audit

def audit(who: str, action: str, target: str = "", detail: dict | None = None, *,
          session: Session) -> AuditLog:
    """Append an audit row (who did ``action`` on ``target``, with JSON ``detail``)."""
    row = AuditLog(who=who or "unknown", action=action, target=target, detail=detail or {})
    session.add(row)
    session.flush()
    return row


def audit_log(*, session: Session, limit: int = 200, action: str | None = None) -> list[AuditLog]:
    """Newest audit rows first."""
    stmt = select(AuditLog).order_by(AuditLog.ts.desc(), AuditLog.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    return list(session.exec(stmt).all())


# ---------------------------------------------------------------- metrics

def record_metric(name: str, value: float, *, session: Session, model_name: str | None = None,
                  model_version: str | None = None, horizon: int | None = None,
                  detail: dict | None = None, ts=None) -> MetricSnapshot:
    """Store one measurement/counter (e.g. ``cache_hits`` 1, ``cache_misses`` 1, ``errors`` 1,
    ``requests`` 1, ``latency_ms`` 12.3, ``psi`` 0.05) for the monitoring page."""
    row = MetricSnapshot(name=name, value=float(value), model_name=model_name,
                         model_version=model_version, horizon=horizon, detail=detail or {},
                         ts=to_utc(ts) if ts is not None else utcnow())
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- model versions

def list_model_versions(family: str | None = None, *, session: Session) -> list[ModelVersion]:
    """Registered versions (family, then newest version first)."""
    stmt = select(ModelVersion).order_by(ModelVersion.family, ModelVersion.version.desc())
    if family is not None:
        stmt = stmt.where(ModelVersion.family == family)
    return list(session.exec(stmt).all())


def _get(family: str, version: str, *, session: Session) -> ModelVersion:
    row = session.exec(select(ModelVersion).where(ModelVersion.family == family,
                                                  ModelVersion.version == version)).first()
    if row is None:
        raise RegistryOpError(f"No registered version {family}/{version}. Run "
                              "`quantdesk init` (or sync) after training.")
    return row


def _by_status(family: str, status: str, *, session: Session) -> list[ModelVersion]:
    return list(session.exec(select(ModelVersion).where(
        ModelVersion.family == family, ModelVersion.status == status)).all())


def serving_row(family: str, *, session: Session) -> tuple[str | None, bool]:
    """``(active version or None, disabled)`` for ``family`` per the store, in one query:
    the newest deployed active version serves; with none active, a disabled row means an
    admin disabled the family."""
    rows = list(session.exec(select(ModelVersion).where(
        ModelVersion.family == family, ModelVersion.status.in_((ACTIVE, DISABLED)))).all())
    active = [r for r in rows if r.status == ACTIVE]
    if active:
        return max(active, key=lambda r: (r.deployed_at or r.created_at, r.version)).version, False
    return None, bool(rows)


def active_version(family: str, *, session: Session) -> str | None:
    """The version that serves ``family`` per the store, or None (none active/disabled)."""
    return serving_row(family, session=session)[0]


def is_disabled(family: str, *, session: Session) -> bool:
    """True when an admin disabled ``family`` (no active version, a disabled one)."""
    return serving_row(family, session=session)[1]


def family_registered(family: str, *, session: Session) -> bool:
    """True when the store has any version row of ``family`` (whatever its status)."""
    return session.exec(select(ModelVersion.id).where(ModelVersion.family == family)
                        ).first() is not None


def register_version(family: str, version: str, *, session: Session,
                     models_dir: Path | None = None, status: str = CANDIDATE,
                     who: str = "system") -> ModelVersion:
    """Register an on-disk version (idempotent: an existing row is returned unchanged).

    Reads ``metadata.json`` for kind, metrics and created_at; sha256 is the digest of
    metadata.json (which itself lists the sha256 of every file).
    """
    existing = session.exec(select(ModelVersion).where(
        ModelVersion.family == family, ModelVersion.version == version)).first()
    if existing is not None:
        return existing
    meta = registry.read_metadata(family, version, models_dir=models_dir)
    path = registry.models_root(models_dir) / family / version
    digest = hashlib.sha256((path / "metadata.json").read_bytes()).hexdigest()
    created = meta.get("created_at")
    row = ModelVersion(
        family=family, version=version, kind=meta.get("kind"), status=status,
        metrics=meta.get("metrics") or {}, artifact_path=str(path), sha256=digest,
        created_at=to_utc(created) if created else utcnow(),
    )
    session.add(row)
    session.flush()
    audit(who, "register", f"{family}/{version}", {"status": status}, session=session)
    return row


def _families_on_disk(models_dir: Path | None) -> list[str]:
    root = registry.models_root(models_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def sync_models_dir(*, session: Session, models_dir: Path | None = None,
                    who: str = "system") -> dict[str, list[str]]:
    """Register every on-disk version as candidate; activate the newest version of each
    family that has no active version and is not disabled.

    Returns:
        ``{"registered": ["family/version", ...], "activated": [...]}``.
    """
    out: dict[str, list[str]] = {"registered": [], "activated": []}
    for family in _families_on_disk(models_dir):
        versions = registry.list_versions(family, models_dir=models_dir)
        for v in versions:
            before = session.exec(select(ModelVersion.id).where(
                ModelVersion.family == family, ModelVersion.version == v)).first()
            if before is None:
                register_version(family, v, session=session, models_dir=models_dir, who=who)
                out["registered"].append(f"{family}/{v}")
        if versions and active_version(family, session=session) is None \
                and not is_disabled(family, session=session):
            _activate(_get(family, versions[-1], session=session), session=session)
            audit(who, "activate", f"{family}/{versions[-1]}", {"reason": "newest on disk, none active"},
                  session=session)
            out["activated"].append(f"{family}/{versions[-1]}")
    session.flush()
    return out


def _activate(row: ModelVersion, *, session: Session) -> None:
    row.status = ACTIVE
    row.deployed_at = utcnow()
    session.add(row)
    session.flush()


def promote(family: str, version: str, *, who: str, session: Session) -> ModelVersion:
    """Make ``version`` the active one; the previously active version returns to
    ``candidate`` (so :func:`rollback` can go back to it). Promoting a disabled family's
    version re-enables the family with that version.

    Raises:
        RegistryOpError: unknown version, or it is already active.
    """
    row = _get(family, version, session=session)
    if row.status == ACTIVE:
        raise RegistryOpError(f"{family}/{version} is already active.")
    previous = [r.version for r in _by_status(family, ACTIVE, session=session)]
    for r in _by_status(family, ACTIVE, session=session) + _by_status(family, DISABLED, session=session):
        r.status = CANDIDATE
        session.add(r)
    _activate(row, session=session)
    audit(who, "promote", f"{family}/{version}", {"previous": previous}, session=session)
    return row


def rollback(family: str, *, who: str, session: Session) -> ModelVersion:
    """Re-activate the previously active version; the current one becomes ``deprecated``.

    The previous version is the most recently deployed ``candidate`` (a version that was
    active before and was not itself rolled back from).

    Raises:
        RegistryOpError: no active version, or no earlier deployed version to return to.
    """
    current = _by_status(family, ACTIVE, session=session)
    if not current:
        raise RegistryOpError(f"Model family '{family}' has no active version to roll back.")
    prev = session.exec(select(ModelVersion).where(
        ModelVersion.family == family, ModelVersion.status == CANDIDATE,
        ModelVersion.deployed_at.is_not(None)).order_by(
        ModelVersion.deployed_at.desc(), ModelVersion.id.desc())).first()
    if prev is None:
        raise RegistryOpError(f"Model family '{family}' has no previously deployed version "
                              "to roll back to; promote a candidate instead.")
    for r in current:
        r.status = DEPRECATED
        session.add(r)
    _activate(prev, session=session)
    audit(who, "rollback", f"{family}/{prev.version}",
          {"from": [r.version for r in current]}, session=session)
    return prev


def disable(family: str, *, who: str, session: Session) -> ModelVersion:
    """Switch a family off: its active version becomes ``disabled``; serving code gets
    NotTrainedError from ``load_active`` and falls back to the naive baseline.

    Raises:
        RegistryOpError: nothing active (already disabled or never registered).
    """
    current = _by_status(family, ACTIVE, session=session)
    if not current:
        state = "already disabled" if is_disabled(family, session=session) else "not registered"
        raise RegistryOpError(f"Model family '{family}' is {state}; nothing to disable.")
    for r in current:
        r.status = DISABLED
        session.add(r)
    session.flush()
    audit(who, "disable", family, {"versions": [r.version for r in current]}, session=session)
    return current[0]


def enable(family: str, *, who: str, session: Session) -> ModelVersion:
    """Undo :func:`disable`: the disabled version serves again.

    Raises:
        RegistryOpError: the family is not disabled.
    """
    rows = _by_status(family, DISABLED, session=session)
    if not rows or _by_status(family, ACTIVE, session=session):
        raise RegistryOpError(f"Model family '{family}' is not disabled.")
    row = max(rows, key=lambda r: (r.deployed_at or r.created_at, r.id))
    for r in rows:
        if r is not row:
            r.status = CANDIDATE
            session.add(r)
    row.status = ACTIVE
    session.add(row)
    session.flush()
    audit(who, "enable", f"{family}/{row.version}", {}, session=session)
    return row


# ---------------------------------------------------------------- locks

#: A lease whose heartbeat (or, without one, its acquisition) is older than this is dead.
LEASE = dt.timedelta(seconds=60)
#: Kept for callers that name it: locks are leases now, reclaimed after :data:`LEASE`.
STALE_LOCK_AFTER = LEASE
#: Environment variable overriding :data:`LEASE` in seconds (tests: a lease of 2 s).
LEASE_ENV = "QUANTDESK_LEASE_SECONDS"


def lease_duration() -> dt.timedelta:
    """The lease of a lock: ``QUANTDESK_LEASE_SECONDS`` when set to a positive number (read
    at each call, so a test or an operator can shorten it), else :data:`LEASE` (60 s). Every
    process sharing a store should use the same value."""
    raw = os.environ.get(LEASE_ENV, "").strip()
    try:
        secs = float(raw) if raw else 0.0
    except ValueError:
        secs = 0.0
    return dt.timedelta(seconds=secs) if secs > 0 else LEASE


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists on this host (``os.kill(pid, 0)``; a process owned
    by another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # e.g. an invalid pid value
        return False
    return True


def lease_dead(row: Lock, *, now: dt.datetime | None = None,
               lease: dt.timedelta | None = None) -> str | None:
    """Why the lease ``row`` is dead, or None while its holder lives.

    Dead: the holder ran on this host and its pid is gone, or its last heartbeat (its
    acquisition time when it never beat) is older than ``lease`` (default
    :func:`lease_duration`)."""
    now = now or utcnow()
    lease = lease or lease_duration()
    if row.host and row.host == socket.gethostname() and row.pid and not pid_alive(row.pid):
        return f"holder died (pid {row.pid} on {row.host} is gone)"
    last = to_utc(row.heartbeat_at or row.acquired_at)
    if last is not None and now - last > lease:
        return (f"holder died (no heartbeat from {row.host or 'an unknown host'}"
                f"{f' pid {row.pid}' if row.pid else ''} for {(now - last).total_seconds():.0f} s)")
    return None


def _end_lock(row: Lock, reason: str, who: str, action: str, *, session: Session) -> bool:
    """Delete ``row`` if it is still the same holder's; mark its training run FAILED with
    ``reason`` and audit ``action``. Returns whether this call removed it. Commits."""
    res = session.exec(sa.delete(Lock).where(Lock.name == row.name, Lock.holder == row.holder))
    if not res.rowcount:
        session.rollback()
        return False
    run = session.get(TrainingRun, row.run_id) if row.run_id is not None else None
    if run is not None and run.status == TRAINING:
        run.status, run.finished_at, run.error = FAILED, utcnow(), reason
        session.add(run)
    audit(who, action, row.detail or row.name,
          {"lock": row.name, "holder": row.holder, "host": row.host, "pid": row.pid,
           "run": row.run_id, "reason": reason}, session=session)
    session.commit()
    return True


def acquire_lock(name: str, holder: str, detail: str = "", *, session: Session,
                 stale_after: dt.timedelta | None = None, host: str | None = None,
                 pid: int | None = None) -> Lock | None:
    """Take the named lock as a lease owned by (``host``, ``pid``), default this process;
    returns the new row, or None when a live holder has it.

    A dead holder's lease (:func:`lease_dead` with ``lease=stale_after``, default
    :func:`lease_duration`) is reclaimed first:
    its training run (``run_id``) is marked ``FAILED`` ("holder died ...") and a
    ``train_failed`` audit entry is written. Atomic on SQLite and PostgreSQL (primary-key
    insert; delete conditional on the dead holder). Commits.
    """
    held = current_lock(name, session=session)
    if held is not None:
        reason = lease_dead(held, lease=stale_after)
        if reason is None:
            return None  # a live holder
        _end_lock(held, reason, "system", "train_failed", session=session)
        session.expunge(held)
    now = utcnow()
    row = Lock(name=name, holder=holder, detail=detail, acquired_at=now, heartbeat_at=now,
               host=socket.gethostname() if host is None else host,
               pid=os.getpid() if pid is None else pid)
    session.add(row)
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        return None
    return row


def heartbeat(name: str, holder: str, *, session: Session) -> bool:
    """Refresh ``holder``'s lease on ``name``; False when it no longer holds it. Commits."""
    res = session.exec(sa.update(Lock).where(Lock.name == name, Lock.holder == holder)
                       .values(heartbeat_at=utcnow()))
    session.commit()
    return bool(res.rowcount)


def attach_run(name: str, holder: str, run_id: int, *, session: Session) -> None:
    """Record on ``holder``'s lock which training run it guards (flushes, no commit)."""
    session.exec(sa.update(Lock).where(Lock.name == name, Lock.holder == holder)
                 .values(run_id=run_id))
    session.flush()


def current_lock(name: str, *, session: Session) -> Lock | None:
    """The row holding ``name`` now, if any."""
    return session.get(Lock, name, populate_existing=True)


def release_lock(name: str, holder: str, *, session: Session) -> bool:
    """Release ``name`` if ``holder`` holds it (True when a row was deleted). Commits."""
    res = session.exec(sa.delete(Lock).where(Lock.name == name, Lock.holder == holder))
    session.commit()
    return bool(res.rowcount)


def break_lock(name: str, *, who: str, session: Session) -> Lock | None:
    """An admin clears a stuck lock ``name`` (``quantdesk admin unlock``): the row is deleted,
    its training run marked ``FAILED`` ("unlocked by WHO") and an ``unlock`` audit entry
    written. Returns the removed row, or None when nothing held ``name``. Commits.

    Use it only for a holder you know is gone: a live holder keeps training, and a second
    retrain may then start beside it."""
    held = current_lock(name, session=session)
    if held is None:
        return None
    info = Lock(**held.model_dump())
    reason = f"unlocked by {who} (holder {held.holder} on {held.host or '?'} pid {held.pid})"
    return info if _end_lock(held, reason, who, "unlock", session=session) else None
