"""Page benchmark (issue 15): time to the first chart of every page in headless Chromium,
beside a bare one-candlestick-chart Streamlit page served at the same time.

Starts the app as ``make run`` does (``python -m ui.warmup run app.py``: ``streamlit run``
with the background warm-up started at server start; offline, private temp data dir prepared
by :func:`core.bootstrap.bootstrap` without training), waits until that warm-up printed that
it finished, and starts a bare reference script (one Plotly candlestick chart of the bundled
MSFT bars and one chart-window picker) on free loopback ports, then drives Debian's
Chromium through Playwright. Per page and run: a new browser context opens the page by URL
("cold": new browser session, server already running) and then opens it again in the same
context ("warm"), once the first visit's page is quiet (its chart finished drawing: see
``QUIET_JS``). Timed from ``goto`` until the app settled (script state ``notRunning``, no
``stStatusWidget``) and the first ``.js-plotly-plot`` has drawn its SVG. The "first" column
is the very first visit of each page after the server started (one sample, run 0).
Pages without a chart until the user acts (Screener before a scan, Paper Book before two
marks, Model Monitoring on an empty store) are settled when their hint is shown.

Then one widget interaction per page ("interaction"): a widget is changed (the chart window,
a sizing input, a horizon, a toggle; see ``ACTIONS``) on a quiet page and timed from the
click or key press until the rerun it caused has finished and the page settled again. The
bare page has one widget too (a chart-window picker that redraws its chart), whose rerun is
the reference.
The Screener's "interaction" is its Scan button: time until the scan's table is shown.

Prints per page the medians and the ratio to the bare page's median of the same run; the
issue's targets are warm <= 1.3x, first visit <= 2x and interaction <= 1.3x. Also the CPU
seconds the Chromium processes used during the warm visit (``psutil``; absent without it),
which a shared machine's load disturbs far less than the wall time.

``QD_BENCH_PAGES_RUNS`` (default 5) sets the number of runs; ``QD_BENCH_PAGES_ONLY`` (comma-
separated row names, e.g. ``patterns,risk-sizing``) measures only those pages beside the bare
one. ``QD_BENCH_PAGES_BASELINE=/path/to/other/checkout`` also starts that checkout's app
(same launcher, its own data dir) and measures each page there right after this one's, as
rows "<page> (baseline)": a before/after comparison within one run. Everything is
loopback-only and bounded by timeouts; all servers are stopped at the end.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from benchmarks.timing import free_port, serve, stop_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {"/": "", "screener": "screener", "patterns": "patterns", "forecasts": "forecasts",
         "sentiment": "sentiment", "volatility": "volatility", "risk-sizing": "risk-sizing",
         "strategy-lab": "strategy-lab", "paper": "paper", "monitoring": "monitoring"}
#: pages that show a hint instead of a chart until the user acts: that hint counts as settled
NO_CHART_TEXT = {"monitoring": "No predictions logged yet",
                 "screener": "and press Scan",
                 "paper": "The equity curve appears once"}
TIMEOUT_MS = 90_000
ACTION_TIMEOUT_MS = 30_000

BARE_SCRIPT = textwrap.dedent("""\
    import plotly.graph_objects as go
    import streamlit as st

    from core.data.bundled import load_bundled

    st.set_page_config(page_title="bare", layout="wide")
    n = {"3M": 63, "6M": 126, "1Y": 252}[st.segmented_control(
        "Chart window", ["3M", "6M", "1Y"], default="1Y", key="w") or "1Y"]
    f = load_bundled("MSFT").tail(n)
    st.plotly_chart(go.Figure(go.Candlestick(x=f.index, open=f["open"], high=f["high"],
                                             low=f["low"], close=f["close"])))
    """)

# settled: the script finished, no running/connecting widget, and a chart drew its SVG
# after an action: additionally a rerun started since WATCH_JS ran (and, with a selector,
# that element is shown: the Screener's result table)
SETTLED_JS = """([hint, rerun, selector]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (rerun && !(window.__qdRuns > 0)) return false;
    if (selector) return !!document.querySelector(selector);
    if (document.querySelector('.js-plotly-plot .main-svg')) return true;
    return !!hint && document.body.innerText.includes(hint);
}"""
# count the script runs from now on (the app's script-state attribute): a run that started
# and ended before the observer's callback ran is seen by its record's old value
WATCH_JS = """() => {
    window.__qdRuns = 0;
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver((records) => {
        if (app.getAttribute('data-test-script-state') === 'running'
            || records.some((r) => r.oldValue === 'running')) window.__qdRuns++;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state'],
                     attributeOldValue: true});
}"""


# the page is quiet: QUIET_FRAMES idle callbacks in a row with >= 8 ms to spare each (no long
# task between them), or ``ms`` passed. Each timed step starts from a quiet page, so it is not
# charged with the previous step's leftover drawing (Plotly goes on drawing after its SVG
# exists: a warm visit started at once paid ~100 ms of the cold visit's chart on the heavier
# pages against ~20 ms on the bare page; docs/performance.md, eleventh and fifteenth passes).
QUIET_FRAMES = 5
QUIET_JS = """(ms) => new Promise((resolve) => {
    const t0 = performance.now();
    let run = 0;
    const check = (deadline) => {
        run = deadline.timeRemaining() >= 8 ? run + 1 : 0;
        if (run >= %d || performance.now() - t0 > ms) resolve(performance.now() - t0);
        else requestIdleCallback(check);
    };
    requestIdleCallback(check);
})""" % QUIET_FRAMES


def _quiet(page, ms: int = 3000) -> float:
    """Wait (untimed) until the page is quiet, at most ``ms``; the wait in ms."""
    return page.evaluate(QUIET_JS, ms)


def _ready(locator):
    """``locator``'s click, once it is shown (untimed): a popover or tab mounts its widgets
    after it opens, and that wait is not the rerun being measured."""
    locator.wait_for(state="visible", timeout=TIMEOUT_MS)
    return locator.click


def _group_button(label):  # an option of a segmented control or of pills, clicked
    def prepare(page):
        return _ready(page.locator('[data-testid="stButtonGroup"] button', has_text=label).first)
    return prepare


def _step_up(page):  # the page's first visible number input, one step up
    return _ready(page.locator('[data-testid="stNumberInputStepUp"]:visible').first)


def _number_enter(label: str, value: str):
    def prepare(page):  # type a new value (untimed), then Enter commits it (timed)
        box = page.get_by_label(label, exact=True)
        box.wait_for(state="visible", timeout=TIMEOUT_MS)
        box.fill(value)
        return lambda: box.press("Enter")
    return prepare


def _radio(tab: str | None, option: int):
    def prepare(page):
        if tab:  # untimed: open the tab (a lazy tab reruns the page) and let it settle
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(300)
            page.wait_for_function(SETTLED_JS, arg=[None, False, '[data-testid="stRadio"]'],
                                   timeout=TIMEOUT_MS, polling=25)
        return _ready(page.locator('[data-testid="stRadio"] [role="radiogroup"] label')
                      .nth(option))
    return prepare


def _toggle(label):
    def prepare(page):
        return _ready(page.locator('[data-testid="stCheckbox"]', has_text=label).first)
    return prepare


def _button(label):
    def prepare(page):
        return _ready(page.get_by_role("button", name=label, exact=True).first)
    return prepare


def _in_popover(label, inner):
    def prepare(page):  # untimed: open the popover (no rerun), then the widget's own prepare
        button = page.locator('[data-testid="stPopover"] button', has_text=label).first
        if button.count():  # a checkout from before the popovers has the widget in the page
            button.click()
            page.locator('[data-testid="stPopoverBody"]').first.wait_for()
        return inner(page)
    return prepare


#: per row: prepare(page) -> the timed action (clicks that only open a dropdown or a tab are
#: done in prepare, untimed), and a selector that must be shown afterwards (or None)
ACTIONS = {
    "bare page": (_group_button("6M"), None),
    "/": (_in_popover("Refresh & replay", _toggle("Pause auto-refresh")), None),
    "screener": (_button("Scan"), '[data-testid="stDataFrame"]'),
    "patterns": (_in_popover("Bars & patterns", _group_button("doji")), None),  # a pill
    # the importances' horizon, in its lazy tab (opened untimed)
    "forecasts": (_radio("Feature importance of the active model", 1), None),
    "sentiment": (_group_button("6M"), None),
    # a lazy tab: with Evaluation open no chart is drawn, so its radio marks "settled"
    "volatility": (_radio("Evaluation", 1), '[data-testid="stRadio"]'),
    "risk-sizing": (_in_popover("Account & risk", _step_up), None),  # Equity, one step up
    "strategy-lab": (_group_button("6M"), None),
    # its quantity input is too narrow for +/- buttons
    "paper": (_number_enter("Quantity [units]", "11"), None),
    "monitoring": (_in_popover("Feature drift", _step_up), None),  # its recent window
}


def _env(data_dir: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUANTDESK_OFFLINE="1", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", QUANTDESK_DATA_DIR=str(data_dir))
    for k in ("DATABASE_URL", "QUANTDESK_ADMIN_HASHES", "QUANTDESK_ADMIN_EMAILS"):
        env.pop(k, None)
    return env


def _start(script: str, env: dict, log: Path, launcher: str = "streamlit",
           cwd: Path | None = None) -> tuple[str, subprocess.Popen]:
    """Serve ``script`` on a free port; ``cwd``: run it from another checkout (``env -C``)."""
    port = free_port()
    chdir = ["env", "-C", str(cwd)] if cwd is not None else []
    return serve([*chdir, sys.executable, "-m", launcher, "run", script, "--server.headless",
                  "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                  "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                 port, "/_stcore/health", env, log)


def _wait_for_warmup(log: Path, proc: subprocess.Popen, timeout_s: float = 300) -> float:
    """Seconds from now until the app's background warm-up printed that it finished (the
    first visit is measured after it, as a user arriving a few minutes after a restart)."""
    from ui.warmup import FINISHED

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if FINISHED in log.read_text(errors="replace"):
            return time.monotonic() - t0
        if proc.poll() is not None:
            raise RuntimeError(f"app exited: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    raise TimeoutError(f"no '{FINISHED}' line in {log} after {timeout_s:.0f} s")


def _cpu_times(pids: list[int] | None = None) -> dict[int, float]:
    """{pid: user+system CPU seconds} of ``pids``, or of this process's Chromium
    descendants when ``pids`` is None (empty without psutil)."""
    try:
        import psutil
    except ImportError:
        return {}
    procs = (psutil.Process().children(recursive=True) if pids is None
             else [psutil.Process(p) for p in pids])
    out = {}
    for proc in procs:
        try:
            if pids is None and not proc.name().startswith("chrom"):
                continue
            t = proc.cpu_times()
            out[proc.pid] = t.user + t.system
        except psutil.Error:  # exited meanwhile
            pass
    return out


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float | None:
    """CPU seconds used between two :func:`_cpu_times` (None without psutil)."""
    if not after:
        return None
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def _visit(page, url: str, hint: str | None = None) -> float:
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function(SETTLED_JS, arg=[hint, False, None], timeout=TIMEOUT_MS,
                           polling=25)
    return time.perf_counter() - t0


def _interact(page, name: str, hint: str | None = None) -> float:
    """Change the row's widget (``ACTIONS``) and time until its rerun has settled."""
    prepare, selector = ACTIONS[name]
    _quiet(page)
    act = prepare(page)
    _quiet(page)
    page.evaluate(WATCH_JS)
    t0 = time.perf_counter()
    act()
    page.wait_for_function(SETTLED_JS, arg=[hint, True, selector], timeout=ACTION_TIMEOUT_MS,
                           polling=25)
    return time.perf_counter() - t0


