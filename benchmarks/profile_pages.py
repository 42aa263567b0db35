"""Where a page's warm visit spends the browser's time (issue 15): a diagnostic, not a benchmark.

Starts the app and the bare reference page exactly as :mod:`benchmarks.bench_pages` does, and
for the bare page and each page given, in a new browser context, makes a cold visit, then a
warm visit recorded two ways:

* **milestones** (ms after navigation start, medians over the runs): the websocket opened,
  the first and last websocket message, the script state turned ``running`` and back to
  ``notRunning``, the first Plotly chart drew its SVG, and settled (``bench_pages``' test);
* **main-thread JS CPU by script file** (Chrome DevTools Protocol ``Profiler``, 200 µs
  sampling, mean over the runs): e.g. ``PlotlyChart`` (the chart), ``StreamlitMarkdown``
  (markdown parsing and rendering), ``react-dom``; ``(program)`` is native work (style,
  layout, parsing), ``(idle)`` waiting.

Usage: ``.venv/bin/python -m benchmarks.profile_pages /,risk-sizing [runs]`` (what the
seventh pass read it for: docs/performance.md). Loopback only; all servers are stopped.
"""

from __future__ import annotations

import collections
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_pages import (BARE_SCRIPT, CHROMIUM, CHROMIUM_ARGS, NO_CHART_TEXT, ROOT,
                                    _env, _start, _visit, _wait_for_warmup)
from benchmarks.timing import stop_server

#: records milestones in ``window.__ms`` (ms after navigation start) from the page's start
MILESTONES_JS = """
window.__ms = {};
const mark = (k) => { if (!(k in window.__ms)) window.__ms[k] = performance.now(); };
const NativeWS = window.WebSocket;
window.WebSocket = function (...args) {
  const ws = new NativeWS(...args);
  ws.addEventListener('open', () => mark('ws_open'));
  ws.addEventListener('message', () => { mark('msg_first'); window.__ms.msg_last = performance.now(); });
  return ws;
};
window.WebSocket.prototype = NativeWS.prototype;
Object.assign(window.WebSocket, NativeWS);
new MutationObserver(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (app) {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') mark('running');
    if (state === 'notRunning' && window.__ms.running) mark('done');
  }
  if (document.querySelector('.js-plotly-plot .main-svg')) mark('chart');
}).observe(document, {subtree: true, childList: true, attributes: true});
"""
MILESTONES = ["ws_open", "msg_first", "running", "done", "msg_last", "chart", "settled"]


def _profile_visit(ctx, url: str, hint: str | None) -> tuple[dict, collections.Counter]:
    page = ctx.new_page()
    _visit(page, url, hint)  # cold: the timed visit below is the warm one
    cdp = ctx.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    cdp.send("Profiler.start")
    _visit(page, url, hint)
    profile = cdp.send("Profiler.stop")["profile"]
    ms = page.evaluate("window.__ms")
    ms["settled"] = page.evaluate("performance.now()")
    nodes = {n["id"]: n["callFrame"] for n in profile["nodes"]}
    by_file: collections.Counter = collections.Counter()
    for sample, dt_us in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[sample]
        name = frame["url"].rsplit("/", 1)[-1].split(".")[0] or frame["functionName"]
        by_file[name] += dt_us / 1000
    return ms, by_file


def profile(pages: list[str], runs: int = 3, top: int = 10) -> None:
    """Print the milestones and the JS CPU by script file of the bare page and ``pages``."""
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="qd-profile-pages-"))
    env = _env(tmp / "data")
    subprocess.run([sys.executable, "-c", "from core.bootstrap import bootstrap; "
                    "bootstrap(lambda m: None, train_missing=False)"],
                   cwd=ROOT, env=env, check=True, timeout=300)
    (tmp / "bare_page.py").write_text(BARE_SCRIPT)
    app_url, app = _start("app.py", env, tmp / "app.log", launcher="ui.warmup")
    bare = None
    try:
        _wait_for_warmup(tmp / "app.log", app)
        bare_url, bare = _start(str(tmp / "bare_page.py"), env, tmp / "bare.log")
        targets = {"bare page": bare_url + "/"}
        targets.update({p: f"{app_url}/{p.strip('/')}" for p in pages})
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            try:
                for name, url in targets.items():
                    marks, cpu = [], collections.Counter()
                    for _ in range(runs):
                        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                        ctx.add_init_script(MILESTONES_JS)
                        try:
                            ms, by_file = _profile_visit(ctx, url,
                                                         NO_CHART_TEXT.get(name.strip("/")))
                        finally:
                            ctx.close()
                        marks.append(ms)
                        cpu.update({k: v / runs for k, v in by_file.items()})
                    med = {k: statistics.median([m.get(k, float("nan")) for m in marks])
                           for k in MILESTONES}
                    print(f"== {name}: " + " · ".join(f"{k} {v:.0f}" for k, v in med.items())
                          + " ms")
                    busy = sum(v for k, v in cpu.items() if k != "(idle)")
                    print(f"   main thread busy {busy:.0f} ms: " + ", ".join(
                        f"{k} {v:.0f}" for k, v in cpu.most_common(top)))
            finally:
                browser.close()
    finally:
        for proc in (app, bare):
            if proc is not None:
                stop_server(proc)


if __name__ == "__main__":
    profile([p for p in sys.argv[1].split(",") if p] if len(sys.argv) > 1 else [],
            int(sys.argv[2]) if len(sys.argv) > 2 else 3)
