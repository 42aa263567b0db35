"""What Plotly's first draw of a page's chart costs (issue 15): a diagnostic, not a benchmark.

Draws figures in a blank headless Chromium page with the Plotly.js that ships with the
installed ``plotly`` package (no Streamlit, no server), each ``runs`` times in a rotated
order, and prints per figure the median time of ``Plotly.newPlot`` until laid out, the
chart's DOM elements, and the ratio to the bare page's figure drawn in the same run
(:data:`benchmarks.bench_pages.BARE_SCRIPT`'s candlestick with its range slider). Figures:
the price chart of the market pages (:func:`core.plots.candles.candlestick_figure`), the
same without its volume pane's traces (a floor), and the Strategy Lab's default indicator
chart; a year of bundled MSFT bars (real history), dark template, 1,000 px wide.

Usage: ``.venv/bin/python -m benchmarks.chart_draw [runs]``. Offline; nothing is served.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io as pio

from benchmarks.bench_pages import CHROMIUM, CHROMIUM_ARGS

#: draws figure ``name`` in a new element; [ms until laid out, elements in the chart]
DRAW_JS = """async (name) => {
  const host = document.getElementById('host');
  host.innerHTML = '';
  const div = document.createElement('div');
  host.appendChild(div);
  const fig = JSON.parse(window.FIGS[name]);
  const t0 = performance.now();
  await Plotly.newPlot(div, fig.data, fig.layout);
  div.offsetHeight;  // layout included
  return [performance.now() - t0, div.querySelectorAll('*').length];
}"""


def figures() -> dict[str, go.Figure]:
    """The figures compared, by name (the bare page's first)."""
    from core.data.bundled import load_bundled
    from core.plots.candles import candlestick_figure
    from core.plots.indicators import indicator_figure

    msft = load_bundled("MSFT")
    year = msft.tail(252)
    price = candlestick_figure(year, "MSFT · 1d")
    floor = go.Figure(price)
    floor.data = [floor.data[0]]
    out = {"bare page's candlestick": go.Figure(go.Candlestick(
               x=year.index, open=year["open"], high=year["high"], low=year["low"],
               close=year["close"])),
           "price chart (candles + volume)": price,
           "price chart without volume traces": floor,
           "Strategy Lab's indicator chart": indicator_figure(msft, window="1Y",
                                                              title="MSFT · 1d")}
    for fig in out.values():
        fig.update_layout(template="plotly_dark", width=1000)
    return out


def measure(runs: int = 15) -> dict[str, list[tuple[float, int]]]:
    """{figure name: [(ms, elements) per run]}."""
    from playwright.sync_api import sync_playwright

    figs = figures()
    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    with tempfile.TemporaryDirectory(prefix="qd-chart-draw-") as tmp:
        page_html = Path(tmp) / "draw.html"
        payload = json.dumps({k: pio.to_json(v) for k, v in figs.items()})
        page_html.write_text(f'<html><head><script src="{js.as_uri()}"></script></head>'
                             f'<body><div id="host"></div><script>window.FIGS = {payload};'
                             '</script></body></html>')
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=[*CHROMIUM_ARGS, "--allow-file-access-from-files"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(page_html.as_uri())
                names = list(figs)
                for name in names * 3:  # warm: code compiled, fonts loaded
                    page.evaluate(DRAW_JS, name)
                out: dict[str, list[tuple[float, int]]] = {k: [] for k in names}
                for r in range(runs):
                    for name in names[r % len(names):] + names[:r % len(names)]:
                        ms, n = page.evaluate(DRAW_JS, name)
                        out[name].append((ms, n))
            finally:
                browser.close()
    return out


def main(runs: int = 15) -> None:
    res = measure(runs)
    ref = statistics.median(ms for ms, _ in next(iter(res.values())))
    print(f"| figure | first draw [ms] | / bare | elements |   (medians of {runs})")
    print("|---|---:|---:|---:|")
    for name, rows in res.items():
        med = statistics.median(ms for ms, _ in rows)
        print(f"| {name} | {med:.1f} | {med / ref:.2f} | {rows[-1][1]:,} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
