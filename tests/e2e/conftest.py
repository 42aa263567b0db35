"""Browser-test fixtures: a real ``streamlit run app.py`` on a free loopback port (offline,
private data dir with one known test admin) and Debian's headless Chromium via Playwright."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.procs import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
E2E_ADMIN, E2E_PASSWORD = "e2e-admin", "e2e test password 7f3a"  # test-only account


@dataclass
class Server:
    url: str
    data_dir: Path
    log: Path
    proc: subprocess.Popen

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url}/_stcore/health did not answer within {timeout:.0f} s")


@contextmanager
def running_app(tmp: Path, launcher: bool = False, **env_overrides: str):
    """``streamlit run app.py`` (``launcher``: as ``make run`` serves it, ``python -m ui.warmup
    run app.py``, with the launcher's session reaper, allocator and page index; the warm-up
    thread is off, ``QUANTDESK_WARMUP=0`` from tests/conftest.py) on a free loopback port with
    its data in ``tmp / "data"`` (offline unless overridden, no DATABASE_URL, one thread per
    BLAS); stopped on exit."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (`make test` installs Debian chromium)")
    data_dir = tmp / "data"
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUANTDESK_OFFLINE="1", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", QUANTDESK_DATA_DIR=str(data_dir),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for k in ("DATABASE_URL", "QUANTDESK_ADMIN_HASHES", "QUANTDESK_ADMIN_EMAILS"):
        env.pop(k, None)
    env.update(env_overrides)
    log = tmp / "streamlit.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui.warmup" if launcher else "streamlit", "run", "app.py",
             "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    srv = Server(f"http://127.0.0.1:{port}", data_dir, log, proc)
    try:
        _wait_healthy(srv.url, proc)
        yield srv
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """The app (offline, temp data dir, one test admin); stopped at the end.
    ``QD_E2E_LAUNCHER=1`` serves it through the launcher, as ``make run`` does (see
    :func:`running_app`)."""
    from core.auth import create_admin

    tmp = tmp_path_factory.mktemp("e2e")
    create_admin(E2E_ADMIN, E2E_PASSWORD, path=tmp / "data" / "admins.toml")
    with running_app(tmp, launcher=os.environ.get("QD_E2E_LAUNCHER") == "1") as srv:
        yield srv


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


def sign_in(pg, name: str, password: str) -> None:
    """Open the sidebar's "Admin sign-in" popover (unless open) and submit the form."""
    if not pg.get_by_label("Admin name").is_visible():
        pg.get_by_role("button", name=re.compile("Admin sign-in")).click()
    pg.get_by_label("Admin name").fill(name)
    pg.get_by_label("Password", exact=True).fill(password)
    pg.get_by_role("button", name="Sign in", exact=True).click()
