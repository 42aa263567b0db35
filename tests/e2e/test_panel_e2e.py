"""Browser tests of the live panel and the admin flow (headless Chromium via Playwright).

The app runs as a real `streamlit run` subprocess with a private data dir, a private copy
of the models, offline, and a 2 s refresh period.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.procs import free_port, stop

from tests.e2e.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ADMIN, PASSWORD = "e2e-admin", "correct horse battery"

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("panel_e2e")
    models = tmp / "models"
    shutil.copytree(ROOT / "models", models)
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUANTDESK_OFFLINE="1", HF_HUB_OFFLINE="1",
               QUANTDESK_DATA_DIR=str(tmp / "data"), QUANTDESK_MODELS_DIR=str(models),
               QUANTDESK_REFRESH_SECONDS="2", OMP_NUM_THREADS="1")
    env.pop("DATABASE_URL", None)
    # an admin account for the login test (bcrypt hash in the private data dir)
    subprocess.run([sys.executable, "-c", "from core.auth import create_admin; "
                    f"create_admin({ADMIN!r}, {PASSWORD!r})"], env=env, cwd=ROOT, check=True)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://localhost:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    yield url
    stop(proc)


@pytest.fixture
def page(browser, app_url):
    """A fresh context in the session's Chromium (tests/e2e/conftest.py): one Playwright
    instance per process, since a second sync_playwright() inside the first one fails."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(90_000)
    yield pg
    ctx.close()


AS_OF = re.compile(r"As of (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


def _as_of(pg) -> str:
    text = pg.get_by_text(AS_OF).first.inner_text()
    return AS_OF.search(text).group(1)


def test_panel_refreshes_by_itself_and_pauses(page, app_url):
    page.goto(app_url)
    page.get_by_text(AS_OF).first.wait_for()
    first = _as_of(page)
    page.wait_for_function(
        "t => { const m = document.body.innerText.match(/As of (\\S+ \\S+) UTC/);"
        " return m && m[1] !== t; }", arg=first, timeout=90_000)
    assert _as_of(page) != first  # refreshed without any interaction
    page.get_by_role("button", name="Refresh & replay").click()  # its popover
    page.get_by_text("Pause auto-refresh").click()
    page.get_by_text("paused").first.wait_for()
    time.sleep(1.0)  # let the rerun that the toggle caused settle
    paused_at = _as_of(page)
    time.sleep(6.0)  # three refresh periods
    assert _as_of(page) == paused_at


def test_non_admin_has_no_admin_page(page, app_url):
    page.goto(app_url)
    page.get_by_text(AS_OF).first.wait_for()
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Admin" not in nav
    page.goto(app_url + "/admin")
    page.wait_for_selector('[data-testid="stApp"]')
    time.sleep(3)
    assert page.get_by_role("button", name="Retrain").count() == 0
    assert page.get_by_text("Audit log").count() == 0


def test_admin_logs_in_retrains_and_sees_candidate(page, app_url):
    page.goto(app_url)
    page.get_by_text(AS_OF).first.wait_for()
    sign_in(page, ADMIN, PASSWORD)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Admin").wait_for(timeout=60_000)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Admin").click()
    page.get_by_role("button", name="Retrain").wait_for()
    # pick the quick family (the default, first in sort order, trains for minutes)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Model family").click()
    page.get_by_role("option", name="naive-baseline").click()
    page.get_by_role("button", name="Retrain").click()
    page.get_by_text(re.compile(r"naive-baseline: new candidate version")).wait_for(
        timeout=120_000)
    assert page.get_by_text(re.compile(r"Retrain of naive-baseline complete")).count() >= 1
    page.get_by_text("candidate").first.wait_for()
