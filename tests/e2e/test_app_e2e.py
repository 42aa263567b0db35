"""The app in a real browser: every page opens by URL and draws its chart with no exception
(screenshots under test-artifacts/screenshots/), bad input is explained, and the Admin page
exists only for a signed-in admin.

Order matters for the first test: it must be the server's first visitor (``--dist loadfile``
keeps this module on one worker, in file order)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from benchmarks.chart_margins import MARGINS_JS, grown
from benchmarks.chart_theme import capture
from tests.e2e.conftest import E2E_ADMIN, E2E_PASSWORD, SCREENSHOTS, running_app, sign_in
from ui.figures import chart_theme

pytestmark = pytest.mark.e2e

PAGES = {  # URL path -> page title; every market page shows AAPL's status line and a chart
    "": "Overview", "patterns": "Patterns", "forecasts": "Forecasts",
    "sentiment": "Sentiment", "volatility": "Volatility", "risk-sizing": "Risk Sizing",
    "strategy-lab": "Strategy Lab", "monitoring": "Model Monitoring",
}
NO_MARKET = {"monitoring"}  # charts from the prediction store (empty until Overview logs)
EXCEPTION = '[data-testid="stException"]'
NAV = '[data-testid="stSidebarNav"]'


def settle(pg, selector: str | None = None, timeout_ms: int = 60_000) -> None:
    """Wait for the app frame, an optional element, and the end of the script run (the app's
    script state back to ``notRunning``, no running/connecting widget)."""
    pg.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    if selector:
        pg.locator(selector).first.wait_for(state="attached", timeout=timeout_ms)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
        "document.querySelector('[data-testid=\"stApp\"]')"
        ".getAttribute('data-test-script-state') !== 'running'",
        timeout=timeout_ms)
    time.sleep(0.3)


def grown_margins(pg) -> list[dict]:
    """Charts whose margins Plotly had to grow for their labels (``automargin``: the figure
    is laid out a second time, issue 15; :mod:`benchmarks.chart_margins`)."""
    pg.wait_for_function("() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
                         ".some(gd => gd._fullLayout && gd._fullLayout._size)")
    return [c for c in pg.evaluate(MARGINS_JS) if grown(c)]


# a chart as ui.figures.chart sends it: no template, the app's theme in the figure, arrays
# as JSON lists under a datarevision, the title bold once (Streamlit's theming of the chart
# element did not run: it would add a template and bold the title again)
SENT_THEMED_JS = """(bg) => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd =>
    gd.layout.template === undefined && gd.layout.paper_bgcolor === bg
    && gd.layout.datarevision !== undefined
    && gd.data.every(t => ['x', 'y', 'open', 'close'].every(k => !(k in t) || Array.isArray(t[k])))
    && !(gd.layout.title && /<b><b>/.test(gd.layout.title.text || '')))"""


def sent_themed(pg) -> list[bool]:
    """Per chart of the page: is it drawn as ``ui.figures.chart`` sends it (issue 15)."""
    return pg.evaluate(SENT_THEMED_JS, chart_theme()["layout"]["paper_bgcolor"])


def nav_text(pg) -> str:
    pg.locator(NAV).wait_for()
    return pg.locator(NAV).inner_text()


def heading(pg) -> str:
    return pg.locator("h1").first.inner_text().strip()


def test_fresh_server_does_not_open_admin_by_url(page, server):
    """A fresh server's first visitor asks for /admin: it gets the Overview, not Admin."""
    page.goto(f"{server.url}/admin")
    settle(page, ".js-plotly-plot")
    assert heading(page) == "Overview"
    assert "Admin" not in nav_text(page).replace("Admin sign-in", "")
    assert page.get_by_role("heading", name="Admin").count() == 0
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.parametrize("path", list(PAGES))
def test_page_opens_by_url_with_chart_and_no_exception(page, server, path):
    page.goto(f"{server.url}/{path}?symbol=AAPL")
    settle(page, None if path in NO_MARKET else ".js-plotly-plot", timeout_ms=90_000)
    assert heading(page) == PAGES[path]
    errors = page.locator(EXCEPTION).all_inner_texts()
    assert not errors, errors[0][:500]
    if path in NO_MARKET:  # a chart, or the empty-store hint when nothing was logged yet
        page.locator(".js-plotly-plot").or_(
            page.get_by_text("No predictions logged yet")).first.wait_for()
    else:
        assert page.get_by_text(re.compile(r"AAPL 1d · [\d,]+ bars")).count() >= 1
        # each chart's margins hold its labels: drawn once, not laid out again (issue 15)
        assert grown_margins(page) == []
        assert sent_themed(page) == [True] * page.locator(".js-plotly-plot").count()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{path or 'overview'}.png"), full_page=True)


