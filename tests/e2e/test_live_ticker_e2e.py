"""A typed ticker, served live from recorded Yahoo responses, in a real browser: its chart
and every page's models (forecasts from the pooled model, volatility, patterns, sizing).

The server runs with ``tests/e2e/yahoo_replay`` on its PYTHONPATH, which answers Yahoo from
a recorded, yfinance-shaped file: real bundled IBM daily bars, RE-DATED to end on
2025-06-27 and served as the made-up ticker ACME (a test fixture, never shown as a quote)."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest

from tests.e2e.conftest import ROOT, SCREENSHOTS, running_app
from tests.e2e.test_app_e2e import EXCEPTION, settle

pytestmark = pytest.mark.e2e


def write_recorded_acme(folder) -> None:
    from bokeh_sampledata import stocks  # the raw bars the bundled history is made from

    raw = pd.DataFrame(stocks.IBM).tail(800)
    idx = pd.bdate_range(end="2025-06-27", periods=len(raw), tz="America/New_York",
                         name="Date")
    yf = pd.DataFrame({"Open": raw["open"].to_numpy(), "High": raw["high"].to_numpy(),
                       "Low": raw["low"].to_numpy(), "Close": raw["close"].to_numpy(),
                       "Adj Close": raw["adj_close"].to_numpy(),
                       "Volume": raw["volume"].astype("int64").to_numpy()}, index=idx)
    path = folder / "ACME.csv"
    with open(path, "w") as fh:
        fh.write("# RECORDED-SHAPE TEST FIXTURE, not a quote: bundled IBM bars re-dated.\n")
        yf.to_csv(fh)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    (tmp / "yahoo").mkdir()
    write_recorded_acme(tmp / "yahoo")
    seam = os.pathsep.join([str(ROOT / "tests" / "e2e" / "yahoo_replay"), str(ROOT)])
    with running_app(tmp, QUANTDESK_OFFLINE="0", QUANTDESK_TEST_YAHOO_DIR=str(tmp / "yahoo"),
                     PYTHONPATH=seam) as srv:
        yield srv


@pytest.mark.parametrize("path, marker", [
    ("forecasts", r"ACME: the pooled model"),
    ("volatility", r"GJR|GARCH"),
    ("patterns", r"CNN"),
    ("risk-sizing", r"[Ss]top"),
])
def test_typed_ticker_is_served_live_on_every_page(page, live_server, path, marker):
    page.goto(f"{live_server.url}/{path}?symbol=ACME")
    settle(page, ".js-plotly-plot", timeout_ms=90_000)
    assert not page.locator(EXCEPTION).all_inner_texts()
    assert not page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    # live: downloaded by this page, or the fresh disk copy of the download an earlier page
    # made (the pages share it); never a STALE copy and never the bundled history
    page.get_by_text(re.compile(r"^ACME 1d · 800 bars .* source: (yahoo|cache) · as of ")
                     ).first.wait_for()
    assert not page.get_by_text(re.compile(r"STALE|Stale data|Bundled history .*, last bar")
                                ).count()
    assert page.get_by_text(re.compile(marker)).count() >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"live-{path}.png"), full_page=True)
