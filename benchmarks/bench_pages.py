"""Page benchmark (issue 15): time to the first chart of every page in headless Chromium,
beside a bare one-candlestick-chart Streamlit page served at the same time.

Starts ``streamlit run app.py`` (offline, private temp data dir prepared by
:func:`core.bootstrap.bootstrap` without training) and a bare reference script (one Plotly
candlestick chart of the bundled MSFT bars) on free loopback ports, then drives Debian's
Chromium through Playwright. Per page and run: a new browser context opens the page by URL
("cold": new browser session, server already running) and then opens it again in the same
context ("warm"). Timed from ``goto`` until the app settled (script state ``notRunning``, no
``stStatusWidget``) and the first ``.js-plotly-plot`` has drawn its SVG. The "first" column
is the very first visit of each page after the server started (one sample, run 0).

Prints per page the medians and the ratio to the bare page's median of the same run; the
issue's targets are warm <= 1.3x and first visit <= 2x.

``QD_BENCH_PAGES_RUNS`` (default 5) sets the number of runs. Everything is loopback-only and
bounded by timeouts; both servers are stopped at the end.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {"/": "", "patterns": "patterns", "forecasts": "forecasts", "sentiment": "sentiment",
         "volatility": "volatility", "risk-sizing": "risk-sizing",
         "monitoring": "monitoring"}
NO_CHART_OK = {"monitoring"}  # empty prediction store: a hint instead of a chart is settled
TIMEOUT_MS = 90_000

BARE_SCRIPT = textwrap.dedent("""\
    import plotly.graph_objects as go
    import streamlit as st

    from core.data.bundled import load_bundled

    st.set_page_config(page_title="bare", layout="wide")
    f = load_bundled("MSFT").tail(252)
    st.plotly_chart(go.Figure(go.Candlestick(x=f.index, open=f["open"], high=f["high"],
                                             low=f["low"], close=f["close"])))
    """)

# settled: the script finished, no running/connecting widget, and a chart drew its SVG
SETTLED_JS = """(noChartOk) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (document.querySelector('.js-plotly-plot .main-svg')) return true;
    return noChartOk && document.body.innerText.includes('No predictions logged yet');
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUANTDESK_OFFLINE="1", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", QUANTDESK_DATA_DIR=str(data_dir))
    for k in ("DATABASE_URL", "QUANTDESK_ADMIN_HASHES", "QUANTDESK_ADMIN_EMAILS"):
        env.pop(k, None)
    return env


def _start(script: str, env: dict, log: Path) -> tuple[str, subprocess.Popen]:
    port = _free_port()
    with open(log, "w") as fh:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit {script} exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return url, proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise TimeoutError(f"{url} did not become healthy")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _visit(page, url: str, no_chart_ok: bool = False) -> float:
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function(SETTLED_JS, arg=no_chart_ok, timeout=TIMEOUT_MS, polling=25)
    return time.perf_counter() - t0


def measure(runs: int | None = None) -> dict:
    """{row: {"first": s, "cold": [s...], "warm": [s...]}} for the bare page and each page."""
    from playwright.sync_api import sync_playwright

    runs = runs or int(os.environ.get("QD_BENCH_PAGES_RUNS", "5"))
    tmp = Path(tempfile.mkdtemp(prefix="qd-bench-pages-"))
    env = _env(tmp / "data")
    subprocess.run([sys.executable, "-c", ("from core.bootstrap import bootstrap; "
                                           "bootstrap(lambda m: None, train_missing=False)")],
                   cwd=ROOT, env=env, check=True, timeout=300)
    bare_py = tmp / "bare_page.py"
    bare_py.write_text(BARE_SCRIPT)
    procs = []
    try:
        app_url, p1 = _start("app.py", env, tmp / "app.log")
        procs.append(p1)
        bare_url, p2 = _start(str(bare_py), env, tmp / "bare.log")
        procs.append(p2)
        rows: dict[str, dict] = {k: {"first": None, "cold": [], "warm": []}
                                 for k in ["bare page", *PAGES]}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            try:
                for r in range(runs):
                    targets = [("bare page", bare_url + "/")] + [
                        (name, f"{app_url}/{path}") for name, path in PAGES.items()]
                    for name, url in targets:
                        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                        try:
                            pg = ctx.new_page()
                            cold = _visit(pg, url, name in NO_CHART_OK)
                            warm = _visit(pg, url, name in NO_CHART_OK)
                        finally:
                            ctx.close()
                        rows[name]["cold"].append(cold)
                        rows[name]["warm"].append(warm)
                        if r == 0:
                            rows[name]["first"] = cold
            finally:
                browser.close()
        return rows
    finally:
        for proc in procs:
            _stop(proc)


def table(rows: dict) -> str:
    """Markdown table: first visit, cold and warm medians [s] and their ratios to the bare
    page's medians (first visit against the bare page's cold median)."""
    bare = rows["bare page"]
    b_cold, b_warm = statistics.median(bare["cold"]), statistics.median(bare["warm"])
    n = len(bare["cold"])
    out = [(f"| page | first visit [s] | cold, median of {n} [s] | warm, median of {n} [s] "
            "| first / bare | cold / bare | warm / bare |"), "|---|---:|---:|---:|---:|---:|---:|"]
    for name, v in rows.items():
        c, w = statistics.median(v["cold"]), statistics.median(v["warm"])
        out.append(f"| {name} | {v['first']:.2f} | {c:.2f} | {w:.2f} | {v['first'] / b_cold:.1f} "
                   f"| {c / b_cold:.1f} | {w / b_warm:.1f} |")
    return "\n".join(out)


def run() -> None:
    if not Path(CHROMIUM).exists():
        print(f"   skipped: {CHROMIUM} is missing")
        return
    print(table(measure()))


if __name__ == "__main__":
    run()
