"""Capture Streamlit's chart theme for this app into ``ui/chart_theme.json`` (issue 15).

The app sends every chart already themed (``ui.figures.chart``): Streamlit's frontend would
otherwise theme it twice and Plotly draw it twice. The theme is Streamlit's own, read from
the browser: a one-chart Streamlit page, served from the repository root (so with the app's
``.streamlit/config.toml`` ``[theme]``) and drawn with ``theme="streamlit"``, and the
template its chart element gave the figure. Run it after upgrading Streamlit or changing the
app's theme; tests/e2e/test_app_e2e.py fails until the file matches.

Usage: ``.venv/bin/python -m benchmarks.chart_theme`` (offline; serves on loopback).
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from pathlib import Path

from benchmarks.bench_pages import CHROMIUM, CHROMIUM_ARGS, _env, _start
from benchmarks.timing import stop_server
from ui.figures import THEME_FILE

PROBE_SCRIPT = textwrap.dedent("""\
    import plotly.graph_objects as go
    import streamlit as st

    st.plotly_chart(go.Figure(go.Scatter(y=[1, 3, 2])), theme="streamlit", key="probe")
    """)

# the template as the chart element left it in the figure it gave Plotly; the trace
# templates' "type" keys dropped (Plotly.js matches them by the key they sit under)
TEMPLATE_JS = """() => {
    const gd = document.querySelector('.js-plotly-plot');
    const t = JSON.parse(JSON.stringify(gd.layout.template));
    for (const items of Object.values(t.data || {})) for (const i of items) delete i.type;
    return t;
}"""


def capture(browser=None, timeout_ms: int = 60_000) -> dict:
    """The template Streamlit's frontend applies to a chart of this app (JSON dict).

    ``browser``: a Playwright browser to open the page in (a test's); Debian's headless
    Chromium, launched here, when None.
    """
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="qd-chart-theme-"))
    probe = tmp / "probe.py"
    probe.write_text(PROBE_SCRIPT)
    url, proc = _start(str(probe), _env(tmp / "data"), tmp / "probe.log")
    try:
        if browser is not None:
            return _read(browser, url, timeout_ms)
        with sync_playwright() as p:
            own = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=CHROMIUM_ARGS)
            try:
                return _read(own, url, timeout_ms)
            finally:
                own.close()
    finally:
        stop_server(proc)


def _read(browser, url: str, timeout_ms: int) -> dict:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        page = context.new_page()
        page.goto(url + "/", timeout=timeout_ms)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout_ms)
        return page.evaluate(TEMPLATE_JS)
    finally:
        context.close()


def main() -> None:
    theme = capture()
    THEME_FILE.write_text(json.dumps(theme, indent=1, sort_keys=True) + "\n")
    print(f"wrote {THEME_FILE} ({len(theme.get('data', {}))} trace types)")


if __name__ == "__main__":
    main()
