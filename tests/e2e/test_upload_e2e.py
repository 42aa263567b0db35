"""An uploaded CSV of a ticker no model was trained on, in a real browser: every model page
serves it (forecasts by the pooled model, volatility, patterns, sizing) without an error.

The CSV holds real bundled IBM daily bars saved under the made-up name NEWCO."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_app_e2e import EXCEPTION, settle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def newco_csv(tmp_path_factory):
    from core.data import load_ohlcv

    f = load_ohlcv("IBM", source="bundled").frame.tail(1500)
    path = tmp_path_factory.mktemp("upload") / "NEWCO.csv"
    f.rename_axis("Date").rename(columns=str.title).to_csv(path)
    return path


def errors_on(pg) -> list[str]:
    boxes = pg.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    return pg.locator(EXCEPTION).all_inner_texts() + boxes


def test_uploaded_csv_of_an_untrained_ticker_gets_every_model(page, server, newco_csv):
    page.goto(f"{server.url}/forecasts?symbol=CSV")
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(newco_csv))
    settle(page, ".js-plotly-plot", timeout_ms=90_000)
    page.get_by_text(re.compile(r"NEWCO: the pooled model")).first.wait_for()
    assert page.get_by_text(re.compile("No forecast model for")).count() == 0
    assert not errors_on(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "upload-forecasts.png"), full_page=True)
    for title, marker in (("Volatility", re.compile(r"GJR|GARCH", re.I)),  # its models
                          ("Patterns", re.compile(r"CNN")),
                          ("Risk Sizing", re.compile(r"[Ss]top"))):
        page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
        # the previous page's chart is still on screen right after the click: wait for the
        # new page's heading before waiting for a chart
        page.locator("h1").filter(has_text=title).first.wait_for(timeout=90_000)
        settle(page, ".js-plotly-plot", timeout_ms=120_000)
        assert page.locator("h1").first.inner_text().strip() == title
        page.get_by_text(re.compile(r"NEWCO")).first.wait_for()
        assert page.get_by_text(marker).count() >= 1, title  # in text or a chart legend
        assert not errors_on(page), (title, errors_on(page)[:1])
        page.screenshot(path=str(SCREENSHOTS / f"upload-{title.lower().replace(' ', '-')}.png"),
                        full_page=True)


def test_a_long_intraday_upload_is_drawn_as_candles_of_several_bars(page, server, tmp_path):
    """12,000 SYNTHETIC one-minute bars on the Overview (its default window, a year, holds
    them all): the chart draws at most core.plots.candles.MAX_CANDLES candles and its title
    says how many bars each holds (it drew one candle per bar: 420,000 for a year of minutes,
    minutes of script time and ~350 MB per open tab; issue 18's memory test)."""
    import numpy as np
    import pandas as pd

    from core.plots.candles import MAX_CANDLES

    n = 12_000
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    frame = pd.DataFrame({"Open": close, "High": close * 1.001, "Low": close * 0.999,
                          "Close": close, "Volume": rng.integers(1, 1_000, n)},
                         index=pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC"))
    path = tmp_path / "SYNTHMIN.csv"
    frame.rename_axis("Date").to_csv(path)
    page.goto(f"{server.url}/?symbol=CSV")
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    charts = ("() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => "
              "[String(((gd.layout || {}).title || {}).text), (gd.data || []).map(t => "
              "[t.type, (t.x || []).length])])")
    page.wait_for_function(f"() => ({charts})().some(c => c[0].includes('SYNTHMIN'))",
                           timeout=120_000)
    settle(page, ".js-plotly-plot", timeout_ms=120_000)
    chart = [c for c in page.evaluate(charts) if "SYNTHMIN" in c[0]]
    assert len(chart) == 1, chart
    title, traces = chart[0]
    assert "3 bars per candle" in title, title  # ceil(12,000 / 5,000)
    # the candles and the volume pane's two filled steps and hover line, 4,000 points each
    assert traces == [["candlestick", 4_000]] + [["scatter", 4_000]] * 3, traces
    assert 4_000 <= MAX_CANDLES
    assert not errors_on(page)
