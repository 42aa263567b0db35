import json
import stat

import pytest
from typer.testing import CliRunner

from core import registry, training
from core.auth import create_admin, list_admins, verify_admin
from core.cli import app
from core.errors import DataValidationError
from tests.pg import both_backends

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch):
    monkeypatch.setattr("core.auth.BCRYPT_ROUNDS", 4)  # speed only; production uses 12


def test_create_and_verify_admin_file_perms():
    path = create_admin("alice", "correct horse battery")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "correct horse" not in text and "$2b$" in text
    assert verify_admin("alice", "correct horse battery")
    assert not verify_admin("alice", "wrong password!!")
    assert not verify_admin("mallory", "correct horse battery")
    assert not verify_admin("alice", "")
    create_admin("bob", "another long pass")
    assert list_admins() == ["alice", "bob"] and verify_admin("alice", "correct horse battery")


@pytest.mark.parametrize("name,pw", [("alice", "short"), ("bad name", "long enough pw"),
                                     ("", "long enough pw")])
def test_create_admin_refuses_bad_input(name, pw):
    with pytest.raises(DataValidationError):
        create_admin(name, pw)


def test_env_hashes(monkeypatch):
    import bcrypt

    h = bcrypt.hashpw(b"from the environment", bcrypt.gensalt(4)).decode()
    monkeypatch.setenv("QUANTDESK_ADMIN_HASHES", f"carol:{h}")
    assert verify_admin("carol", "from the environment")
    assert not verify_admin("carol", "from the environmenT")


def test_cli_admin_create_user(monkeypatch):
    monkeypatch.setenv("QUANTDESK_ADMIN_PASSWORD", "a long enough password")
    r = runner.invoke(app, ["admin", "create-user", "dave"])
    assert r.exit_code == 0, r.output
    assert verify_admin("dave", "a long enough password")
    monkeypatch.setenv("QUANTDESK_ADMIN_PASSWORD", "short")
    r = runner.invoke(app, ["admin", "create-user", "erin"])
    assert r.exit_code == 2 and "at least 10" in r.output


@both_backends
def test_bootstrap_trains_missing_family_and_activates(tmp_path, monkeypatch):
    from core.bootstrap import bootstrap
    from core.config import get_settings
    from core.store import active_version, session_scope

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    calls = []

    def train(progress=None):
        calls.append(1)
        progress(1.0, "done")
        return registry.save_artifact("tiny", {"w.json": b"{}"})

    # only the fake family: real families would train for minutes in an empty models dir
    monkeypatch.setattr(training, "FAMILIES", {"tiny": train})
    lines = []
    out = bootstrap(echo=lines.append)
    assert len(out["trained"]) == 1 and out["activated"] == out["trained"]
    assert any("create-user NAME" in line for line in lines)
    assert stat.S_IMODE(get_settings().cache_dir.stat().st_mode) == 0o700
    with session_scope() as s:
        assert active_version("tiny", session=s) == out["trained"][0].split("/")[1]
    again = bootstrap(echo=lines.append)  # idempotent: nothing trained twice
    assert again["trained"] == [] and len(calls) == 1


@both_backends
def test_cli_replay_backfill_monitor_json(synthetic_frame, monkeypatch):
    monkeypatch.setattr("core.panel.replay.load_ohlcv", lambda *a, **k: type(
        "MD", (), {"frame": synthetic_frame})())
    r = runner.invoke(app, ["replay", "--symbol", "SYN", "--steps", "6", "--start-bars", "30", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["steps_done"] == 6 and out["logged"] == 12 and out["outcomes"] == 6 + 2
    r = runner.invoke(app, ["replay", "--symbol", "SYN", "--steps", "1", "--json"])
    assert json.loads(r.stdout)["position"] == 30 + 6
    r = runner.invoke(app, ["monitor", "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert {(g["model_name"], g["horizon"]) for g in rep["groups"]} == {("naive", 1), ("naive", 5)}
    r = runner.invoke(app, ["models", "rollback", "nothing"])
    assert r.exit_code == 2 and "no active version" in r.output
