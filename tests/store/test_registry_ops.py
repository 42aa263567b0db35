import pytest
from sqlmodel import select

from core import registry, serving
from core.errors import ArtifactIntegrityError, NotTrainedError
from core.store import (
    AuditLog, RegistryOpError, active_version, disable, enable, list_model_versions, promote,
    rollback, session_scope, sync_models_dir,
)


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
    assert serving.load_active("demo").version == models[-1]


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


def test_store_unreachable_serves_newest_on_disk(models, monkeypatch):
    def broken(family):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("core.serving.serving_version", broken)
    assert serving.load_active("demo").version == models[-1]
