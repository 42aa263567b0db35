"""Screener page benchmark (issue 19): the table of a cached 500-symbol SYNTHETIC scan,
opened by URL in headless Chromium, beside the bare reference page of
:mod:`benchmarks.bench_pages` served in the same run.

The universe is the SYNTHETIC one (:mod:`core.screener.synthetic`: block-bootstrapped
bundled bars named SYNTH-0001..., load-test data, never market data). The app server alone
offers it, through ``QUANTDESK_SYNTHETIC_UNIVERSE`` (its number of symbols).

1. A private data dir is prepared as :mod:`benchmarks.bench_pages` prepares it (offline,
   bootstrap without training).
2. The scan of the SYNTHETIC universe is run once, in its own process (engine ``auto``: Ray
   for 500 symbols), and cached (:func:`core.screener.scan.scan`).
3. The app is started as ``make run`` starts it (its warm-up finished), and the bare page
   (one candlestick chart, one widget) beside it. Per run, a new browser context opens each
   page by URL twice: *cold* (a new browser session) and *warm* (the same browser again;
   each visit is a new Streamlit session). The Screener is opened as
   ``/screener?universe=synthetic&interval=1d``, which shows the latest cached scan of that
   universe; it is timed from ``goto`` until the app settled, the table
   (``stDataFrame``) is shown and the caption says "500 of 500 rows match". The bare page
   is timed as in :mod:`benchmarks.bench_pages` (until its chart has drawn).

Prints the medians of ``QD_BENCH_SCREENER_PAGE_RUNS`` runs (default 7; at least 5), the
ratios to the bare page of the same run, and the load average. The issue's target: the
table appears within 1.3x of the bare page (warm visits; cold visits are printed too).
``QD_BENCH_SCREENER_PAGE_SYMBOLS`` (default 500) sizes the universe.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_pages import (BARE_SCRIPT, CHROMIUM, CHROMIUM_ARGS, SETTLED_JS,
                                    TIMEOUT_MS, _env, _start, _visit, _wait_for_warmup)
from benchmarks.timing import stop_server

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.3
#: settled (bench_pages' SETTLED_JS with the table as the element to wait for) and the
#: caption of the full table shown
TABLE_JS = (f"([sel, text]) => ({SETTLED_JS})([null, false, sel]) "
            "&& document.body.innerText.includes(text)")
SCAN_CODE = """
import sys, time
from core.screener import synthetic
from core.screener.scan import scan
t0 = time.perf_counter()
res = scan(synthetic.universe(int(sys.argv[1])), "1d")
print(f"{len(res.rows)} rows, {res.failed} failed, engine {res.engine}, "
      f"{time.perf_counter() - t0:.1f} s")
"""


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _visit_table(page, url: str, n: int) -> float:
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
    page.wait_for_function(TABLE_JS, arg=['[data-testid="stDataFrame"]',
                                          f"{n:,} of {n:,} rows match"],
                           timeout=TIMEOUT_MS, polling=25)
    return time.perf_counter() - t0


def measure(runs: int | None = None, n: int | None = None) -> dict:
    """{"bare page" | "screener": {"cold": [s...], "warm": [s...]}, "scan": str,
    "load": [...]}"""
    from playwright.sync_api import sync_playwright

    runs = max(5, runs or int(os.environ.get("QD_BENCH_SCREENER_PAGE_RUNS", "7")))
    n = n or int(os.environ.get("QD_BENCH_SCREENER_PAGE_SYMBOLS", "500"))
    tmp = Path(tempfile.mkdtemp(prefix="qd-bench-screener-page-"))
    env = _env(tmp / "data")
    subprocess.run([sys.executable, "-c", ("from core.bootstrap import bootstrap; "
                                           "bootstrap(lambda m: None, train_missing=False)")],
                   cwd=ROOT, env=env, check=True, timeout=300)
    scanned = subprocess.run([sys.executable, "-c", SCAN_CODE, str(n)], cwd=ROOT, env=env,
                             check=True, timeout=900, capture_output=True, text=True)
    out: dict = {"scan": scanned.stdout.strip().splitlines()[-1], "load": [_load()],
                 "bare page": {"cold": [], "warm": []}, "screener": {"cold": [], "warm": []}}
    bare_py = tmp / "bare_page.py"
    bare_py.write_text(BARE_SCRIPT)
    app_env = dict(env, QUANTDESK_SYNTHETIC_UNIVERSE=str(n))
    procs = []
    try:
        app_url, p1 = _start("app.py", app_env, tmp / "app.log", launcher="ui.warmup")
        procs.append(p1)
        _wait_for_warmup(tmp / "app.log", p1)
        bare_url, p2 = _start(str(bare_py), env, tmp / "bare.log")
        procs.append(p2)
        targets = {"bare page": (bare_url + "/", None),
                   "screener": (f"{app_url}/screener?universe=synthetic&interval=1d", n)}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            try:
                for r in range(runs + 1):  # run 0 warms both servers, not counted
                    order = list(targets) if r % 2 else list(reversed(targets))
                    for name in order:
                        url, rows = targets[name]
                        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                        try:
                            pg = ctx.new_page()
                            if rows is None:
                                times = [_visit(pg, url), _visit(pg, url)]
                            else:
                                times = [_visit_table(pg, url, rows),
                                         _visit_table(pg, url, rows)]
                        finally:
                            ctx.close()
                        if r:
                            out[name]["cold"].append(times[0])
                            out[name]["warm"].append(times[1])
            finally:
                browser.close()
        out["load"].append(_load())
        return out
    finally:
        for proc in procs:
            stop_server(proc)


def report(res: dict) -> str:
    bare, scr = res["bare page"], res["screener"]
    lines = [f"   scan once (cached): {res['scan']}",
             (f"   load average (1/5/15 min) before / after the visits: "
              f"{res['load'][0]} / {res['load'][-1]}")]
    for kind in ("cold", "warm"):
        b, s = statistics.median(bare[kind]), statistics.median(scr[kind])
        ratio = s / b
        verdict = ("OK" if ratio <= TARGET else "MISS") if kind == "warm" else "(not a target)"
        lines.append(f"   {kind}: bare page {b:.2f} s, screener 500-row table {s:.2f} s "
                     f"(medians of {len(bare[kind])}): ratio {ratio:.2f} "
                     f"(target <= {TARGET}: {verdict})")
        lines.append(f"      each run [s]: bare {' '.join(f'{x:.2f}' for x in bare[kind])}; "
                     f"screener {' '.join(f'{x:.2f}' for x in scr[kind])}")
    return "\n".join(lines)


def run() -> None:
    if not Path(CHROMIUM).exists():
        print(f"   skipped: {CHROMIUM} is missing")
        return
    print("   SYNTHETIC universe (load test, not market data)")
    print(report(measure()))


if __name__ == "__main__":
    run()
