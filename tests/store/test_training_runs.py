import datetime as dt
import threading
import time

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from core import registry, training
from core.cli import app  # before fake_family patches FAMILIES (core.cli reads them)
from core.errors import TrainingInProgressError
from core.store import AuditLog, Lock, ModelVersion, TrainingRun, session_scope
from core.store.ops import current_lock
from core.store.runs import run_single_flight
from tests.pg import both_backends

pytestmark = both_backends


@pytest.fixture
def fake_family(tmp_path, monkeypatch):
    """A fake family whose trainer waits for ``release`` (slow on purpose)."""
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    started, release = threading.Event(), threading.Event()

    def slow_train(progress=None):
        started.set()
        if progress:
            progress(0.5, "halfway")
        assert release.wait(10)
        return registry.save_artifact("fake", {"w.json": b"{}"}, {"metrics": {"mae": 1.0}})

    def broken_train(progress=None):
        raise ValueError("no data for this family")

    monkeypatch.setitem(training.FAMILIES, "fake", slow_train)
    monkeypatch.setitem(training.FAMILIES, "broken", broken_train)
    return started, release


def test_concurrent_retrain_refused(fake_family):
    started, release = fake_family
    result = {}
    t = threading.Thread(target=lambda: result.setdefault(
        "run", training.run_training("fake", who="alice")))
    t.start()
    assert started.wait(10)
    with pytest.raises(TrainingInProgressError, match=r"A retrain of fake started by alice on .* at .* is running"):
        training.run_training("fake", who="bob")
    release.set()
    t.join(10)
    run = result["run"]
    assert run.status == "COMPLETED" and run.version and run.who == "alice"
    with session_scope() as s:
        assert s.exec(select(Lock)).all() == []  # released
        mv = s.exec(select(ModelVersion).where(ModelVersion.version == run.version)).one()
        assert mv.status == "candidate"  # promotion is a separate step
        runs = s.exec(select(TrainingRun)).all()
        assert [r.who for r in runs] == ["alice"]  # bob's attempt never started a run
        actions = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["train_start", "register", "train_complete"]
    # the lock is free again: a second run proceeds
    release.set()
    assert training.run_training("fake", who="bob").status == "COMPLETED"


def test_failed_run_recorded_and_lock_released(fake_family):
    run = training.run_training("broken", who="alice")
    assert run.status == "FAILED" and "no data for this family" in run.error
    assert run.finished_at.tzinfo is not None
    with session_scope() as s:
        assert s.exec(select(Lock)).all() == []
        assert training.training_runs(session=s)[0].status == "FAILED"


def _orphan(holder: str, *, host: str, pid: int | None, beat_age: dt.timedelta) -> int:
    """A lock + TRAINING run as a killed retrain leaves them (kill -9: no cleanup)."""
    beat = dt.datetime.now(dt.UTC) - beat_age
    with session_scope() as s:
        run = TrainingRun(family="fake", who=holder.split("#")[0], started_at=beat)
        s.add(run)
        s.flush()
        s.add(Lock(name=training.TRAINING_LOCK, holder=holder, detail="fake", acquired_at=beat,
                   heartbeat_at=beat, host=host, pid=pid, run_id=run.id))
        return run.id


def _dead_pid() -> int:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid  # reaped: no process has this pid now (pids are not reused at once)


def test_lease_without_heartbeat_reclaimed_and_orphan_run_failed(fake_family):
    """A holder on another host that stopped beating > 60 s ago is dead; one that beat 10 s
    ago is alive and refuses the retrain."""
    started, release = fake_family
    release.set()
    run_id = _orphan("ghost#1", host="other-host", pid=4242, beat_age=dt.timedelta(seconds=90))
    assert training.run_training("fake", who="alice").status == "COMPLETED"
    with session_scope() as s:
        orphan = s.get(TrainingRun, run_id)
        assert orphan.status == "FAILED" and "holder died" in orphan.error
        assert "no heartbeat" in orphan.error and orphan.finished_at is not None
        failed = s.exec(select(AuditLog).where(AuditLog.action == "train_failed")).one()
        assert failed.who == "system" and failed.detail["run"] == run_id
        assert "holder died" in failed.detail["reason"]
    _orphan("ghost#2", host="other-host", pid=4242, beat_age=dt.timedelta(seconds=10))
    with pytest.raises(TrainingInProgressError, match="started by ghost on other-host"):
        training.run_training("fake", who="alice")