def test_every_page_by_its_link_then_back_to_the_overview(page, server):
    """A trader's round trip through the navigation in one session: every page opens, and the
    Overview works again afterwards (its watchlist widget's state is dropped by Streamlit
    while another page runs; a KeyError once reached the page here)."""
    page.goto(f"{server.url}/")
    settle(page, ".js-plotly-plot", timeout_ms=90_000)
    for title in ["Screener", "Paper Book", *PAGES.values(), "Overview"]:
        page.locator(NAV).get_by_role("link", name=title, exact=True).click()
        page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=90_000)
        settle(page)
        errors = page.locator(EXCEPTION).all_inner_texts()
        assert not errors, (title, errors[0][:500])
    assert heading(page) == "Overview"
    page.get_by_text(re.compile(r"As of \d{4}-\d\d-\d\d")).first.wait_for()


def test_a_page_opened_by_its_url_connects_without_guessing_the_base_path(page, tmp_path):
    """The launcher's index.html names the app's base URL on a page's address, so the
    frontend does not first ask /volatility/_stcore/health (two 404s and a 100 ms retry
    delay on every visit, issue 15); the root and unknown addresses are left to it. The
    Screener's address also preloads the data grid's code before anything is scanned, and
    no other page does; the pages that open on a chart (the root too) preload Plotly's."""
    asked, failed = [], []
    page.on("request", lambda r: asked.append(r.url))
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    with running_app(tmp_path, launcher=True) as server:  # as `make run` serves it
        page.goto(f"{server.url}/volatility?symbol=AAPL")
        settle(page, ".js-plotly-plot", timeout_ms=90_000)
        assert heading(page) == "Volatility"
        assert page.evaluate("window.__streamlit.BACKEND_BASE_URL") == f"{server.url}/"
        assert f"{server.url}/_stcore/health" in asked
        assert not [u for u in asked if "/volatility/_stcore/" in u], asked
        assert not [u for u in asked if "/DataFrame." in u]
        preloaded = 'link[rel="modulepreload"][href*="/static/js/PlotlyChart."]'
        assert page.locator(preloaded).count() == 1  # a chart page reads Plotly's code early
        page.goto(f"{server.url}/screener")
        settle(page)
        assert heading(page) == "Screener"
        grid = [u for u in asked if re.search(r"/static/js/DataFrame\.[^/]+\.js$", u)]
        assert grid and grid[0].startswith(f"{server.url}/static/js/"), grid
        assert page.locator('[data-testid="stDataFrame"]').count() == 0  # nothing scanned
        assert page.locator(preloaded).count() == 0  # no chart on the Screener
        page.goto(f"{server.url}/")
        settle(page, ".js-plotly-plot", timeout_ms=90_000)
        assert page.evaluate("window.__streamlit === undefined")
        assert page.locator(preloaded).count() == 1  # the root opens on the Overview's chart
    assert not failed, failed


def test_unknown_symbol_offline_is_explained(page, server):
    page.goto(f"{server.url}/volatility?symbol=ZZZZ")
    settle(page)
    page.get_by_text(re.compile(r"No cached copy of ZZZZ")).first.wait_for()
    assert page.locator(EXCEPTION).count() == 0


def test_non_admin_gets_no_admin_link_or_page(page, server):
    page.goto(server.url)
    settle(page, ".js-plotly-plot")
    assert "Admin" not in nav_text(page)
    page.goto(f"{server.url}/admin")
    settle(page, ".js-plotly-plot")
    assert heading(page) == "Overview"
    page.get_by_text("Page not found").first.wait_for()
    assert "Admin" not in nav_text(page)


def test_admin_signs_in_sees_admin_and_signs_out(page, server):
    page.goto(server.url)
    settle(page, ".js-plotly-plot")
    sign_in(page, E2E_ADMIN, "not the password")
    page.get_by_text("Wrong admin name or password.").wait_for()
    assert "Admin" not in nav_text(page)

    sign_in(page, E2E_ADMIN, E2E_PASSWORD)
    page.locator(NAV).get_by_text("Admin", exact=True).wait_for()
    page.locator(NAV).get_by_text("Admin", exact=True).click()
    page.get_by_role("heading", name="Admin").wait_for()
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_text(f"Signed in as {E2E_ADMIN}").count() >= 1

    settle(page)
    sign_out = page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out")
    # a rerun can briefly show the previous run's (stale) button beside the new one
    deadline = time.monotonic() + 30
    while sign_out.count() != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    sign_out.first.click()
    page.get_by_role("button", name=re.compile("Admin sign-in")).wait_for()
    assert "Admin" not in nav_text(page)


