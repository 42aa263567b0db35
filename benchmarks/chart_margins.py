"""Which charts Plotly lays out twice (issue 15): a diagnostic, not a benchmark.

A figure's margin that is too small for its axes' tick labels and titles is grown by Plotly
(``automargin``), and growing it lays the whole figure out a second time: on a fresh page
that second pass costs about as much as the first (~50 ms for a candlestick chart with its
volume panel). Plotly ignores a change of 1 px.

Starts the app as :mod:`benchmarks.bench_pages` does (offline, bootstrapped, through the
launcher), opens each address given in headless Chromium and prints, per drawn chart, its
title, the figure's margins and the margins Plotly laid it out with (``[l, r, t, b]`` px);
``GROWN`` marks a chart drawn twice. Set the figure's margins in ``core/plots`` to at least
the used ones (``core.plots.candles.PRICE_MARGIN`` for price charts).

Usage: ``.venv/bin/python -m benchmarks.chart_margins "/,patterns?tab=breakouts"``
(addresses relative to the app, comma separated). ``tests/e2e/test_app_e2e.py`` checks every
market page's default view. Loopback only; the server is stopped.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_pages import CHROMIUM, CHROMIUM_ARGS, ROOT, _env, _start, _wait_for_warmup
from benchmarks.timing import stop_server

#: per drawn chart: title, the figure's margins and the used ones ([l, r, t, b], px)
MARGINS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .filter(gd => gd._fullLayout && gd._fullLayout._size)
  .map(gd => { const m = gd.layout.margin || {}, s = gd._fullLayout._size;
    return {title: String((gd._fullLayout.title || {}).text || ''),
            margin: [m.l, m.r, m.t, m.b], used: [s.l, s.r, s.t, s.b].map(Math.round)}; })"""
SETTLE_S = 1.5  # after the script finished: lazily mounted charts draw


def grown(chart: dict) -> bool:
    """True when Plotly grew a margin by more than its 1 px tolerance (a second layout)."""
    return any(m is None or u - m > 1 for m, u in zip(chart["margin"], chart["used"]))


def main(addresses: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="qd-margins-"))
    env = _env(tmp / "data")
    subprocess.run([sys.executable, "-c", "from core.bootstrap import bootstrap; "
                    "bootstrap(lambda m: None, train_missing=False)"],
                   cwd=ROOT, env=env, check=True)
    url, proc = _start("app.py", env, tmp / "app.log", launcher="ui.warmup", cwd=ROOT)
    try:
        _wait_for_warmup(tmp / "app.log", proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for address in addresses:
                page.goto(f"{url}/{address.lstrip('/')}", wait_until="load")
                page.locator("h1").first.wait_for(timeout=90_000)  # every page has a title
                page.wait_for_function(
                    "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute("
                    "'data-test-script-state') === 'notRunning'", timeout=90_000)
                time.sleep(SETTLE_S)
                charts = page.evaluate(MARGINS_JS)
                if not charts:
                    print(f"{address}: no chart drawn")
                for c in charts:
                    mark = "GROWN" if grown(c) else "ok"
                    print(f"{address}: {c['title'][:50]!r} margin {c['margin']} used "
                          f"{c['used']} {mark}")
            browser.close()
    finally:
        stop_server(proc)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main([a for a in sys.argv[1].split(",") if a.strip()])
