"""Store faults end in a message, never a traceback: a read-only database (every write
refused, as with an immutable file) and an unreachable one, for the CLI's registry, retrain,
replay, backfill and monitor commands and the Admin page's actions. The read-only cases run on
SQLite and PostgreSQL (tests/pg.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from core import registry, training
from core.cli import app
from core.store import get_engine, list_model_versions, session_scope, sync_models_dir
from tests.pg import both_backends

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_versions(tmp_path, monkeypatch):
    """Two registered versions of a tiny family (the newest active) and its trainer."""
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()

    def tiny(progress=None):
        return registry.save_artifact("tiny", {"w.json": b"{}"}, {"metrics": {"mae": 1.0}})

    monkeypatch.setattr(training, "FAMILIES", {"tiny": tiny})
    vs = [registry.save_artifact("tiny", {"w.json": b"{}"}, {"metrics": {"mae": 1.0}},
                                 version=f"20260101T000000Z-000{i}").version for i in range(2)]
    with session_scope() as s:
        sync_models_dir(session=s)
    return vs


#: What a refused write says, per backend: (exception class, words of its message).
READ_ONLY_ERROR = {"sqlite": ("OperationalError", "attempt to write a readonly database"),
                   "postgresql": ("InternalError", "read-only transaction")}


def make_read_only() -> None:
    """Every new connection refuses writes. SQLite: ``PRAGMA query_only`` ("attempt to write
    a readonly database"), the way it answers for a read-only or immutable file (root ignores
    chmod). PostgreSQL: the database's ``default_transaction_read_only`` (as on a read-only
    replica: "cannot execute INSERT in a read-only transaction")."""
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{engine.url.database}" '
                                 "SET default_transaction_read_only = on")
    else:
        event.listen(engine, "connect", lambda conn, _rec: conn.execute("PRAGMA query_only=ON"))
    engine.dispose()


def make_unreachable(monkeypatch) -> None:
    """The database cannot be opened at all (deleted directory, bad URL, server down)."""
    def refuse(*a, **k):
        raise sa.exc.OperationalError("connect", {}, Exception("unable to open database file"))

    monkeypatch.setattr("core.store.db.get_engine", refuse)


def _plain_failure(r, *needles: str, error: str = "OperationalError") -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    assert f"error: The model store is unavailable ({error}" in r.output
    for n in needles:
        assert n in r.output


@both_backends
@pytest.mark.parametrize("args", [["models", "promote", "tiny", "V0"],
                                  ["models", "disable", "tiny"],
                                  ["models", "retrain", "tiny"],
                                  ["models", "sync"],
                                  ["admin", "unlock"]])
def test_cli_registry_commands_on_read_only_store(two_versions, args, db_backend):
    args = [two_versions[0] if a == "V0" else a for a in args]
    make_read_only()
    r = CliRunner().invoke(app, args)
    if args == ["admin", "unlock"]:  # nothing held: a read only, which works
        assert r.exit_code == 0 and "nothing to unlock" in r.output
        return
    if args == ["models", "sync"]:  # everything registered already: nothing to write
        assert r.exit_code == 0, r.output
        return
    error, words = READ_ONLY_ERROR[db_backend]
    _plain_failure(r, words, "nothing was changed", error=error)
    with session_scope() as s:  # and nothing changed
        assert {v.status for v in list_model_versions("tiny", session=s)} == {"active",
                                                                              "candidate"}


@both_backends
def test_cli_replay_on_read_only_store(db_backend):
    make_read_only()
    r = CliRunner().invoke(app, ["replay", "--symbol", "MSFT", "--steps", "1"])
    error, words = READ_ONLY_ERROR[db_backend]
    _plain_failure(r, words, error=error)


@pytest.mark.parametrize("args", [["backfill"], ["monitor"], ["models", "list"],
                                  ["models", "runs"], ["replay", "--symbol", "MSFT"]])
def test_cli_store_unreachable(monkeypatch, args):
    make_unreachable(monkeypatch)
    r = CliRunner().invoke(app, args)
    _plain_failure(r, "unable to open database file", "Check DATABASE_URL")


def _admin(user: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / "admin.py"), default_timeout=60)
    at.session_state["admin_user"] = user
    at.run()
    return at


@both_backends
def test_admin_actions_on_read_only_store(two_versions, db_backend):
    at = _admin("alice")
    assert not at.exception
    make_read_only()
    at.button(key="adm_retrain").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    words = READ_ONLY_ERROR[db_backend][1]
    assert any("model store is unavailable" in e and words in e for e in errors), errors
    at.selectbox(key="adm_ops_version").set_value(two_versions[0]).run()
    at.button(key="adm_promote").click().run()
    assert not at.exception
    assert any("model store is unavailable" in e.value for e in at.error)
    at.button(key="adm_sync").click().run()
    assert not at.exception
    with session_scope() as s:
        assert {v.version: v.status for v in list_model_versions("tiny", session=s)} == {
            two_versions[0]: "candidate", two_versions[1]: "active"}


def test_admin_page_store_unreachable(two_versions, monkeypatch):
    make_unreachable(monkeypatch)
    at = _admin("alice")
    assert not at.exception
    assert any("model store is unavailable" in e.value for e in at.error)
    at.button(key="adm_retrain").click().run()
    assert not at.exception
    assert any("unable to open database file" in e.value for e in at.error)