def measure(runs: int | None = None) -> dict:
    """{row: {"first": s, "cold": [s...], "warm": [s...], "interaction": [s...]}} for the
    bare page and each page."""
    from playwright.sync_api import sync_playwright

    runs = runs or int(os.environ.get("QD_BENCH_PAGES_RUNS", "5"))
    tmp = Path(tempfile.mkdtemp(prefix="qd-bench-pages-"))
    env = _env(tmp / "data")
    baseline = os.environ.get("QD_BENCH_PAGES_BASELINE")
    base_root = Path(baseline).resolve() if baseline else None
    base_env = dict(_env(tmp / "base-data"), PYTHONPATH=str(base_root)) if base_root else None
    for root, e in ((ROOT, env), (base_root, base_env)):
        if root is not None:
            subprocess.run([sys.executable, "-c", (
                "from core.bootstrap import bootstrap; "
                "bootstrap(lambda m: None, train_missing=False)")],
                cwd=root, env=e, check=True, timeout=300)
    bare_py = tmp / "bare_page.py"
    bare_py.write_text(BARE_SCRIPT)
    procs = []
    try:
        # as `make run` starts it: the warm-up begins at server start (ui/warmup.py)
        app_url, p1 = _start("app.py", env, tmp / "app.log", launcher="ui.warmup")
        procs.append(p1)
        base_url = None
        if base_root is not None:  # the other checkout's app, started the same way
            base_url, p3 = _start("app.py", base_env, tmp / "base.log", launcher="ui.warmup",
                                  cwd=base_root)
            procs.append(p3)
        warmup_s = _wait_for_warmup(tmp / "app.log", p1)
        if base_url is not None:
            _wait_for_warmup(tmp / "base.log", p3)
        bare_url, p2 = _start(str(bare_py), env, tmp / "bare.log")
        procs.append(p2)
        only = [p for p in os.environ.get("QD_BENCH_PAGES_ONLY", "").split(",") if p]
        pages = {k: v for k, v in PAGES.items() if not only or k in only}
        names = ["bare page"]
        for k in pages:
            names += [k, f"{k} (baseline)"] if base_url else [k]
        rows: dict[str, dict] = {k: {"first": None, "cold": [], "warm": [], "interaction": [],
                                     "warm_cpu": []} for k in names}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            try:
                for r in range(runs):
                    targets = [("bare page", bare_url + "/")]
                    for name, path in pages.items():
                        pair = [(name, f"{app_url}/{path}")]
                        if base_url:  # which app goes first alternates between runs
                            pair.append((f"{name} (baseline)", f"{base_url}/{path}"))
                        targets += pair[::-1] if r % 2 else pair
                    for name, url in targets:
                        page_name = name.removesuffix(" (baseline)")
                        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                        try:
                            pg = ctx.new_page()
                            hint = NO_CHART_TEXT.get(page_name)
                            cold = _visit(pg, url, hint)
                            _quiet(pg)  # the cold visit's chart finished drawing
                            cpu0 = _cpu_times()
                            warm = _visit(pg, url, hint)
                            warm_cpu = _cpu_delta(cpu0, _cpu_times())
                            try:
                                act = _interact(pg, page_name, hint)
                            except Exception as err:  # noqa: BLE001 - reported, row kept
                                print(f"   {name}: interaction failed in run {r + 1} "
                                      f"({type(err).__name__}: {str(err)[:200]})",
                                      file=sys.stderr)
                                act = float("nan")
                        finally:
                            ctx.close()
                        rows[name]["cold"].append(cold)
                        rows[name]["warm"].append(warm)
                        rows[name]["warm_cpu"].append(warm_cpu)
                        rows[name]["interaction"].append(act)
                        if r == 0:
                            rows[name]["first"] = cold
            finally:
                browser.close()
        rows["bare page"]["warmup_s"] = warmup_s
        return rows
    finally:
        for proc in procs:
            stop_server(proc)


