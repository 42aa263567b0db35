"""Issue 17, several processes on one store, with real separate processes (``subprocess``),
on SQLite and PostgreSQL (tests/pg.py):

* a promote, rollback, disable or enable made in one process (an admin process, and the
  ``quantdesk`` CLI) is what a long-running serving process loads next, without a restart;
* one retrain at a time across processes: two ``quantdesk models retrain`` processes, the
  second refused with a message naming the first, whose lease stays alive through its
  heartbeat well past the lease length;
* a SIGKILLed ``quantdesk models retrain`` followed by a successful retrain: at once on the
  same host (its pid is gone), and through lease expiry (seconds here, via
  ``QUANTDESK_LEASE_SECONDS``) when the holder ran on another host.

(The same predictions logged by two processes at once: tests/store/test_concurrent_store.py.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import registry, training
from core.config import get_settings
from core.errors import TrainingInProgressError
from core.store.db import session_scope
from core.store.ops import LEASE_ENV, current_lock, list_model_versions, sync_models_dir
from core.store.runs import HEARTBEAT_ENV
from core.store.tables import AuditLog, Lock, TrainingRun
from tests.pg import both_backends

pytestmark = both_backends

ROOT = Path(__file__).resolve().parents[2]
QUANTDESK = str(Path(sys.executable).parent / "quantdesk")

# A serving process (a dashboard replica): one load_active("tiny") per line on stdin.
SERVER = """
import json, sys
from core.errors import NotTrainedError
from core.serving import load_active
print("ready", flush=True)
for line in sys.stdin:
    try:
        out = {"version": load_active("tiny").version}
    except NotTrainedError as err:
        out = {"error": str(err)}
    print(json.dumps(out), flush=True)
"""

# An admin process (another replica's Admin page): one registry action per line on stdin.
ADMIN = """
import sys
from core.store.db import session_scope
from core.store import ops
print("ready", flush=True)
for line in sys.stdin:
    action, *rest = line.split()
    with session_scope() as s:
        if action == "promote":
            row = ops.promote("tiny", rest[0], who="replica-2", session=s)
        else:
            row = getattr(ops, action)("tiny", who="replica-2", session=s)
    print(f"{action} {row.version} {row.status}", flush=True)  # after the commit
"""

# `quantdesk models retrain tiny` whose trainer announces itself (a file) and then waits
# for a release file: a retrain that is running for as long as the test wants.
RETRAINER = """
import os, sys, time
from pathlib import Path
from core.cli import app
from core import registry, training

signals = Path(sys.argv[1])

def slow(progress=None):
    (signals / f"started-{os.getpid()}").touch()
    while not (signals / "release").exists():
        time.sleep(0.05)
    return registry.save_artifact("tiny", {"w.json": b"{}"}, {"metrics": {"mae": 1.0}})

