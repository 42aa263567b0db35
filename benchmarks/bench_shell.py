"""Shell benchmark (issue 15, third pass): what the app shell costs a warm visit in Chromium.

The bare reference chart of :mod:`benchmarks.bench_pages` (one Plotly candlestick chart of
252 bundled MSFT bars and its chart-window picker) is served

* **bare page**: alone, as ``bench_pages`` serves it (its own ``streamlit run``);
* **shell**: as the default page of the *real* entry point: ``app.py``'s source is executed
  unchanged by a small launcher (its navigation of 10 pages, the shared sidebar of
  ``ui/sidebar.py``, the sign-in box of ``ui/auth.py``), and the page starts like every market
  page, with ``ui.layout.page_start`` (title, caption, data-status line), then the chart;
* **variants** with one shell part removed at a time (``VARIANTS``): the launcher replaces
  that part for the run (``st.navigation(position="hidden")``, ``draw_sidebar`` returning the
  default selection without widgets, or without the date inputs or the bundled checkbox
  (both rows with the "Date range & data source" expander's widgets drawn, as in a session
  with a date range; ``dates & source drawn`` is that shell with nothing removed),
  ``auth_sidebar`` a no-op or only the sign-in popover's button without its form,
  ``st.Page`` without icons, ``page_start`` without the status line), or all of them
  (``router only``; ``router only + 20 captions`` adds 20 one-line captions above the chart:
  what one more element costs; ``router only + sidebar`` one caption in the sidebar: what
  the sidebar panel costs by itself).

All shell variants are served by one server (``?shell=<variant>`` picks one; an unbound
query parameter, so the app keeps it), beside the bare page's server, and each run visits
every row in a rotated order. A row is timed exactly as ``bench_pages`` times a warm visit
(its ``_visit``: a new browser context, a cold visit, then the timed second visit in the
same context until the script finished and the chart drew its SVG). Per warm visit the
benchmark also records what the browser and the server did:

* ``runs``: script runs the server started for that session (the launcher logs each run),
  so a second run at session start (e.g. a widget whose URL binding forces one) shows;
* ``msgs`` / ``kB``: websocket messages received (one ``ForwardMsg`` each: Streamlit sends one
  delta per element) and their size;
* ``DOM``: elements in the document once settled;
* ``script on`` / ``script off``: when the app's script state turned ``running`` and, last,
  ``notRunning`` (ms after navigation start, from a MutationObserver);
* ``long tasks``: total duration of the main thread's long tasks (> 50 ms) until settled;
* the fonts the page loaded (``performance`` resource entries, counted in ``fonts``);
* ``browser CPU`` / ``server CPU``: CPU seconds the Chromium processes and the row's server
  process used during the warm visit (``psutil``), which the shared machine's load disturbs
  far less than the wall time.

With ``QD_BENCH_SHELL_TRACE=N`` (default 3; 0 turns it off) it then records N more warm
visits per row with Chromium's performance timeline (``browser.start_tracing``) and prints
the medians of the renderer main thread's busy time, split into scripting, style and layout,
and paint (the DevTools timeline's categories).

With ``QD_BENCH_SHELL_PAGES=1`` it also visits the real pages of ``bench_pages.PAGES``
through the same launcher (``?shell=app``: ``app.py`` unchanged, its own default page; data
prepared by :func:`core.bootstrap.bootstrap`, no warm-up thread, so only the counts are
comparable with ``bench_pages``, not the times): script runs, messages, DOM size and browser
CPU of each page's warm visit.

Prints medians per row and the ratio to the bare page. ``QD_BENCH_SHELL_RUNS`` (default 5)
sets the number of runs, ``QD_BENCH_SHELL_ONLY`` (comma-separated variant names) a subset.
``QD_BENCH_SHELL_BASELINE=/path/to/other/checkout`` adds a row for the shell of that checkout
(e.g. a copy of the tree before a change), served by a third server in the same run.
Run: ``.venv/bin/python -m benchmarks shell`` (also part of ``make bench``; results and
method in docs/performance.md, "Third pass"). Loopback only; every server is stopped at the
end.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import quote_plus

from benchmarks.bench_pages import (
    BARE_SCRIPT,
    CHROMIUM,
    CHROMIUM_ARGS,
    _cpu_delta,
    _cpu_times,
    _env,
    _start,
    _visit,
)
from benchmarks.timing import stop_server

ROOT = Path(__file__).resolve().parents[1]
RUN_TAG = "QD_SHELL_RUN"

#: row -> shell parts removed (the launcher's switches)
VARIANTS: dict[str, tuple[str, ...]] = {
    "shell": (),
    # the expander's widgets drawn as when the session has a date range (before the third
    # pass they were always drawn, so there this row is the shell again)
    "dates & source drawn": ("more_drawn",),
    "no navigation": ("nav",),
    "no page icons": ("icons",),
    "no sidebar widgets": ("sidebar",),
    "no date inputs": ("more_drawn", "dates"),
    "no bundled checkbox": ("more_drawn", "bundled"),
    "no sign-in box": ("auth",),
    "sign-in button only": ("auth_form",),
    "no status line": ("status",),
    "router only": ("nav", "icons", "sidebar", "auth", "status"),
    # what one more element costs: 20 one-line captions above the chart
    "router only + 20 captions": ("nav", "icons", "sidebar", "auth", "status", "captions"),
    # what the sidebar panel costs by itself: one caption in it
    "router only + sidebar": ("nav", "icons", "sidebar", "auth", "status", "sidebar_stub"),
}
BASELINE_ROW = "shell (baseline checkout)"

#: sidebar widgets a variant drops (ui.sidebar sees them return these values)
DROPS = {"dates": {"date_input": None}, "bundled": {"checkbox": False}
}

#: the bare chart and its picker, as bench_pages' bare page draws them (no set_page_config)
_CHART = BARE_SCRIPT.split('st.set_page_config(page_title="bare", layout="wide")\n', 1)[1]

#: the default page of the shell: page_start (or only its title and caption), then the chart
PAGE_SCRIPT = textwrap.dedent("""\
    import plotly.graph_objects as go
    import streamlit as st

    from core.data.bundled import load_bundled
    from ui.layout import page_start

    TITLE, CAPTION = "Overview", "The bare reference chart inside the app shell."
    if "status" in st.session_state.get("_qd_shell_off", ()):
        st.title(TITLE)
        st.caption(CAPTION)
    else:
        page_start(TITLE, CAPTION)
    if "sidebar_stub" in st.session_state.get("_qd_shell_off", ()):
        st.sidebar.caption("Quantdesk")
    if "captions" in st.session_state.get("_qd_shell_off", ()):
        for i in range(20):
            st.caption(f"Caption {i + 1} of 20.")
    """) + _CHART

#: runs app.py's own source with the variant's parts replaced for this run only
LAUNCHER = textwrap.dedent("""\
    import sys
    import time
    from pathlib import Path

    ROOT = Path(%(root)r)
    sys.path.insert(0, str(ROOT))

    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    import ui.auth
    import ui.sidebar

    VARIANTS = %(variants)r
    DROPS = %(drops)r
    PAGE = %(page)r
    APP = ROOT / "app.py"

    variant = st.query_params.get("shell", "shell")
    off = set(VARIANTS.get(variant, ()))
    st.session_state["_qd_shell_off"] = tuple(off)
    saved = (st.Page, st.navigation, ui.sidebar.draw_sidebar, ui.auth.auth_sidebar,
             ui.sidebar.st, ui.auth._local_form)
    real_page, real_nav = saved[0], saved[1]


    def page(target, *args, **kwargs):
        real = variant == "app" or target != "views/overview.py"
        target = str(ROOT / target) if real else PAGE
        if "icons" in off:
            kwargs["icon"] = ""  # an explicit "" means no icon
        return real_page(target, *args, **kwargs)


    def navigation(pages, **kwargs):
        if "nav" in off:
            kwargs["position"] = "hidden"
        return real_nav(pages, **kwargs)


    st.Page, st.navigation = page, navigation
    if "sidebar" in off:
        ui.sidebar.draw_sidebar = lambda: ui.sidebar.Selection(ui.sidebar.DEFAULT_SYMBOL, "1d",
                                                               None, None)
    if "auth" in off:
        ui.auth.auth_sidebar = lambda: None
    if "more_drawn" in off:  # as once the session had a date range (ui.sidebar._more_in_use)
        st.session_state[getattr(ui.sidebar, "_MORE_USED", "_qd_more_unused")] = True
    if "auth_form" in off:  # the popover's button, without the form inside
        ui.auth._local_form = lambda box: box.popover("Admin sign-in", icon=":material/lock:",
                                                      width="stretch")


    class Drop:  # streamlit (or st.sidebar) as ui.sidebar sees it, minus some widgets

        def __init__(self, target, drop):
            self._target, self._drop = target, drop

        def __enter__(self):
            return self._target.__enter__()

        def __exit__(self, *exc):
            return self._target.__exit__(*exc)

        def __getattr__(self, name):
            if name in self._drop:
                return lambda *args, **kwargs: self._drop[name]
            attr = getattr(self._target, name)
            if name == "expander":  # the widgets drawn inside it
                return lambda *args, **kwargs: Drop(attr(*args, **kwargs), self._drop)
            return Drop(attr, self._drop) if name == "sidebar" else attr


    drop = {k: v for part in off for k, v in DROPS.get(part, {}).items()}
    if drop:
        ui.sidebar.st = Drop(st, drop)
    t0 = time.perf_counter()
    try:
        exec(compile(APP.read_text(), str(APP), "exec"),
             {"__name__": "__main__", "__file__": str(APP)})
    finally:
        (st.Page, st.navigation, ui.sidebar.draw_sidebar, ui.auth.auth_sidebar,
         ui.sidebar.st, ui.auth._local_form) = saved
        print(f"{RUN_TAG} {get_script_run_ctx().session_id} {variant.replace(' ', '_')} "
              f"{(time.perf_counter() - t0) * 1000:.0f}", flush=True)
    """).replace("{RUN_TAG}", RUN_TAG)

#: installed before any page script: counts script runs, the times the script state changed
#: and the main thread's long tasks
PROBE_JS = """(() => {
    const q = window.__qdProbe = {on: null, off: null, chart: null, longtask: 0, runs: 0};
    try {
        new PerformanceObserver(l => { for (const e of l.getEntries()) q.longtask += e.duration; })
            .observe({type: 'longtask', buffered: true});
    } catch (e) {}
    const look = () => {
        const app = document.querySelector('[data-testid="stApp"]');
        const s = app && app.getAttribute('data-test-script-state');
        if (s === 'running' && q.state !== 'running') { q.runs++; if (q.on === null) q.on = performance.now(); }
        if (s === 'notRunning') q.off = performance.now();
        q.state = s;
        if (q.chart === null && document.querySelector('.js-plotly-plot .main-svg')) q.chart = performance.now();
    };
    new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true,
                                                   attributeFilter: ['data-test-script-state']});
})();"""

STATS_JS = """() => {
    const q = window.__qdProbe || {};
    const res = performance.getEntriesByType('resource');
    const fonts = res.filter(e => /\\.(woff2?|ttf|otf)(\\?|$)/.test(e.name));
    return {dom: document.getElementsByTagName('*').length, on: q.on, off: q.off, chart: q.chart,
            longtask: q.longtask, runs_seen: q.runs,
            fonts: fonts.map(e => e.name.split('/').pop().split('?')[0]),
            resources: res.length};
}"""


def _launcher(tmp: Path, root: Path = ROOT, name: str = "shell") -> Path:
    page = tmp / f"{name}_page.py"
    page.write_text(PAGE_SCRIPT)
    launcher = tmp / f"{name}_app.py"
    launcher.write_text(LAUNCHER % {"root": str(root), "variants": VARIANTS, "drops": DROPS,
                                    "page": str(page)})
    return launcher


def _server_runs(log: Path, offset: int, variant: str) -> tuple[int, list[float]]:
    """Script runs of ``variant`` logged after byte ``offset`` of the launcher's log, and
    their server-side durations [ms]."""
    with open(log, "rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode(errors="replace").splitlines()
    tag = variant.replace(" ", "_")
    ms = [float(ln.split()[3]) for ln in lines
          if ln.startswith(RUN_TAG) and len(ln.split()) == 4 and ln.split()[2] == tag]
    return len(ms), ms


def measure(runs: int | None = None) -> dict:
    """{row: [{"warm": s, "runs": n, "msgs": n, "kB": x, "dom": n, ...} per run]}, and
    ``"_traces"``: {row: [trace_summary per traced visit]}."""
    from playwright.sync_api import sync_playwright

    runs = runs or int(os.environ.get("QD_BENCH_SHELL_RUNS", "5"))
    only = [v for v in os.environ.get("QD_BENCH_SHELL_ONLY", "").split(",") if v]
    variants = [v for v in VARIANTS if not only or v in only]
    tmp = Path(tempfile.mkdtemp(prefix="qd-bench-shell-"))
    env = dict(_env(tmp / "data"), QUANTDESK_WARMUP="0")  # no background loads competing
    app_pages = os.environ.get("QD_BENCH_SHELL_PAGES", "0") == "1"
    if app_pages:
        subprocess.run([sys.executable, "-c", (
            "from core.bootstrap import bootstrap; bootstrap(lambda m: None, "
            "train_missing=False)")], cwd=ROOT, env=env, check=True, timeout=300)
    bare_py = tmp / "bare_page.py"
    bare_py.write_text(BARE_SCRIPT)
    shell_log = tmp / "shell.log"
    procs = []
    try:
        shell_url, p1 = _start(str(_launcher(tmp)), env, shell_log)
        procs.append(p1)
        bare_url, p2 = _start(str(bare_py), env, tmp / "bare.log")
        procs.append(p2)
        rows = ["bare page", *variants]
        urls = {name: (bare_url + "/" if name == "bare page"
                       else f"{shell_url}/?shell={quote_plus(name)}") for name in rows}
        servers = {name: (p2 if name == "bare page" else p1, shell_log) for name in rows}
        baseline = os.environ.get("QD_BENCH_SHELL_BASELINE")
        if baseline:  # the same shell from another checkout, served beside this one
            base_log = tmp / "baseline.log"
            base_url, p3 = _start(str(_launcher(tmp, Path(baseline).resolve(), "baseline")),
                                  env, base_log)
            procs.append(p3)
            rows.append(BASELINE_ROW)
            urls[BASELINE_ROW] = f"{base_url}/?shell=shell"
            servers[BASELINE_ROW] = (p3, base_log)
        out: dict[str, list[dict]] = {r: [] for r in rows}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            try:
                # one untimed visit of each server first: imports and caches of the process
                for url in {bare_url + "/", shell_url + "/?shell=shell",
                            urls.get(BASELINE_ROW, bare_url + "/")}:
                    ctx = browser.new_context()
                    _visit(ctx.new_page(), url)
                    ctx.close()
                for r in range(runs):
                    order = rows[r % len(rows):] + rows[:r % len(rows)]  # rotate the order
                    for name in order:
                        server, log = servers[name]
                        tag = "shell" if name == BASELINE_ROW else name
                        out[name].append(_warm_visit(browser, urls[name], tag, log,
                                                     server.pid))
                if app_pages:
                    out["_pages"] = pages_probe(browser, shell_url, shell_log, p1.pid, runs)
                n_trace = int(os.environ.get("QD_BENCH_SHELL_TRACE", "3"))
                if n_trace:
                    out["_traces"] = traces(browser, urls, n_trace)
            finally:
                browser.close()
        return out
    finally:
        for proc in procs:
            stop_server(proc)


def pages_probe(browser, shell_url: str, shell_log: Path, server_pid: int, runs: int
                ) -> dict[str, list[dict]]:
    """The real app's pages (``?shell=app``): ``_warm_visit`` stats per page and run."""
    from benchmarks.bench_pages import NO_CHART_TEXT, PAGES

    out: dict[str, list[dict]] = {name: [] for name in PAGES}
    for name, path in PAGES.items():  # one untimed visit each: the process's caches
        ctx = browser.new_context()
        _visit(ctx.new_page(), f"{shell_url}/{path}?shell=app", NO_CHART_TEXT.get(name))
        ctx.close()
    for _ in range(runs):
        for name, path in PAGES.items():
            out[name].append(_warm_visit(browser, f"{shell_url}/{path}?shell=app", "app",
                                         shell_log, server_pid, NO_CHART_TEXT.get(name)))
    return out


