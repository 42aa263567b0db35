"""Store faults end in a message, never a traceback: a read-only database (every write
refused, as with an immutable file) and an unreachable one, for the CLI's registry, retrain,
replay, backfill and monitor commands and the Admin page's actions."""

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


def make_read_only() -> None:
    """Every new connection refuses writes ("attempt to write a readonly database"), the
    way SQLite answers for a read-only or immutable database file (root ignores chmod)."""
    engine = get_engine()
    event.listen(engine, "connect", lambda conn, _rec: conn.execute("PRAGMA query_only=ON"))
    engine.dispose()


def make_unreachable(monkeypatch) -> None:
    """The database cannot be opened at all (deleted directory, bad URL, server down)."""
    def refuse(*a, **k):
        raise sa.exc.OperationalError("connect", {}, Exception("unable to open database file"))

    monkeypatch.setattr("core.store.db.get_engine", refuse)


def _plain_failure(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    assert "error: The model store is unavailable (OperationalError" in r.output
    for n in needles:
        assert n in r.output


@pytest.mark.parametrize("args", [["models", "promote", "tiny", "V0"],
                                  ["models", "disable", "tiny"],
                                  ["models", "retrain", "tiny"],
                                  ["models", "sync"],
                                  ["admin", "unlock"]])
def test_cli_registry_commands_on_read_only_store(two_versions, args):
    args = [two_versions[0] if a == "V0" else a for a in args]
    make_read_only()
    r = CliRunner().invoke(app, args)
    if args == ["admin", "unlock"]:  # nothing held: a read only, which works
        assert r.exit_code == 0 and "nothing to unlock" in r.output
        return
    if args == ["models", "sync"]:  # everything registered already: nothing to write
        assert r.exit_code == 0, r.output
        return
    _plain_failure(r, "attempt to write a readonly database", "nothing was changed")
    with session_scope() as s:  # and nothing changed
        assert {v.status for v in list_model_versions("tiny", session=s)} == {"active",
                                                                              "candidate"}


def test_cli_replay_on_read_only_store():
    make_read_only()
    r = CliRunner().invoke(app, ["replay", "--symbol", "MSFT", "--steps", "1"])
    _plain_failure(r, "readonly")


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


def test_admin_actions_on_read_only_store(two_versions):
    at = _admin("alice")
    assert not at.exception
    make_read_only()
    at.button(key="adm_retrain").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("model store is unavailable" in e and "readonly" in e for e in errors), errors
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
