"""Issue 19: the same ``quantdesk scan`` command runs unchanged against an existing Ray
cluster named by ``RAY_ADDRESS``, and gives the rows the serial engine gives.

The cluster is real: a head node started here with ``ray start --head --block`` on loopback
(one CPU, token authentication on, as Ray 2.59+ starts clusters by default), stopped with
SIGTERM at the end. Its own log directory shows the scan's tasks ran on its workers.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.procs import free_port, stop, wait_for_text

ROOT = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).with_name("ray")
STARTED = "Ray runtime started"


def _scan(env: dict[str, str], engine: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-c", "from core.cli import main; main()", "scan", "--universe",
         "bundled", "--engine", engine, "--no-cache", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.mark.slow
def test_scan_runs_unchanged_on_a_ray_cluster(tmp_path):
    if not RAY.exists():
        pytest.skip(f"{RAY} is missing (Ray is installed by `make setup`)")
    # Ray's socket paths must stay under 108 bytes: a short temp dir, not pytest's tmp_path
    ray_dir = Path(tempfile.mkdtemp(prefix="qdray", dir="/tmp"))
    port = free_port()
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("RAY_") and k != "OMP_NUM_THREADS"}
    cluster_env = {**base, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    head_log = tmp_path / "head.log"
    with open(head_log, "w") as fh:
        head = subprocess.Popen(
            [str(RAY), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
             f"--port={port}", "--num-cpus=1", "--include-dashboard=false",
             "--disable-usage-stats", f"--temp-dir={ray_dir}"],
            env=cluster_env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        wait_for_text(head_log, head, STARTED, 180, "the Ray head did not start")
        app_env = {**base, "PYTHONPATH": str(ROOT), "QUANTDESK_OFFLINE": "1",
                   "HF_HUB_OFFLINE": "1", "QUANTDESK_DATA_DIR": str(tmp_path / "data")}
        on_cluster = _scan({**cluster_env, **app_env, "RAY_ADDRESS": f"127.0.0.1:{port}"},
                           "ray")
        serial = _scan(app_env, "serial")
        assert [r["symbol"] for r in on_cluster] == [r["symbol"] for r in serial]
        assert all(r.get("error") is None for r in on_cluster), on_cluster
        assert on_cluster == serial
        workers = list(ray_dir.glob("session_*/logs/worker-*"))
        assert workers, "no worker of the cluster ran a task"

        # without the cluster's token: a plain message, no traceback, exit status 2
        no_token = subprocess.run(
            [sys.executable, "-c", "from core.cli import main; main()", "scan",
             "--universe", "bundled", "--engine", "ray", "--no-cache", "--json"],
            cwd=ROOT, env={**app_env, "RAY_ADDRESS": f"127.0.0.1:{port}",
                           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "wrong"},
            capture_output=True, text=True, timeout=300, check=False)
        assert no_token.returncode == 2, no_token.stderr[-2000:]
        assert "RAY_AUTH_TOKEN" in no_token.stderr
        assert "Traceback" not in no_token.stderr
    finally:
        stop(head, 60)
        shutil.rmtree(ray_dir, ignore_errors=True)
