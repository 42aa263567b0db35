"""Issue 17: the commands (``quantdesk init``, ``models ...``, ``replay``, ``backfill``,
``monitor``) and the registry actions of the CLI, the Admin page and the HTTP API work
unchanged with ``DATABASE_URL=postgresql://...`` as on SQLite: every test runs on both
(tests/pg.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from core import registry, training
from core.cli import app  # before tiny_family patches FAMILIES (core.cli reads them)
from core.config import get_settings
from core.store import (
    PredictionRow, audit_log, get_engine, list_model_versions, session_scope, sync_models_dir,
)
from tests.pg import both_backends

pytestmark = both_backends

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def tiny_family(tmp_path, monkeypatch):
    """The only trainable family is ``tiny`` (trains in milliseconds), in a private models
    dir: ``quantdesk init`` would otherwise train every real family missing there."""
    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()

    def tiny(progress=None):
        if progress:
            progress(1.0, "done")
        return registry.save_artifact("tiny", {"w.json": b"{}"}, {"metrics": {"mae": 1.0}})

    monkeypatch.setattr(training, "FAMILIES", {"tiny": tiny})


def _ok(args: list[str]):
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r


def _statuses() -> dict[str, str]:
    with session_scope() as s:
        return {v.version: v.status for v in list_model_versions("tiny", session=s)}


def test_init_models_list_replay_backfill_monitor(tiny_family, db_backend):
    out = _ok(["init"]).output
    assert "database ready: " + {"sqlite": "sqlite:///",
                                 "postgresql": "postgresql+psycopg2://"}[db_backend] in out
    assert "tiny: trained version" in out and "active model: tiny/" in out
    assert get_engine().dialect.name == db_backend
    (version,) = _statuses()
    listed = _ok(["models", "list"]).output
    assert "tiny" in listed and version in listed and "active" in listed

    first = json.loads(_ok(["replay", "--symbol", "MSFT", "--steps", "5", "--json"]).stdout)
    more = json.loads(_ok(["replay", "--symbol", "MSFT", "--steps", "2", "--json"]).stdout)
    assert more["position"] == first["position"] + 2  # the cursor is in the store
    assert first["logged"] == 5 * 2 and more["logged"] == 2 * 2  # naive, h = 1 and 5
    _ok(["backfill"])
    report = json.loads(_ok(["monitor", "--json"]).stdout)
    assert {(g["model_name"], g["horizon"]) for g in report["groups"]} == {("naive", 1),
                                                                          ("naive", 5)}
    with session_scope() as s:
        assert s.query(PredictionRow).count() == first["logged"] + more["logged"]
    again = _ok(["init"]).output  # idempotent: nothing trained or activated twice
    assert "trained version" not in again and "active model" not in again
    assert _statuses() == {version: "active"}


def test_cli_retrain_promote_rollback_disable_enable_with_audit(tiny_family):
    for _ in range(2):
        assert "candidate" in _ok(["models", "retrain", "tiny", "--who", "ops"]).output
    old, new = sorted(_statuses())
    assert set(_statuses().values()) == {"candidate"}
    _ok(["models", "promote", "tiny", old, "--who", "ann"])
    _ok(["models", "promote", "tiny", new, "--who", "ann"])
    assert "is now active" in _ok(["models", "rollback", "tiny", "--who", "bob"]).output
    assert _statuses() == {old: "active", new: "deprecated"}
    _ok(["models", "disable", "tiny", "--who", "cat"])
    assert _statuses()[old] == "disabled"
    _ok(["models", "enable", "tiny", "--who", "cat"])
    assert _statuses() == {old: "active", new: "deprecated"}
    r = runner.invoke(app, ["models", "enable", "tiny"])
    assert r.exit_code == 2 and "not disabled" in r.output
    runs = json.loads(_ok(["models", "runs", "--json"]).stdout)
    assert [r["status"] for r in runs] == ["COMPLETED", "COMPLETED"]
    with session_scope() as s:
        acts = [(a.who, a.action, a.target) for a in reversed(audit_log(session=s))
                if a.action not in ("register", "train_start", "train_complete")]
    assert acts == [("ann", "promote", f"tiny/{old}"), ("ann", "promote", f"tiny/{new}"),
                    ("bob", "rollback", f"tiny/{old}"), ("cat", "disable", "tiny"),
                    ("cat", "enable", f"tiny/{old}")]


def test_admin_page_promote_rollback_disable_enable_with_audit(tiny_family):
    for _ in range(2):
        assert training.run_training("tiny", who="ops").status == "COMPLETED"
    old, new = sorted(_statuses())
    at = AppTest.from_file(str(ROOT / "views" / "admin.py"), default_timeout=60)
    at.session_state["admin_user"] = "alice"
    at.run()
    assert not at.exception
    at.selectbox(key="adm_ops_version").set_value(old).run()
    at.button(key="adm_promote").click().run()
    at.selectbox(key="adm_ops_version").set_value(new).run()
    at.button(key="adm_promote").click().run()
    at.button(key="adm_rollback").click().run()
    assert _statuses() == {old: "active", new: "deprecated"}
    at.button(key="adm_disable").click().run()
    assert _statuses()[old] == "disabled"
    at.button(key="adm_enable").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _statuses() == {old: "active", new: "deprecated"}
    with session_scope() as s:
        acts = [(a.who, a.action) for a in reversed(audit_log(session=s))
                if a.who == "alice"]
    assert acts == [("alice", "promote"), ("alice", "promote"), ("alice", "rollback"),
                    ("alice", "disable"), ("alice", "enable")]


def test_api_promote_rollback_disable_enable_with_audit():
    """The API's registry routes on the committed artifacts (patterns-cnn has two versions;
    registering reads their metadata only)."""
    from core.api.app import create_app
    from core.api.keys import create_key

    with session_scope() as s:
        sync_models_dir(session=s, who="test")
        old, new = sorted(v.version for v in list_model_versions("patterns-cnn", session=s))
    key = {"X-API-Key": create_key("ops-bot", "admin")}
    with TestClient(create_app(rate_per_minute=0, probe_yahoo=False),
                    raise_server_exceptions=False) as client:
        def post(path: str, **kw):
            r = client.post(path, headers=key, **kw)
            assert r.status_code == 200, r.text
            return r.json()

        assert post("/admin/promote/patterns-cnn", json={"version": old})["status"] == "active"
        assert post("/admin/rollback/patterns-cnn")["version"] == new
        assert post("/admin/disable/patterns-cnn")["status"] == "disabled"
        assert client.get("/models/patterns-cnn").json()["disabled"] is True
        assert post("/admin/enable/patterns-cnn")["status"] == "active"
        assert client.get("/models/patterns-cnn").json()["disabled"] is False
    with session_scope() as s:
        acts = [a.action for a in reversed(audit_log(session=s)) if a.who == "api:ops-bot"]
    assert acts == ["promote", "api_promote", "rollback", "api_rollback", "disable",
                    "api_disable", "enable", "api_enable"]
