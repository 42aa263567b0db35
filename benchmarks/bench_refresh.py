"""Does the Overview's auto-refresh block the rest of the page? (issue 15: "the panel's
auto-refresh never blocks the rest of the page").

Serves the app as ``make run`` does, with the panel refreshing every
:data:`REFRESH_S` second (``QUANTDESK_REFRESH_SECONDS``; 30 s by default), opens the Overview
in Debian's Chromium and switches its price chart's window (6M / 1Y, the segmented control
above the chart) :data:`RUNS` times each way, in five phases:

* **paused**: "Pause auto-refresh" on (no refresh ticks), clicks spaced by irregular pauses;
* **during a refresh**: refreshing every second, each click made :data:`DELAYS` after a
  refresh started (the page's script state turned ``running`` with no click): a trader
  acting while the panel refreshes. Nothing new to compute (bars and predictions cached);
* **during a replay refresh**: the same with "Replay mode" on, where every refresh steps the
  replayed symbol one bar and computes its predictions for the new bar (the work of a live
  refresh when a new bar arrives);
* **during a live refresh**: a second server, started by :mod:`benchmarks.slow_yahoo`, whose
  Yahoo Finance answers each symbol after a synthetic delay of :data:`YAHOO_S` with its
  bundled real history, and whose downloaded copies expire every :data:`LIVE_TTL_S`: the
  panel's refreshes keep meeting expired bars, as an intraday watchlist's do every minute.
  Clicks as in the refresh phase, for at least :data:`LIVE_S` seconds;
* **during live new bars**: the same, each download revealing one more real bar of the
  symbol (``QD_BENCH_REVEAL``), copies expiring every :data:`NEW_BAR_S`: every watchlist
  symbol gets a new bar at once, and the panel computes their predictions.

(A full rerun restarts the fragment's timer, so clicks less than a period apart would never
meet a refresh.) Each switch is timed from the click until the chart holds the new window's
candles (*chart*: what the trader waits for), and until the page is also settled
(:data:`SETTLED_JS` of ``bench_pages``: the script not running, no status widget, a rerun
seen), which includes the panel's run. Prints medians, 90th percentiles and maxima, and the
ratios to the paused phase. Loopback only; the server is stopped at the end.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_pages import (CHROMIUM, CHROMIUM_ARGS, ROOT, SETTLED_JS, TIMEOUT_MS,
                                    WATCH_JS, _env, _in_popover, _start, _toggle, _visit,
                                    _wait_for_warmup)
from benchmarks.timing import stop_server

REFRESH_S = 1
RUNS = int(os.environ.get("QD_BENCH_REFRESH_RUNS", "15"))
#: seconds after a refresh started that a click comes, cycled: before the refresh's first
#: element (Streamlit stops the refresh there at once) and into its computation
DELAYS = (0.0, 0.05, 0.1, 0.15, 0.25, 0.35)
#: live phase: Yahoo's synthetic answer time per symbol [s], how long a downloaded copy stays
#: fresh [s], and the phase's least duration [s]
YAHOO_S, LIVE_TTL_S, LIVE_S = 1.0, 2, 150.0
#: newbars phase: seconds between two new bars of every watchlist symbol
NEW_BAR_S = 10
#: seconds between two switches while paused, cycled
GAPS = (0.13, 0.52, 0.31, 0.87, 0.44, 0.69)
#: candles on the Overview's price chart (its Plotly element, key ``price``)
COUNT_JS = """() => {
    const g = document.querySelector('.st-key-price .js-plotly-plot');
    return g && g.data && g.data.length ? g.data[0].x.length : -1;
}"""
#: settled, and the chart shows ``n`` candles
#: the window's candles shown: its count, give or take the bars a live phase adds meanwhile
SHOWN_JS = f"(n) => Math.abs(({COUNT_JS})() - n) <= 2"
SWITCHED_JS = f"(a) => ({SETTLED_JS})([null, true, null]) && ({SHOWN_JS})(a)"
STATE_JS = ("() => document.querySelector('[data-testid=\"stApp\"]')"
            ".getAttribute('data-test-script-state')")


def _switch(page, label: str, candles: int | None,
            delay_s: float | None = None) -> tuple[float, float, int, bool]:
    """Click the window ``label`` (with ``delay_s``: that long after a refresh started);
    seconds until the chart shows ``candles`` candles and until the page settled with them
    (any count when None), the count drawn, and whether a refresh was running just before the
    click."""
    button = page.locator('[data-testid="stButtonGroup"] button', has_text=label).first
    button.wait_for(state="visible", timeout=TIMEOUT_MS)
    if delay_s is not None:
        page.evaluate(WATCH_JS)
        page.wait_for_function("() => window.__qdRuns > 0", timeout=10_000 * REFRESH_S,
                               polling=5)
        time.sleep(delay_s)
    running = page.evaluate(STATE_JS) == "running"
    page.evaluate(WATCH_JS)
    t0 = time.perf_counter()
    button.click()
    if candles is None:
        page.wait_for_function(SETTLED_JS, arg=[None, True, None], timeout=TIMEOUT_MS,
                               polling=25)
        chart = settled = time.perf_counter() - t0
    else:
        page.wait_for_function(SHOWN_JS, arg=candles,
                               timeout=TIMEOUT_MS, polling=10)
        chart = time.perf_counter() - t0
        page.wait_for_function(SWITCHED_JS, arg=candles, timeout=TIMEOUT_MS, polling=25)
        settled = time.perf_counter() - t0
    return chart, settled, page.evaluate(COUNT_JS), running


def _flip(page, label: str) -> None:
    """Flip the toggle ``label`` of the "Refresh & replay" popover and let the rerun settle;
    close the popover."""
    _in_popover("Refresh & replay", _toggle(label))(page)()
    page.wait_for_timeout(300)
    page.wait_for_function(SETTLED_JS, arg=[None, False, None], timeout=TIMEOUT_MS, polling=25)
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)


def _phase(page, phase: str, runs: int, counts: dict, seconds: float = 0.0) -> dict:
    """``2 * runs`` window switches (and more until ``seconds`` passed), each made
    :data:`DELAYS` after a refresh started (with irregular gaps when ``phase`` is paused)."""
    res = {"chart": [], "settled": [], "hit": 0}
    t_end, i = time.monotonic() + seconds, 0
    while i < 2 * runs or time.monotonic() < t_end:
        window = ("6M", "1Y")[i % 2]
        delay = None if phase == "paused" else DELAYS[i % len(DELAYS)]
        chart, settled, counts[window], running = _switch(page, window, counts.get(window),
                                                          delay)
        res["chart"].append(chart)
        res["settled"].append(settled)
        res["hit"] += running
        if phase == "paused":
            page.wait_for_timeout(int(1000 * GAPS[i % len(GAPS)]))
        i += 1
    return res


def _serve(tmp: Path, launcher: str, **env_extra: str):
    """Bootstrap a data directory in ``tmp`` and serve the app with ``launcher``; (url,
    process) once its warm-up finished."""
    env = dict(_env(tmp / "data"), QUANTDESK_REFRESH_SECONDS=str(REFRESH_S), **env_extra)
    subprocess.run([sys.executable, "-c", "from core.bootstrap import bootstrap; "
                    "bootstrap(lambda m: None, train_missing=False)"],
                   cwd=ROOT, env=env, check=True, timeout=300)
    url, proc = _start("app.py", env, tmp / "app.log", launcher=launcher)
    try:
        _wait_for_warmup(tmp / "app.log", proc)
    except BaseException:
        stop_server(proc)
        raise
    return url, proc


def _live_phase(browser, tmp: Path, runs: int, extra: dict) -> dict:
    """Clicks for at least :data:`LIVE_S` on a server started by
    :mod:`benchmarks.slow_yahoo` with the settings ``extra``."""
    from ui.warmup import SERVER_ENV

    url, proc = _serve(tmp, "benchmarks.slow_yahoo", **SERVER_ENV, QUANTDESK_OFFLINE="0",
                       QD_BENCH_YAHOO_DELAY_S=str(YAHOO_S), **extra)
    try:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        _visit(page, url + "/")
        _visit(page, url + "/")
        counts: dict = {}
        _flip(page, "Pause auto-refresh")  # learn the windows' candle counts
        for window in ("6M", "1Y"):
            counts[window] = _switch(page, window, None)[2]
        _flip(page, "Pause auto-refresh")
        return _phase(page, "live", runs, counts, seconds=LIVE_S)
    finally:
        stop_server(proc)


def measure(runs: int = RUNS) -> dict:
    """{phase: {"chart": [s...], "settled": [s...], "hit": clicks made while a refresh ran}}
    for the phases "paused", "refresh", "replay", "live" and "newbars", and "candles":
    {window: count}."""
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="qd-bench-refresh-"))
    out: dict = {}
    counts: dict = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            url, proc = _serve(tmp / "offline", "ui.warmup")
            try:
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                _visit(page, url + "/")
                _visit(page, url + "/")  # warm
                for phase, flips in (("paused", ["Pause auto-refresh"]),
                                     ("refresh", ["Pause auto-refresh"]),
                                     ("replay", ["Replay mode"])):
                    for label in flips:
                        _flip(page, label)
                    out[phase] = _phase(page, phase, runs, counts)
            finally:
                stop_server(proc)
            # live: a slow Yahoo (benchmarks.slow_yahoo), the copies expiring every
            # LIVE_TTL_S; long enough for a memory cache of a minute to expire twice.
            # newbars: the same with a new real bar of every symbol once per NEW_BAR_S
            for phase, extra in (("live", {"QD_BENCH_BARS_TTL_S": str(LIVE_TTL_S)}),
                                 ("newbars", {"QD_BENCH_BARS_TTL_S": str(NEW_BAR_S),
                                              "QD_BENCH_REVEAL": "100"})):
                out[phase] = _live_phase(browser, tmp / phase, runs, extra)
        finally:
            browser.close()
    out["candles"] = counts
    return out


def _p90(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=10)[-1] if len(xs) > 1 else xs[0]


def table(res: dict) -> str:
    """Markdown table of the phases and their ratios to the paused one."""
    names = {"paused": "auto-refresh paused",
             "refresh": "clicked during a refresh (nothing new to compute)",
             "replay": "clicked during a replay refresh (a new bar's predictions)",
             "live": f"clicked during a live refresh (Yahoo answering in {YAHOO_S:.1f} s, "
                     "synthetic delay)",
             "newbars": f"the same, a new real bar of every symbol every {NEW_BAR_S} s"}
    base = {k: statistics.median(res["paused"][k]) for k in ("chart", "settled")}
    out = ["| window switch on the Overview | chart shown, median [s] | p90 [s] | max [s] "
           "| settled, median [s] | max [s] | chart / paused | settled / paused | clicks "
           "during a refresh | charts / settles later than 1 s |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for phase, name in names.items():
        r = res[phase]
        c, t = statistics.median(r["chart"]), statistics.median(r["settled"])
        late = [sum(x > 1.0 for x in r[k]) for k in ("chart", "settled")]
        out.append(f"| {name} | {c:.2f} | {_p90(r['chart']):.2f} | {max(r['chart']):.2f} "
                   f"| {t:.2f} | {max(r['settled']):.2f} | {c / base['chart']:.2f} "
                   f"| {t / base['settled']:.2f} "
                   f"| {r['hit'] if phase != 'paused' else '-'} of {len(r['chart'])} "
                   f"| {late[0]} / {late[1]} |")
    out.append(f"(refresh every {REFRESH_S} s; candles drawn: {res['candles']})")
    return "\n".join(out)


def run() -> None:
    if not Path(CHROMIUM).exists():
        print(f"   skipped: {CHROMIUM} is missing")
        return
    print(table(measure()))


if __name__ == "__main__":
    run()
