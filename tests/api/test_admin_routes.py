"""Admin routes: auth (no key, wrong key, read key, revoked key), registry operations with
their audit rows, and a retrain job followed to completion through /jobs/{id}."""

import time

import pytest

from core.api.keys import revoke_key
from core.config import get_settings
from core.families import FAMILIES
from core.family import ModelFamily
from core.registry import save_artifact
from core.store import audit_log, session_scope, sync_models_dir


@pytest.fixture
def registered():
    with session_scope() as s:
        sync_models_dir(session=s, who="test")


def _h(key):
    return {"X-API-Key": key}


def test_admin_route_needs_an_admin_key(client, admin_key, read_key):
    r = client.post("/admin/disable/forecast")
    assert r.status_code == 401 and r.json()["error"] == "AuthError"
    r = client.post("/admin/disable/forecast", headers=_h("qd_wrong"))
    assert r.status_code == 401 and "unknown" in r.json()["detail"]
    r = client.post("/admin/disable/forecast", headers=_h(read_key))
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = client.get("/jobs/nope", headers=_h(read_key))
    assert r.status_code == 404  # a read key may follow jobs
    assert client.get("/jobs/nope").status_code == 401


def test_revoked_key_is_refused(client, admin_key, registered):
    revoke_key("ops-bot")
    r = client.post("/admin/disable/forecast", headers=_h(admin_key))
    assert r.status_code == 401


def test_disable_enable_through_the_api_is_served_and_audited(client, admin_key, registered):
    r = client.post("/admin/disable/forecast", headers=_h(admin_key))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "disabled" and r.json()["who"] == "api:ops-bot"
    r = client.post("/predict/forecast", json={"symbol": "MSFT", "source": "bundled"})
    assert r.status_code == 503 and r.json()["error"] == "NotTrainedError"
    assert "disabled" in r.json()["detail"]
    assert client.get("/models/forecast").json()["disabled"] is True
    r = client.post("/admin/disable/forecast", headers=_h(admin_key))
    assert r.status_code == 409 and "already disabled" in r.json()["detail"]
    r = client.post("/admin/enable/forecast", headers=_h(admin_key))
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert client.post("/predict/forecast", json={"symbol": "MSFT", "source": "bundled"}
                       ).status_code == 200
    with session_scope() as s:
        actions = [(a.who, a.action, a.detail.get("ok")) for a in audit_log(session=s)
                   if a.action.startswith("api_")]
    assert actions[:3] == [("api:ops-bot", "api_enable", True),
                           ("api:ops-bot", "api_disable", False),
                           ("api:ops-bot", "api_disable", True)]


def test_promote_and_rollback(client, admin_key, registered):
    r = client.post("/admin/promote/forecast", json={"version": "nope"}, headers=_h(admin_key))
    assert r.status_code == 409
    r = client.post("/admin/rollback/forecast", headers=_h(admin_key))
    assert r.status_code == 409 and "roll back" in r.json()["detail"]
    r = client.post("/admin/promote/nope", json={"version": "x"}, headers=_h(admin_key))
    assert r.status_code == 404


def test_retrain_job_runs_to_completion(client, admin_key, monkeypatch, tmp_path):
    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()

    def train_tiny(progress=None):
        for i in range(3):
            if progress:
                progress(i / 3, f"step {i}")
        return save_artifact("tiny", {"weights.json": b'{"w": 1}'}, {"metrics": {"rmse": 1}})

    monkeypatch.setitem(FAMILIES, "tiny", ModelFamily(
        name="tiny", domain="tiny", title="Tiny", kind="log_return", train=train_tiny))
    r = client.post("/admin/retrain/tiny", headers=_h(admin_key))
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    deadline = time.monotonic() + 30
    while True:
        job = client.get(f"/jobs/{job_id}", headers=_h(admin_key)).json()
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert job["status"] == "completed", job
    assert job["progress"] == 1.0 and job["version"] and job["error"] is None
    assert client.get("/models/tiny").json()["versions"] == [job["version"]]
    with session_scope() as s:
        assert any(a.action == "api_retrain" for a in audit_log(session=s))


def test_retrain_of_unknown_family_is_404(client, admin_key):
    r = client.post("/admin/retrain/nope", headers=_h(admin_key))
    assert r.status_code == 404
