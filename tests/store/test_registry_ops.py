import pytest
from sqlmodel import select

from core import registry, serving
from core.errors import ArtifactIntegrityError, NotTrainedError
from core.store import (
    AuditLog, RegistryOpError, active_version, disable, enable, list_model_versions, promote,
    rollback, session_scope, sync_models_dir,
)
from tests.pg import both_backends, postgresql_only

pytestmark = both_backends


@pytest.fixture
def models(tmp_path, monkeypatch):
    """Three versions of a demo family in a temp models dir (settings point at it)."""
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    vs = [registry.save_artifact("demo", {"w.json": f'{{"w": {i}}}'.encode()},
                                 {"kind": "log_return", "metrics": {"mae": 1.0 / (i + 1)}},
                                 version=f"2026010{i + 1}T000000Z-000{i}").version
          for i in range(3)]
    return vs


def _statuses(session):
    return {r.version: r.status for r in list_model_versions("demo", session=session)}


def test_sync_registers_and_activates_newest(models):
    with session_scope() as s:
        out = sync_models_dir(session=s)
        assert out["registered"] == [f"demo/{v}" for v in models]
        assert out["activated"] == [f"demo/{models[-1]}"]
        assert active_version("demo", session=s) == models[-1]
        row = list_model_versions("demo", session=s)[0]
        assert row.metrics == {"mae": 1.0 / 3} and row.kind == "log_return" and len(row.sha256) == 64
        assert sync_models_dir(session=s) == {"registered": [], "activated": []}  # idempotent
    assert serving.load_active("demo").version == models[-1]


def test_promote_rollback_disable_enable_with_audit(models):
    v1, v2, v3 = models
    with session_scope() as s:
        sync_models_dir(session=s)
        promote("demo", v1, who="alice", session=s)
        assert _statuses(s) == {v1: "active", v2: "candidate", v3: "candidate"}
    assert serving.load_active("demo").version == v1
    with session_scope() as s:
        back = rollback("demo", who="bob", session=s)
        assert back.version == v3  # the version active before v1
        assert _statuses(s) == {v1: "deprecated", v2: "candidate", v3: "active"}
        with pytest.raises(RegistryOpError, match="no previously deployed"):
            rollback("demo", who="bob", session=s)  # v2 never deployed, v1 rolled back from
        disable("demo", who="carol", session=s)
        assert active_version("demo", session=s) is None
        with pytest.raises(RegistryOpError, match="already disabled"):
            disable("demo", who="carol", session=s)
    with pytest.raises(NotTrainedError, match="Model family 'demo' is disabled"):
        serving.load_active("demo")
    with session_scope() as s:
        assert sync_models_dir(session=s)["activated"] == []  # sync does not undo a disable
        enable("demo", who="carol", session=s)
        assert active_version("demo", session=s) == v3
        rows = s.exec(select(AuditLog).order_by(AuditLog.id)).all()
    acts = [(r.who, r.action, r.target) for r in rows if r.action != "register"]
    assert acts == [("system", "activate", f"demo/{v3}"), ("alice", "promote", f"demo/{v1}"),
                    ("bob", "rollback", f"demo/{v3}"), ("carol", "disable", "demo"),
                    ("carol", "enable", f"demo/{v3}")]
    assert all(r.ts.tzinfo is not None for r in rows)


def test_promote_errors(models):
    with session_scope() as s:
        sync_models_dir(session=s)
        with pytest.raises(RegistryOpError, match="already active"):
            promote("demo", models[-1], who="a", session=s)
        with pytest.raises(RegistryOpError, match="No registered version"):
            promote("demo", "nope", who="a", session=s)
        with pytest.raises(RegistryOpError, match="not disabled"):
            enable("demo", who="a", session=s)


def test_load_active_without_store_rows_serves_newest(models):
    """A fresh clone before `quantdesk init`: no row of the family at all -> newest on disk."""
    assert serving.load_active("demo").version == models[-1]