def _warm_visit(browser, url: str, name: str, shell_log: Path, server_pid: int,
                hint: str | None = None) -> dict:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        ctx.add_init_script(PROBE_JS)
        pg = ctx.new_page()
        frames = {"n": 0, "bytes": 0, "on": False}

        def on_ws(ws):
            def got(payload):
                if frames["on"]:
                    frames["n"] += 1
                    frames["bytes"] += len(payload)
            ws.on("framereceived", got)

        pg.on("websocket", on_ws)
        _visit(pg, url, hint)  # cold, untimed here
        offset = shell_log.stat().st_size
        frames["on"] = True
        cpu0, srv0 = _cpu_times(), _cpu_times([server_pid])
        warm = _visit(pg, url, hint)
        cpu1, srv1 = _cpu_times(), _cpu_times([server_pid])
        frames["on"] = False
        stats = pg.evaluate(STATS_JS)
        pg.wait_for_timeout(300)  # a late extra run would be logged by now
        n_runs, ms = _server_runs(shell_log, offset, name)
        if name == "bare page":
            n_runs, ms = stats["runs_seen"], []
        return {"warm": warm, "runs": n_runs, "server_ms": sum(ms), "msgs": frames["n"],
                "browser_cpu": _cpu_delta(cpu0, cpu1), "server_cpu": _cpu_delta(srv0, srv1),
                "kB": frames["bytes"] / 1024, **stats}
    finally:
        ctx.close()


