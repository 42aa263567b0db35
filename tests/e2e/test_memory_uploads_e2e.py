"""Issue 18, resource limits: a server that served N upload sessions, then saw them closed,
returns to within 10% of its start's resident memory (RSS).

The server starts as ``make run`` starts it (``python -m ui.warmup run app.py``, the Makefile's
environment, the launcher's allocator settings and session reaper, .streamlit/config.toml),
offline, with a throwaway data dir. After the warm-up and one small upload session (closed and
reaped), its RSS is the start. Then, twice: N headless-Chromium tabs each upload their own
distinct ~27 MB SYNTHETIC CSV through the sidebar on the Overview (the default page) and stay
open together; all are closed; once their reconnect window (``server.disconnectedSessionTTL``)
is over, the server's RSS must be within 10% of the start.

Where the memory went before (same scenario, start 912 MB, measured 2026-11-30): six tabs open
+1,192 MB, closed +885 MB three minutes later, a second round closed +1,248 MB, because
(1) Streamlit keeps a closed tab's session for a reconnect and then drops it from that store
without shutting it down, so its uploaded bytes stay in the upload manager for the life of the
process (and the expired session itself until another tab disconnects); (2) the send loop keeps
the last session it served referenced, with its state (upload widget file, parsed bars) and a
fragment holding the page's globals; (3) freed memory stayed resident: Python's 1 MB object
arenas pinned by a few survivors (+77..+100 MB) and glibc heaps holding freed arrays.
ui/warmup.py now shuts such sessions down when their window ends and empties them, then
collects and trims; the launcher runs Python objects on malloc with a fixed mmap threshold.
After (five runs, 2026-11-30, start 864-873 MB): tabs open +1,912..+2,292 MB, closed
+36..+70 MB (4.2-8.2%), second round closed +53..+68 MB (6.1-7.8%); in the e2e suite the same
day: start 868 MB, closed +44 MB (5.1%), then +57 MB (6.5%). About 8-10 minutes (the tabs'
pages run on ~420,000 bars each, then two reconnect windows of 60 s).

2026-12-01 (CI failed: second round +145 MB, 14.7%): each tab's chart drew all 420,000 bars,
so closed tabs' script runs went on building Plotly figures for minutes; the memory was
collected once, after at most 120 s, and what those runs freed later stayed resident. Now a
chart draws at most 5,000 candles (core.plots.candles.display_candles), the release waits
for the runs going at shutdown to end, and the server runs on two malloc arenas.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from tests.procs import free_port, stop, wait_for_text

ROOT = Path(__file__).resolve().parents[2]
MIB = 2 ** 20
N_SESSIONS = 6
FILE_MB = 30  # ~27 MB of CSV text each (about 75 bytes a row)
#: the issue's criterion: after the sessions are gone, RSS within this share of its start
WITHIN = 0.10
#: what the page may take past the reconnect window: a closed tab's running script stops at
#: its next Streamlit call, then the memory is collected (ui/warmup.py)
SETTLE_S = 240

def synthetic_csv(seed: int, target_mb: int = FILE_MB) -> bytes:
    """A SYNTHETIC random-walk OHLCV CSV of about ``target_mb`` MB (test data only)."""
    n = target_mb * MIB // 75  # about 75 bytes a row
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = close * np.exp(rng.normal(0, 0.0005, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.0005, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.0005, n)))
    idx = pd.date_range("1990-01-01", periods=n, freq="min", tz="UTC")
    frame = pd.DataFrame({"Date": idx.strftime("%Y-%m-%d %H:%M:%S"), "Open": open_,
                          "High": high, "Low": low, "Close": close,
                          "Volume": rng.integers(1_000, 10_000, n)})
    return frame.to_csv(index=False, float_format="%.6f").encode()


def _make_run_recipe() -> str:
    """The Makefile's ``run`` recipe line (the command ``make run`` serves with)."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    i = lines.index(next(line for line in lines if line.startswith("run:")))
    return lines[i + 1].strip()


def _make_env(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with what the Makefile exports to every recipe (``export NAME ?= value``:
    unless already set; ``export NAME = value``: always)."""
    env = dict(environ)
    for line in (ROOT / "Makefile").read_text().splitlines():
        m = re.match(r"export\s+(\w+)\s*(\??)=\s*(\S*)", line)
        if m and not (m.group(2) and m.group(1) in env):
            env[m.group(1)] = m.group(3)
    return env


def _session_ttl_s() -> int:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    return int(config.get("server", {}).get("disconnectedSessionTTL", 120))


def _rss_mb(proc: psutil.Process) -> float:
    """The server's resident memory, with any child process it started."""
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / MIB


def _settle(pg, timeout_ms: int) -> None:
    """The app frame is up and no script run is going."""
    pg.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                         timeout=timeout_ms)
    time.sleep(0.5)