def _median(xs: list[float | None]) -> float:
    ok = [x for x in xs if x is not None and not math.isnan(x)]  # failed interactions: NaN
    return statistics.median(ok) if ok else float("nan")


def table(rows: dict) -> str:
    """Markdown table: first visit, cold, warm and interaction medians [s] and their ratios to
    the bare page's medians (first visit against the bare page's cold median), and the CPU
    seconds Chromium used during the warm visit (less disturbed by a busy machine than the
    wall time) with its ratio."""
    bare = rows["bare page"]
    b_cold, b_warm = statistics.median(bare["cold"]), statistics.median(bare["warm"])
    b_act = _median(bare["interaction"])
    b_cpu = _median(bare.get("warm_cpu", []))
    n = len(bare["cold"])
    out = [("| page | first visit [s] | cold [s] | warm [s] | interaction [s] "
            "| first / bare | cold / bare | warm / bare | interaction / bare "
            "| warm browser CPU [s] | CPU / bare |"),
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, v in rows.items():
        c, w = statistics.median(v["cold"]), statistics.median(v["warm"])
        a, cpu = _median(v["interaction"]), _median(v.get("warm_cpu", []))
        out.append(f"| {name} | {v['first']:.2f} | {c:.2f} | {w:.2f} | {a:.2f} "
                   f"| {v['first'] / b_cold:.1f} | {c / b_cold:.1f} | {w / b_warm:.1f} "
                   f"| {a / b_act:.1f} | {cpu:.2f} | {cpu / b_cpu:.2f} |")
    out.append(f"(medians of {n} runs; the app's warm-up finished "
               f"{bare.get('warmup_s', float('nan')):.0f} s after the server was up)")
    return "\n".join(out)


def run() -> None:
    if not Path(CHROMIUM).exists():
        print(f"   skipped: {CHROMIUM} is missing")
        return
    print(table(measure()))


if __name__ == "__main__":
    run()
