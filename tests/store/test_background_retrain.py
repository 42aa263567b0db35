"""Issue 17, retrains outside the Streamlit script thread: the Admin page starts a retrain
as a background job of the server (:func:`core.training.start_training`, registered in the
store by :mod:`core.store.runs`) and only watches it. Closing the tab (AppTest stops the
script when a run times out, as Streamlit does for a closed session) leaves the job running;
it ends COMPLETED or FAILED with its audit entry. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core import registry, training
from core.config import get_settings
from core.errors import TrainingInProgressError
from core.store.db import session_scope
from core.store.tables import AuditLog, Lock, TrainingRun
from tests.pg import both_backends

pytestmark = both_backends

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gated(tmp_path, monkeypatch):
    """Family ``tiny`` whose trainer reports progress, then waits for ``release``; it fails
    when ``fail`` is set."""
    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    started, release, fail = threading.Event(), threading.Event(), threading.Event()

    def tiny(progress=None):
        started.set()
        if progress:
            progress(0.4, "fitting")
        assert release.wait(30)
        if fail.is_set():
            raise ValueError("no data for tiny")
        return registry.save_artifact("tiny", {"w.json": b"{}"}, {"metrics": {"mae": 1.0}})

    monkeypatch.setattr(training, "FAMILIES", {"tiny": tiny})
    return started, release, fail


def _wait_run_ended(timeout: float = 30) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as s:
            run = s.exec(select(TrainingRun)).one()
            if run.status != "TRAINING":
                return run
        assert time.monotonic() < deadline, "the run never ended"
        time.sleep(0.05)


def _actions() -> list[tuple[str, str]]:
    with session_scope() as s:
        return [(a.who, a.action) for a in s.exec(select(AuditLog).order_by(AuditLog.id))]


@pytest.mark.parametrize("outcome", ["COMPLETED", "FAILED"])
def test_admin_retrain_outlives_a_closed_tab(gated, outcome):
    started, release, fail = gated
    at = AppTest.from_file(str(ROOT / "views" / "admin.py"), default_timeout=60)
    at.session_state["admin_user"] = "alice"
    at.run()
    assert not at.exception
    # The tab closes while the retrain runs: the script is stopped at its next update.
    with pytest.raises(RuntimeError, match="timed out"):
        at.button(key="adm_retrain").click().run(timeout=2)
    assert started.is_set()
    del at
    with session_scope() as s:  # still running, in the server's job, lease held
        assert s.exec(select(TrainingRun)).one().status == "TRAINING"
        assert s.exec(select(Lock)).one().detail == "tiny"
    (job,) = training.jobs(running_only=True)
    assert job.families == ["tiny"] and job.progress == pytest.approx(0.4)
    if outcome == "FAILED":
        fail.set()
    release.set()
    run = _wait_run_ended()
    assert job.wait(10)
    assert run.status == outcome and run.who == "alice" and run.finished_at is not None
    ended = "train_complete" if outcome == "COMPLETED" else "train_failed"
    assert [a for a in _actions() if a[1] != "register"] == [("alice", "train_start"),
                                                             ("alice", ended)]
    if outcome == "FAILED":
        assert "no data for tiny" in run.error
    with session_scope() as s:
        assert s.exec(select(Lock)).all() == []  # the lease is released


def test_admin_retrain_watched_to_the_end(gated):
    """A tab that stays open sees the progress and the result, as before."""
    _, release, _ = gated
    release.set()
    at = AppTest.from_file(str(ROOT / "views" / "admin.py"), default_timeout=60)
    at.session_state["admin_user"] = "alice"
    at.run()
    at.button(key="adm_retrain").click().run()
    assert not at.exception
    assert any("new candidate version" in s.value for s in at.success)
    assert _wait_run_ended().status == "COMPLETED"


def test_job_api_refuses_a_second_retrain_at_once(gated):
    """The job API: the lock and the TRAINING run exist when start_training returns, so a
    second start is refused there, in the caller (not later in a thread)."""
    _, release, _ = gated
    job = training.start_training("tiny", who="api:bot")
    with session_scope() as s:
        assert s.exec(select(TrainingRun)).one().status == "TRAINING"
    with pytest.raises(TrainingInProgressError, match="started by api:bot"):
        training.start_training("tiny", who="alice")
    release.set()
    assert job.wait(30) and job.error is None
    (run,) = job.runs
    assert run.status == "COMPLETED" and job.progress == 1.0
    assert training.get_job(job.id) is job