def _upload_session(browser, url: str, tmp: Path, seed: int, mb: int = FILE_MB):
    """A new tab (its own browser context, so its own Streamlit session) that uploads its own
    SYNTHETIC CSV (``synthetic<seed>.csv``) in the sidebar on the Overview and waits for the
    page to show the bars; returns the context (open)."""
    path = tmp / f"synthetic{seed}.csv"
    path.write_bytes(synthetic_csv(seed, mb))
    name = f"SYNTHETIC{seed}"
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(300_000)
    pg.goto(f"{url}/?symbol=CSV")
    _settle(pg, 300_000)
    pg.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    pg.get_by_text(re.compile(rf"\b{name}\b")).first.wait_for(timeout=300_000)
    _settle(pg, 300_000)
    shown = pg.locator('[data-testid="stException"]').all_inner_texts()
    assert not shown, shown[:1]
    path.unlink()
    return ctx


def _after_close(proc: psutil.Process, ttl_s: int, limit_mb: float) -> tuple[float, float]:
    """RSS once the closed tabs' reconnect window is over: polled from then until it is at
    most ``limit_mb`` or :data:`SETTLE_S` more seconds have gone by; (RSS, seconds waited)."""
    t0 = time.monotonic()
    time.sleep(ttl_s + 5)
    rss = _rss_mb(proc)
    while rss > limit_mb and time.monotonic() - t0 < ttl_s + SETTLE_S:
        time.sleep(5)
        rss = _rss_mb(proc)
    time.sleep(5)  # and it stays there
    return _rss_mb(proc), time.monotonic() - t0


@pytest.mark.e2e
def test_rss_returns_within_10_percent_after_upload_sessions_close(browser, tmp_path):
    """Uses the session's Chromium (tests/e2e/conftest.py: one Playwright per process) for the
    tabs; the server it measures is its own."""
    from ui.warmup import FINISHED

    # started as `make run` starts it: its recipe runs the warm-up launcher on app.py
    assert "-m ui.warmup run app.py" in _make_run_recipe(), _make_run_recipe()
    port = free_port()
    env = {**_make_env(os.environ), "QUANTDESK_OFFLINE": "1",
           "QUANTDESK_DATA_DIR": str(tmp_path / "data")}
    for k in ("QUANTDESK_WARMUP", "DATABASE_URL", "PYTHONMALLOC", "MALLOC_MMAP_THRESHOLD_",
              "MALLOC_ARENA_MAX"):
        env.pop(k, None)  # the suite turns the warm-up off, `make run` does not; the launcher
        # sets the allocator itself (ui.warmup.SERVER_ENV) unless the environment names it
    log = tmp_path / "server.log"
    ttl_s = _session_ttl_s()
    with open(log, "w") as fh:
        server = subprocess.Popen(
            [sys.executable, "-m", "ui.warmup", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=fh,
            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    proc = psutil.Process(server.pid)
    figures = []
    try:
        wait_for_text(log, server, FINISHED, 300, "no warm-up line")
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
            assert r.status == 200
        # warm-up: the page's modules and caches, one small upload, that session reaped
        _upload_session(browser, url, tmp_path, 999, mb=1).close()
        time.sleep(ttl_s + 15)
        start = _rss_mb(proc)
        limit = start * (1 + WITHIN)
        figures.append(f"start {start:.0f} MB (limit {limit:.0f} MB)")
        for round_ in (0, 100):
            tabs = [_upload_session(browser, url, tmp_path, round_ + i)
                    for i in range(N_SESSIONS)]
            opened = _rss_mb(proc)
            for ctx in tabs:
                ctx.close()
            closed, waited = _after_close(proc, ttl_s, limit)
            figures.append(f"{N_SESSIONS} tabs open {opened:.0f} MB "
                           f"(+{opened - start:.0f}), closed {closed:.0f} MB "
                           f"(+{closed - start:.0f}, {100 * (closed / start - 1):+.1f}%) "
                           f"after {waited:.0f} s")
            print("RSS " + "; ".join(figures), flush=True)
            # the measurement sees the uploads while the tabs are open
            assert opened - start > N_SESSIONS * FILE_MB, figures
            assert closed <= limit, figures
    finally:
        stop(server, 20)