def test_the_stored_chart_theme_is_the_one_streamlit_applies(browser):
    """ui/chart_theme.json is what Streamlit's chart element would apply to this app's charts
    (its frontend, this config.toml's theme); after a Streamlit upgrade or a theme change,
    ``python -m benchmarks.chart_theme`` writes it again."""
    assert capture(browser) == chart_theme()


# draws a figure in a blank page and returns what Plotly made of it: its full layout and
# traces, arrays and private keys left out
FULL_FIGURE_JS = """async (spec) => {
    const div = document.createElement('div');
    document.body.appendChild(div);
    const fig = JSON.parse(spec);
    await Plotly.newPlot(div, fig.data, fig.layout);
    const clean = (o, depth) => {
        if (depth > 8 || o === null || typeof o !== 'object') return o;
        if (Array.isArray(o) || ArrayBuffer.isView(o)) {
            return o.length > 20 ? 'array' : Array.from(o).map((x) => clean(x, depth + 1));
        }
        const out = {};
        for (const [k, v] of Object.entries(o)) {
            if (k[0] !== '_' && typeof v !== 'function') out[k] = clean(v, depth + 1);
        }
        return out;
    };
    const out = {layout: clean(div._fullLayout, 0), data: div._fullData.map((t) => clean(t, 0))};
    div.remove();
    return out;
}"""
# not styling: the template itself, the data revision, the title's markup (Streamlit's theme
# bolds it on each of its two passes), the autotick results and a drawn shape's default line
UNSTYLED = {"template", "datarevision", "title", "tick0", "dtick", "newshape", "uid"}


def _styling(full: dict) -> dict:
    """A figure's full layout and traces without :data:`UNSTYLED`, nor the colour of the
    ticks of an axis that draws none (Plotly keeps a template's, but draws nothing)."""
    def walk(o):
        if isinstance(o, dict):
            out = {k: walk(v) for k, v in o.items() if k not in UNSTYLED}
            if out.get("ticks") == "":
                out.pop("tickcolor", None)
            return out
        return [walk(v) for v in o] if isinstance(o, list) else o
    return walk(full)


def _differences(a, b, path: str = "") -> list[str]:
    """Where two JSON values differ: ``path: a -> b``, first 10."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [d for k in sorted(set(a) | set(b))
               for d in _differences(a.get(k, "<missing>"), b.get(k, "<missing>"), f"{path}.{k}")]
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]")]
    else:
        out = [] if a == b else [f"{path}: {str(a)[:60]} -> {str(b)[:60]}"]
    return out[:10]


def test_a_themed_figure_draws_as_streamlits_theme_draws_it(browser, tmp_path):
    """ui.figures.themed bakes the theme into the figure as Plotly.js applies a template:
    the app's figures, drawn by Plotly with the theme as a template and baked in, style the
    same (the same colours, fonts, grids, ticks and zero lines; issue 15)."""
    import json

    import pandas as pd
    import plotly
    import plotly.io as pio

    from core.data.bundled import load_bundled
    from core.plots.candles import candlestick_figure
    from core.plots.indicators import chart_specs, indicator_figure
    from core.plots.risk import contribution_figure, correlation_heatmap
    from core.plots.sentiment import gauge_figure, topic_bars_figure
    from ui.figures import sent_spec

    msft = load_bundled("MSFT")
    returns = pd.DataFrame({s: load_bundled(s)["close"].pct_change().tail(250).to_numpy()
                            for s in ("MSFT", "AAPL", "IBM")})
    ov, pn = chart_specs(sma=[50], panels=["rsi"])
    figures = {"candles": candlestick_figure(msft.tail(120), "MSFT"),
               "indicators": indicator_figure(msft, overlays=ov, panels=pn, window="1Y"),
               "heatmap": correlation_heatmap(returns.corr()),
               "contributions": contribution_figure(pd.Series({"MSFT": 0.4, "IBM": 0.6})),
               "gauge": gauge_figure(0.3), "topics": topic_bars_figure({"earnings": 0.2}, {})}
    html = tmp_path / "blank.html"
    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    html.write_text(f"<html><body><script>{js.read_text()}</script></body></html>")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(html.as_uri())
        for name, fig in figures.items():
            templated = json.loads(pio.to_json(fig, validate=False))
            templated["layout"]["template"] = chart_theme()
            want = _styling(page.evaluate(FULL_FIGURE_JS, json.dumps(templated)))
            got = _styling(page.evaluate(FULL_FIGURE_JS, json.dumps(sent_spec(fig))))
            assert got == want, (name, _differences(want, got))
    finally:
        context.close()