def test_dead_pid_on_this_host_reclaimed_at_once(fake_family):
    """kill -9 of a retrain on this host: its pid is gone, so its fresh lease is dead now
    (no waiting for the 60 s lease), and the next retrain succeeds."""
    import socket

    started, release = fake_family
    release.set()
    run_id = _orphan("cli#dead", host=socket.gethostname(), pid=_dead_pid(),
                     beat_age=dt.timedelta(seconds=1))
    run = training.run_training("fake", who="bob")
    assert run.status == "COMPLETED"
    with session_scope() as s:
        orphan = s.get(TrainingRun, run_id)
        assert orphan.status == "FAILED" and "pid" in orphan.error and "is gone" in orphan.error
        assert s.exec(select(Lock)).all() == []


def test_live_holder_on_this_host_not_reclaimed(fake_family):
    import os
    import socket

    _orphan("carol#1", host=socket.gethostname(), pid=os.getpid(),
            beat_age=dt.timedelta(seconds=5))
    with pytest.raises(TrainingInProgressError, match="started by carol"):
        training.run_training("fake", who="bob")


def test_heartbeat_keeps_the_lease_fresh(fake_family, monkeypatch):
    """While the trainer runs, the daemon thread moves heartbeat_at forward."""
    started, release = fake_family
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("run", run_single_flight(
        "fake", training.trainer("fake"), who="alice", heartbeat_every=0.05)))
    t.start()
    assert started.wait(10)
    with session_scope() as s:
        first = current_lock(training.TRAINING_LOCK, session=s).heartbeat_at
        assert current_lock(training.TRAINING_LOCK, session=s).run_id is not None
    deadline = time.monotonic() + 5
    later = first
    while later == first and time.monotonic() < deadline:
        time.sleep(0.05)
        with session_scope() as s:
            later = current_lock(training.TRAINING_LOCK, session=s).heartbeat_at
    assert later > first
    release.set()
    t.join(10)
    assert result["run"].status == "COMPLETED"


def test_admin_unlock_cli_clears_stuck_lock_with_audit(fake_family):
    started, release = fake_family
    release.set()
    run_id = _orphan("ghost#9", host="other-host", pid=1, beat_age=dt.timedelta(seconds=5))
    r = CliRunner().invoke(app, ["admin", "unlock", "fake", "--who", "root"])
    assert r.exit_code == 0, r.output
    assert "unlocked training (fake) held by ghost" in r.output
    assert f"training run {run_id} marked FAILED" in r.output
    with session_scope() as s:
        assert s.exec(select(Lock)).all() == []
        assert s.get(TrainingRun, run_id).status == "FAILED"
        entry = s.exec(select(AuditLog).where(AuditLog.action == "unlock")).one()
        assert entry.who == "root" and entry.detail["holder"] == "ghost#9"
    r = CliRunner().invoke(app, ["admin", "unlock"])
    assert r.exit_code == 0 and "nothing to unlock" in r.output
    assert training.run_training("fake", who="alice").status == "COMPLETED"


def test_unknown_family_message():
    from core.errors import QuantdeskError

    with pytest.raises(QuantdeskError, match="Unknown model family"):
        training.run_training("nope", who="a")


def test_interrupted_trainer_marks_run_failed_and_frees_lock(fake_family):
    """Ctrl-C (or a stopped Streamlit script) inside the trainer: the run is FAILED, audited,
    the lock released, and the interruption propagates."""
    def interrupted(progress=None):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_single_flight("fake", interrupted, who="alice")
    with session_scope() as s:
        run = s.exec(select(TrainingRun)).one()
        assert run.status == "FAILED" and run.error == "interrupted (KeyboardInterrupt)"
        assert s.exec(select(Lock)).all() == []
        assert [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id))] == [
            "train_start", "train_failed"]