#: DevTools timeline event names per category (top-level events only are summed)
TRACE_CATEGORIES = {
    "scripting": {"FunctionCall", "EvaluateScript", "v8.evaluateModule", "TimerFire",
                  "FireAnimationFrame", "EventDispatch", "RunMicrotasks", "v8.compile",
                  "v8.compileModule", "ParseHTML", "MinorGC", "MajorGC"},
    "style+layout": {"UpdateLayoutTree", "Layout", "RecalculateStyles", "InvalidateLayout"},
    "paint": {"Paint", "PrePaint", "Layerize", "Commit", "UpdateLayer", "PaintImage",
              "CompositeLayers", "Decode Image"},
}


def trace_summary(trace: dict) -> dict[str, float]:
    """Milliseconds of the renderer main thread: busy (its ``RunTask`` slices) and per
    category of ``TRACE_CATEGORIES``, counting an event only when no other event of the same
    category encloses it."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"
             and e.get("args", {}).get("name") == "CrRendererMain"}
    slices = [e for e in events if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in mains
              and "dur" in e]
    out = {"busy": sum(e["dur"] for e in slices if e["name"] == "RunTask") / 1000}
    for cat, names in TRACE_CATEGORIES.items():
        evs = sorted((e for e in slices if e["name"] in names), key=lambda e: (e["ts"], -e["dur"]))
        total, end = 0.0, -1.0
        for e in evs:
            if e["ts"] >= end:  # not inside the previous counted event
                total += e["dur"]
                end = e["ts"] + e["dur"]
        out[cat] = total / 1000
    return out


def traces(browser, urls: dict[str, str], n: int) -> dict[str, list[dict]]:
    """{row: [trace_summary of one traced warm visit] * n}."""
    import json

    out: dict[str, list[dict]] = {name: [] for name in urls}
    for _ in range(n):
        for name, url in urls.items():
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            try:
                pg = ctx.new_page()
                _visit(pg, url)
                browser.start_tracing(page=pg, categories=[
                    "devtools.timeline", "disabled-by-default-devtools.timeline", "v8",
                    "toplevel"])
                _visit(pg, url)
                out[name].append(trace_summary(json.loads(browser.stop_tracing())))
            finally:
                ctx.close()
    return out


def trace_table(tr: dict[str, list[dict]]) -> str:
    cols = ["busy", *TRACE_CATEGORIES]
    lines = ["| row (traced warm visit) | " + " | ".join(f"{c} [ms]" for c in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for name, vs in tr.items():
        lines.append(f"| {name} | " + " | ".join(f"{_med(v[c] for v in vs):.0f}" for c in cols)
                     + " |")
    n = len(next(iter(tr.values()), []))
    lines.append(f"(medians of {n} traced warm visits per row; renderer main thread)")
    return "\n".join(lines)


def _med(xs) -> float:
    """Median of the values that are not None (nan when none is)."""
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def table(out: dict) -> str:
    """Markdown table of the medians per row, ratios to the bare page's."""
    bare = _med(v["warm"] for v in out["bare page"])
    bare_cpu = _med(v["browser_cpu"] for v in out["bare page"])
    head = ("| row | warm [s] | / bare | browser CPU [s] | / bare | server CPU [s] "
            "| script runs | script [ms] | msgs | kB | DOM | script on [ms] "
            "| script off [ms] | chart [ms] | long tasks [ms] | fonts |")
    lines = [head, "|---|" + "---:|" * 15]
    for name, vs in out.items():
        w = _med(v["warm"] for v in vs)
        fonts = max((len(v["fonts"]) for v in vs), default=0)
        cpu = _med(v["browser_cpu"] for v in vs)
        lines.append(
            f"| {name} | {w:.2f} | {w / bare:.2f} | {cpu:.2f} | {cpu / bare_cpu:.2f} "
            f"| {_med(v['server_cpu'] for v in vs):.2f} | {_med(v['runs'] for v in vs):.0f} "
            f"| {_med(v['server_ms'] for v in vs):.0f} | {_med(v['msgs'] for v in vs):.0f} "
            f"| {_med(v['kB'] for v in vs):.1f} | {_med(v['dom'] for v in vs):.0f} "
            f"| {_med(v['on'] for v in vs):.0f} | {_med(v['off'] for v in vs):.0f} "
            f"| {_med(v['chart'] for v in vs):.0f} | {_med(v['longtask'] for v in vs):.0f} "
            f"| {fonts} |")
    n = len(out["bare page"])
    all_fonts = sorted({f for vs in out.values() for v in vs for f in v["fonts"]})
    lines.append(f"(medians of {n} warm visits per row; fonts loaded: "
                 f"{', '.join(all_fonts) or 'none'})")
    return "\n".join(lines)


def run() -> None:
    if not Path(CHROMIUM).exists():
        print(f"   skipped: {CHROMIUM} is missing")
        return
    t0 = time.time()
    out = measure()
    tr = out.pop("_traces", None)
    pages = out.pop("_pages", None)
    print(table(out))
    if pages:
        print("Real pages (?shell=app; counts comparable, times not: no warm-up thread):")
        print(table({"bare page": out["bare page"], **pages}))
    if tr:
        print(trace_table(tr))
    print(f"   load average at the end: {os.getloadavg()[0]:.1f} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    sys.exit(run())