training.FAMILIES = {"tiny": slow}
app(["models", "retrain", "tiny", "--who", sys.argv[2]])
"""


@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    """A private models directory (the shared one of every process of the test)."""
    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    return tmp_path / "models"


def _env(**extra: str) -> dict:
    s = get_settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=s.db_url, QUANTDESK_DATA_DIR=str(s.data_dir),
               QUANTDESK_MODELS_DIR=str(registry.models_root()), QUANTDESK_OFFLINE="1",
               PYTHONPATH=str(ROOT), **extra)
    return env


class Child:
    """A long-running child process answering one line per line sent."""

    def __init__(self, code: str, **env: str):
        self.proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=_env(**env),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            pytest.fail(f"child not ready ({line!r}): {self.proc.communicate()[1][-3000:]}")

    def ask(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            pytest.fail(f"child died: {self.proc.communicate()[1][-3000:]}")
        return answer.strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _two_versions() -> list[str]:
    vs = [registry.save_artifact("tiny", {"w.json": b"{}"}, {"metrics": {"mae": 1.0}},
                                 version=f"20260101T000000Z-000{i}").version for i in range(2)]
    with session_scope() as s:
        sync_models_dir(session=s)  # both registered, the newest active
    return vs


def test_registry_actions_in_one_process_are_served_by_another_on_its_next_load(models):
    old, new = _two_versions()
    server, admin = Child(SERVER), Child(ADMIN)
    try:
        def served() -> dict:
            return json.loads(server.ask("load"))

        assert served() == {"version": new}
        cli = subprocess.run([QUANTDESK, "models", "promote", "tiny", old, "--who", "ops"],
                             cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120,
                             check=False)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert served() == {"version": old}  # promoted by the CLI, served by the replica
        assert admin.ask("rollback") == f"rollback {new} active"
        assert served() == {"version": new}
        assert admin.ask("disable") == f"disable {new} disabled"
        got = served()
        assert got.get("error", "").startswith("Model family 'tiny' is disabled"), got
        assert admin.ask("enable") == f"enable {new} active"
        assert served() == {"version": new}
        assert admin.ask(f"promote {old}") == f"promote {old} active"
        assert served() == {"version": old}
    finally:
        server.close()
        admin.close()
    with session_scope() as s:
        acts = [(a.who, a.action) for a in s.exec(select(AuditLog).order_by(AuditLog.id))
                if a.action not in ("register", "activate")]
    assert acts == [("ops", "promote"), ("replica-2", "rollback"), ("replica-2", "disable"),
                    ("replica-2", "enable"), ("replica-2", "promote")]


def _start_retrainer(signals: Path, who: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RETRAINER, str(signals), who], cwd=ROOT,
                            env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _wait_started(proc: subprocess.Popen, signals: Path, timeout: float = 90) -> float:
    deadline = time.monotonic() + timeout
    while not (signals / f"started-{proc.pid}").exists():
        if proc.poll() is not None:
            pytest.fail(f"retrain exited early: {proc.communicate()[1][-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("retrain did not start")
        time.sleep(0.05)
    return time.monotonic()


def test_one_retrain_at_a_time_across_processes(models, tmp_path):
    """Lease 3 s, heartbeat 0.3 s in both processes: the second retrain starts > 3 s after
    the first took the lock and is still refused (the heartbeat keeps the lease); the first
    completes once released; one run in the store."""
    signals = tmp_path / "signals"
    signals.mkdir()
    timings = {LEASE_ENV: "3", HEARTBEAT_ENV: "0.3"}
    first = _start_retrainer(signals, "alice", **timings)
    try:
        t0 = _wait_started(first, signals)
        time.sleep(max(0.0, t0 + 3.5 - time.monotonic()))  # past the lease: only the
        second = _start_retrainer(signals, "bob", **timings)  # heartbeat keeps it alive
        out, err = second.communicate(timeout=120)
        assert second.returncode == 2, out + err
        assert "Traceback" not in out + err
        assert "A retrain of tiny started by alice" in err
        (signals / "release").touch()
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, out + err
        assert "tiny: candidate" in out
    finally:
        (signals / "release").touch()
        for p in (first,):
            if p.poll() is None:
                p.kill()
    with session_scope() as s:
        runs = s.exec(select(TrainingRun)).all()
        assert [(r.who, r.status) for r in runs] == [("alice", "COMPLETED")]
        assert s.exec(select(Lock)).all() == []
        assert [v.status for v in list_model_versions("tiny", session=s)] == ["candidate"]


@pytest.mark.parametrize("holder_host", ["this host", "another host"])
def test_sigkilled_retrain_then_a_successful_one(models, tmp_path, monkeypatch, holder_host):
    """kill -9 of ``quantdesk models retrain`` mid-training, then a retrain here succeeds:
    at once when the dead holder ran on this host (its pid is gone); after the lease (2 s
    here, 60 s by default) when it ran on another host, where its pid cannot be checked.
    Either way the killed run ends FAILED with a ``train_failed`` audit entry."""
    signals = tmp_path / "signals"
    signals.mkdir()
    victim = _start_retrainer(signals, "cron", **{HEARTBEAT_ENV: "0.2"})
    try:
        _wait_started(victim, signals)
        with session_scope() as s:
            held = current_lock(training.TRAINING_LOCK, session=s)
            assert held.pid == victim.pid and held.run_id is not None
            run_id = held.run_id
            assert s.get(TrainingRun, run_id).status == "TRAINING"
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(30)
    finally:
        if victim.poll() is None:
            victim.kill()

    def quick(progress=None):
        return registry.save_artifact("tiny", {"w.json": b"{}"}, {"metrics": {"mae": 1.0}})

    monkeypatch.setattr(training, "FAMILIES", {"tiny": quick})
    if holder_host == "this host":
        t0 = time.monotonic()
        run = training.run_training("tiny", who="alice")
        assert time.monotonic() - t0 < 30
        reason = "is gone"
    else:
        monkeypatch.setenv(LEASE_ENV, "2")
        with session_scope() as s:  # it ran on replica-2 and beat just now
            s.execute(sa.update(Lock).values(host="replica-2", heartbeat_at=dt.datetime.now(
                dt.UTC)))
        with pytest.raises(TrainingInProgressError, match="started by cron on replica-2"):
            training.run_training("tiny", who="alice")
        t0 = time.monotonic()
        while True:
            try:
                run = training.run_training("tiny", who="alice")
                break
            except TrainingInProgressError:
                assert time.monotonic() - t0 < 30, "the dead lease was never reclaimed"
                time.sleep(0.2)
        assert 1.0 < time.monotonic() - t0 < 30
        reason = "no heartbeat"
    assert run.status == "COMPLETED" and run.who == "alice"
    with session_scope() as s:
        killed = s.get(TrainingRun, run_id)
        assert killed.status == "FAILED" and "holder died" in killed.error
        assert reason in killed.error and killed.finished_at is not None
        failed = s.exec(select(AuditLog).where(AuditLog.action == "train_failed")).one()
        assert failed.detail["run"] == run_id and failed.who == "system"
        assert s.exec(select(Lock)).all() == []
