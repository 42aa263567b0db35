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
