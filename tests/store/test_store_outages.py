"""Issue 17, the store going away under a running process:

* PostgreSQL restarted under a refreshing panel (``pg_ctl stop`` / ``start`` of the test
  server): the loop never raises, says "database unavailable, retrying", and every
  prediction made meanwhile is logged once the database is back (the bounded retry queue of
  :mod:`core.store.predictions`);
* the retry queue is bounded: what does not fit is reported as not logged, never silently
  dropped; the same prediction re-logged on every refresh takes one place;
* the SQLite file deleted while the process runs: a plain message, nothing written into the
  unlinked file, serving from process memory with a banner; once the CLI (another process)
  creates a new store, the running process reads that one too: both agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import select
from typer.testing import CliRunner

from core import registry
from core.config import get_settings
from core.predictions import Prediction
from core.serving import load_active, store_notice
from core.store.db import DatabaseFileDeleted, session_scope, store_error_message
from core.store.ops import list_model_versions, sync_models_dir
from core.store.predictions import PredictionQueue, log_or_queue
from core.store.tables import PredictionRow
from tests.pg import postgresql_only

ROOT = Path(__file__).resolve().parents[2]
T0 = pd.Timestamp("2024-01-02", tz="UTC")


def _preds(i: int, symbol: str = "MSFT") -> list[Prediction]:
    """Two predictions of refresh ``i`` (a new bar each refresh)."""
    origin = T0 + pd.Timedelta(minutes=i)
    return [Prediction("forecast", "v1", symbol, "1m", "log_return", h, origin, 0.001 * i)
            for h in (1, 5)]


def _keys_in_store() -> set[tuple]:
    with session_scope() as s:
        return {(r.symbol, r.horizon, r.origin_ts) for r in s.exec(select(PredictionRow))}


def _keys(preds: list[Prediction]) -> set[tuple]:
    return {(p.symbol, p.horizon, p.origin_ts.to_pydatetime()) for p in preds}


@postgresql_only
def test_postgresql_restart_under_a_refreshing_panel(db_backend, pg_server):
    """A panel loop (refresh_panel_queued every 50 ms) keeps running through a database
    restart: no exception, "database unavailable, retrying" while it is down, and every
    prediction made meanwhile is in the store afterwards, none dropped."""
    from core.panel.refresh import refresh_panel_queued

    queue = PredictionQueue(maxlen=10_000)
    made: list[Prediction] = []
    messages: list[str] = []
    failures: list[BaseException] = []
    refreshes = {"n": 0}
    stop = threading.Event()

    def loop() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            preds = _preds(i)
            panel = types.SimpleNamespace(symbol="MSFT", predictions=preds, shadow=[],
                                          errors=[])
            try:
                res = refresh_panel_queued([], panels=[panel], queue=queue)
            except BaseException as err:  # noqa: BLE001 - reported below: must not happen
                failures.append(err)
                return
            made.extend(preds)
            if res.store_message:
                messages.append(res.store_message)
            refreshes["n"] = i
            time.sleep(0.05)

    def wait_for(cond, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            assert not failures, failures
            assert time.monotonic() < deadline, what
            time.sleep(0.05)

    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    try:
        wait_for(lambda: refreshes["n"] >= 3, "the loop never refreshed")
        with pg_server.stopped():
            down_at = refreshes["n"]
            wait_for(lambda: refreshes["n"] >= down_at + 5 and len(queue) > 0,
                     "no refresh while the database was down")
        back_at = refreshes["n"]
        wait_for(lambda: refreshes["n"] >= back_at + 3 and len(queue) == 0,
                 "the held predictions were never logged")
    finally:
        stop.set()
        worker.join(30)
    assert not failures, failures
    retrying = [m for m in messages if m.startswith("database unavailable, retrying")]
    assert retrying, messages
    assert all("Traceback" not in m for m in messages)
    assert any(m.startswith("database back: logged the") for m in messages), messages
    assert queue.dropped_total == 0
    assert _keys_in_store() == _keys(made)  # everything made meanwhile is logged, once


def _unreachable(monkeypatch) -> dict:
    """A switch: while ``state["down"]`` every store connection fails."""
    from core.store import db

    real = db.get_engine
    state = {"down": True}

    def get_engine(*a, **k):
        if state["down"]:
            raise sa.exc.OperationalError("connect", {}, Exception("connection refused"))
        return real(*a, **k)

    monkeypatch.setattr(db, "get_engine", get_engine)
    return state


def test_retry_queue_is_bounded_and_reports_what_is_not_logged(monkeypatch):
    with session_scope() as s:  # schema in place before the outage
        s.execute(sa.text("SELECT 1"))
    state = _unreachable(monkeypatch)
    queue = PredictionQueue(maxlen=5)
    first = log_or_queue(_preds(1), queue=queue)
    assert first.queued == 2 and first.dropped == 0 and first.inserted == 0
    assert first.message.startswith("database unavailable, retrying: 2 prediction(s) held")
    assert "connection refused" in first.message
    again = log_or_queue(_preds(1), queue=queue)  # the same bar on the next refresh
    assert again.queued == 2 and again.dropped == 0
    log_or_queue(_preds(2), queue=queue)
    full = log_or_queue(_preds(3), queue=queue)  # 6 distinct, room for 5: the oldest goes
    assert full.queued == 5 and full.dropped == 1
    assert "1 prediction(s) were NOT logged (more than 5 waiting)" in full.message
    assert queue.dropped_total == 1
    state["down"] = False
    back = log_or_queue(_preds(4), queue=queue)
    assert back.flushed == 5 and back.inserted == 7 and back.queued == 0
    assert back.message == "database back: logged the 5 prediction(s) held while it was " \
                           "unavailable"
    expected = _keys(_preds(1)[1:] + _preds(2) + _preds(3) + _preds(4))
    assert _keys_in_store() == expected  # all but the one reported as not logged
    assert len(queue) == 0 and log_or_queue([], queue=queue).message is None


def test_queue_keeps_invalid_records_out():
    from core.errors import DataValidationError

    bad = Prediction("forecast", "v1", "MSFT", "1d", "log_return", 1, T0, float("nan"))
    queue = PredictionQueue(maxlen=5)
    with pytest.raises(DataValidationError):
        queue.log([bad])
    assert len(queue) == 0


# ---------------------------------------------------------------- deleted SQLite file

def test_deleted_sqlite_file_gives_a_message_and_the_cli_and_process_then_agree(
        tmp_path, monkeypatch):
    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    from core.cli import app

    vs = [registry.save_artifact("tiny", {"w.json": b"{}"}, {}, version=f"2026010{i}T000000Z"
                                 ).version for i in range(1, 3)]
    with session_scope() as s:
        sync_models_dir(session=s)
        from core.store.ops import promote
        promote("tiny", vs[0], who="ops", session=s)  # the older one serves
    assert load_active("tiny").version == vs[0]
    db_file = get_settings().data_dir / "quantdesk.db"
    assert db_file.exists()
    for f in db_file.parent.glob("quantdesk.db*"):  # rm data/quantdesk.db*
        f.unlink()

    with pytest.raises(DatabaseFileDeleted) as caught, session_scope() as s:
        list_model_versions(session=s)  # the next store call of the process
    text = store_error_message(caught.value)
    assert f"the database file {db_file} was deleted while this process was running" in text
    assert "nothing was written" in text and "`quantdesk init`" in text
    assert not db_file.exists()  # not recreated, nothing written into the void
    r = CliRunner().invoke(app, ["models", "list"])  # a command in the running process
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "was deleted while this process was running" in r.output
    assert load_active("tiny").version == vs[0]  # serving: the last version it knew
    assert store_notice("tiny") == f"model store unavailable: serving the last known version {vs[0]}"
    q = PredictionQueue()
    assert log_or_queue(_preds(1), queue=q).queued == 2
    assert "was deleted" in (log_or_queue([], queue=q).message or "")
    assert not db_file.exists()

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(PYTHONPATH=str(ROOT))
    cli = subprocess.run([str(Path(sys.executable).parent / "quantdesk"), "models", "list",
                          "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert json.loads(cli.stdout) == []  # another process: a new, empty store
    assert db_file.exists()
    with session_scope() as s:  # the running process now reads that same new store
        assert list_model_versions(session=s) == []
    r = CliRunner().invoke(app, ["models", "list", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    flushed = q.flush()  # and the predictions held meanwhile go into it
    assert flushed.flushed == 2 and _keys_in_store() == _keys(_preds(1))
