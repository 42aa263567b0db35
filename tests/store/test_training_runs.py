import datetime as dt
import threading

import pytest
from sqlmodel import select

from core import registry, training
from core.errors import TrainingInProgressError
from core.store import AuditLog, Lock, ModelVersion, TrainingRun, session_scope


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
    with pytest.raises(TrainingInProgressError, match=r"A retrain of fake started by alice at .* is running"):
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


def test_stale_lock_reclaimed(fake_family):
    started, release = fake_family
    release.set()
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    with session_scope() as s:
        s.add(Lock(name=training.TRAINING_LOCK, holder="ghost#1", detail="fake", acquired_at=old))
    assert training.run_training("fake", who="alice").status == "COMPLETED"
    fresh = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    with session_scope() as s:
        s.add(Lock(name=training.TRAINING_LOCK, holder="ghost#2", detail="fake", acquired_at=fresh))
    with pytest.raises(TrainingInProgressError, match="started by ghost"):
        training.run_training("fake", who="alice")


def test_unknown_family_message():
    from core.errors import QuantdeskError

    with pytest.raises(QuantdeskError, match="Unknown model family"):
        training.run_training("nope", who="a")