def test_unpromoted_candidate_never_serves(models):
    """Once any version of the family is registered, the store decides: candidates only
    (e.g. `quantdesk train forecast` without a promote) serve nothing, not the newest."""
    from core.store import register_version

    with session_scope() as s:
        register_version("demo", models[-1], session=s)  # a candidate, never promoted
    with pytest.raises(NotTrainedError, match="no promoted version.*models promote demo"):
        serving.load_active("demo")
    with session_scope() as s:
        sync_models_dir(session=s)  # activates the newest (init's rule); then promote v1
        promote("demo", models[0], who="a", session=s)
    assert serving.load_active("demo").version == models[0]  # not the newer candidates


def test_tampered_active_artifact_refused(models):
    with session_scope() as s:
        sync_models_dir(session=s)
        promote("demo", models[0], who="a", session=s)
    (registry.models_root() / "demo" / models[0] / "w.json").write_bytes(b'{"w": 99}')
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        serving.load_active("demo")


def test_active_version_missing_on_disk(models):
    import shutil

    with session_scope() as s:
        sync_models_dir(session=s)
    shutil.rmtree(registry.models_root() / "demo" / models[-1])
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        serving.load_active("demo")


def _break_store(monkeypatch):
    def broken(family):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("core.serving.serving_version", broken)


def test_store_unreachable_serves_last_known_version_not_newest(models, monkeypatch):
    """The old fallback (newest on disk) is gone: with the store unreadable the process
    serves the version it last saw active, and says so for a banner."""
    with session_scope() as s:
        sync_models_dir(session=s)
        promote("demo", models[0], who="a", session=s)
    assert serving.load_active("demo").version == models[0]
    assert serving.store_notice("demo") is None
    _break_store(monkeypatch)
    assert serving.load_active("demo").version == models[0]  # not models[-1], the newest
    assert serving.store_notice("demo") == ("model store unavailable: serving the last known "
                                            f"version {models[0]}")
    assert serving.serving_key("demo") == (models[0], False)
    monkeypatch.undo()  # the store is back: the notice goes
    assert serving.load_active("demo").version == models[0]
    assert serving.store_notices() == {}


def test_store_unreachable_without_memory_raises_not_trained(models, monkeypatch):
    """A process that never read the store serves nothing from disk: naive baseline."""
    _break_store(monkeypatch)
    with pytest.raises(NotTrainedError, match="model store is unavailable"):
        serving.load_active("demo")
    assert serving.store_notice("demo") is None


def test_store_unreachable_disabled_family_stays_disabled(models, monkeypatch):
    with session_scope() as s:
        sync_models_dir(session=s)
    assert serving.load_active("demo").version == models[-1]
    with session_scope() as s:
        disable("demo", who="carol", session=s)
    with pytest.raises(NotTrainedError, match="is disabled"):
        serving.load_active("demo")
    _break_store(monkeypatch)
    with pytest.raises(NotTrainedError, match="Model family 'demo' is disabled"):
        serving.load_active("demo")
    assert serving.serving_key("demo") == (None, True)


def test_store_file_made_read_only_still_serves_last_known(models, tmp_path, monkeypatch):
    """A real unreadable store (DATABASE_URL at a file that is not a database)."""
    with session_scope() as s:
        sync_models_dir(session=s)
    assert serving.load_active("demo").version == models[-1]
    bad = tmp_path / "garbage.db"
    bad.write_bytes(b"this is not a sqlite database" * 100)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{bad}")
    from core.config import get_settings

    get_settings.cache_clear()
    assert serving.load_active("demo").version == models[-1]
    assert "model store unavailable" in serving.store_notice("demo")


@postgresql_only
def test_postgresql_server_gone_still_serves_last_known(models, monkeypatch):
    """DATABASE_URL at a PostgreSQL that refuses connections (server stopped, wrong port)."""
    import socket

    from core.config import get_settings

    with session_scope() as s:
        sync_models_dir(session=s)
    assert serving.load_active("demo").version == models[-1]
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/quantdesk")
    get_settings.cache_clear()
    assert serving.load_active("demo").version == models[-1]
    assert "model store unavailable" in serving.store_notice("demo")
