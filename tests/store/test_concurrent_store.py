"""Several processes on one store: the same predictions logged by two processes at once are
stored once and neither errors; one retrain lock however many contend for it; two processes
migrating one new PostgreSQL database at once. On SQLite and PostgreSQL (tests/pg.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from core.config import get_settings
from core.store import AuditLog, PredictionRow, TrainingRun, session_scope
from core.store.db import init_db, resolve_url
from core.store.ops import acquire_lock
from core.store.tables import STORE_TABLES, Lock
from tests.pg import both_backends

ROOT = Path(__file__).resolve().parents[2]
N_PREDICTIONS = 400

# A child process: builds the test's predictions, opens the store (engine, migrations), says
# "ready", waits for "go" on stdin so both children write at the same moment, then logs its
# slice of the predictions in one transaction and prints how many rows it inserted.
LOGGER = """
import json, sys
import pandas as pd
from core.predictions import Prediction
from core.store import log_predictions, session_scope
import core.store.predictions
import sqlalchemy as sa

core.store.predictions.INSERT_CHUNK = 5  # many statements: the two transactions overlap longer

start, stop, reverse = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "reverse"
t0 = pd.Timestamp("2020-01-01", tz="UTC")
preds = [Prediction("forecast", "v1", f"S{i % 20}", "1d", "log_return", 1 + i // 200,
                    t0 + pd.Timedelta(days=i % 10 + 10 * ((i // 20) % 10)), 0.001 * i)
         for i in range(start, stop)]
if reverse:
    preds.reverse()
with session_scope() as s:
    s.execute(sa.text("SELECT 1"))
print("ready", flush=True)
sys.stdin.readline()
with session_scope() as s:
    n = log_predictions(preds, session=s)
print(json.dumps({"inserted": n}), flush=True)
"""


def _child_env() -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=get_settings().db_url, QUANTDESK_DATA_DIR=str(get_settings().data_dir),
               PYTHONPATH=str(ROOT))
    return env


def _start_together(argvs: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Start one child per argv, wait until every child is ready, release them at once."""
    procs = [subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=_child_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for argv in argvs]
    try:
        for p in procs:
            line = p.stdout.readline()
            if line.strip() != "ready":  # it failed before the start line: show why
                p.kill()
                pytest.fail(f"child not ready ({line!r}): {p.communicate()[1][-3000:]}")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        out = []
        for p, argv in zip(procs, argvs):
            stdout, stderr = p.communicate(timeout=120)
            out.append(subprocess.CompletedProcess(argv, p.returncode, stdout, stderr))
        return out
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


@both_backends
def test_two_processes_log_the_same_predictions_once():
    """Overlapping batches (200 keys in both), in opposite orders, logged at the same moment
    by two processes: every key is stored once, each counted by exactly one process."""
    with session_scope() as s:  # the schema exists before the children start
        s.execute(sa.text("SELECT 1"))
    done = _start_together([["-c", LOGGER, "0", "300", "forward"],
                            ["-c", LOGGER, "100", str(N_PREDICTIONS), "reverse"]])
    for r in done:
        assert r.returncode == 0, r.stderr
    inserted = [json.loads(r.stdout.strip().splitlines()[-1])["inserted"] for r in done]
    assert sum(inserted) == N_PREDICTIONS, inserted
    with session_scope() as s:
        rows = s.exec(select(PredictionRow)).all()
    assert len(rows) == N_PREDICTIONS
    assert len({(r.symbol, r.horizon, r.origin_ts) for r in rows}) == N_PREDICTIONS
    assert all(r.origin_ts.tzinfo is not None for r in rows)


@both_backends
def test_one_contender_takes_the_retrain_lock_and_the_dead_lease_is_failed_once():
    """Four processes' worth of contenders (own engine and connection each) race for the
    training lock held by a dead holder: exactly one gets it, none errors, and the orphaned
    run is marked FAILED with one audit entry."""
    beat = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=90)
    with session_scope() as s:
        run = TrainingRun(family="fake", who="ghost", started_at=beat)
        s.add(run)
        s.flush()
        s.add(Lock(name="training", holder="ghost#1", detail="fake", acquired_at=beat,
                   heartbeat_at=beat, host="other-host", pid=4242, run_id=run.id))
        run_id = run.id
    url = resolve_url(get_settings().db_url)
    engines = [sa.create_engine(url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    results: dict[int, object] = {}

    def contend(i: int) -> None:
        try:
            with Session(engines[i], expire_on_commit=False) as s:
                barrier.wait(10)
                results[i] = acquire_lock("training", f"c{i}#x", "fake", session=s)
        except Exception as err:  # noqa: BLE001 - reported below: no contender may fail
            results[i] = err

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for e in engines:
        e.dispose()
    errors = [r for r in results.values() if isinstance(r, Exception)]
    assert not errors, errors
    winners = [r for r in results.values() if r is not None]
    assert len(results) == 4 and len(winners) == 1, results
    with session_scope() as s:
        assert s.exec(select(Lock)).one().holder == winners[0].holder
        orphan = s.get(TrainingRun, run_id)
        assert orphan.status == "FAILED" and "holder died" in orphan.error
        failed = s.exec(select(AuditLog).where(AuditLog.action == "train_failed")).all()
    assert len(failed) == 1 and failed[0].detail["run"] == run_id


MIGRATOR = """
import sqlalchemy as sa, sys
from core.store.db import init_db, resolve_url
engine = sa.create_engine(sys.argv[1])
with engine.connect() as c:
    c.execute(sa.text("SELECT 1"))
print("ready", flush=True)
sys.stdin.readline()
init_db(engine)
print("migrated", flush=True)
"""


@pytest.mark.postgresql
def test_two_processes_migrate_one_new_postgresql_database_at_once(pg_empty_url):
    """Two replicas started together on an empty database: one migrates, the other waits
    for it (an advisory lock) and finds the schema at head; neither fails."""
    done = _start_together([["-c", MIGRATOR, pg_empty_url], ["-c", MIGRATOR, pg_empty_url]])
    for r in done:
        assert r.returncode == 0 and "migrated" in r.stdout, r.stderr
    engine = sa.create_engine(resolve_url(pg_empty_url))
    try:
        assert set(STORE_TABLES) <= set(sa.inspect(engine).get_table_names())
        init_db(engine)  # and again: a no-op
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()
