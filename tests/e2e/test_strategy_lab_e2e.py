"""The Strategy Lab in a real browser: add an indicator overlay (kept in the URL), run a
backtest, see the metrics beside buy-and-hold, export the trades CSV, a readable screenshot
(test-artifacts/screenshots/strategy-lab.png), and another strategy kept in the URL."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_app_e2e import EXCEPTION, settle

pytestmark = pytest.mark.e2e


def legend_texts(pg) -> list[str]:
    return pg.locator(".js-plotly-plot").first.locator(".legendtext").all_text_contents()


def test_overlay_backtest_metrics_and_trades_export(page, server, tmp_path):
    page.goto(f"{server.url}/strategy-lab?symbol=MSFT")
    settle(page, ".js-plotly-plot", timeout_ms=120_000)
    assert page.locator("h1").first.inner_text().strip() == "Strategy Lab"
    assert page.locator(EXCEPTION).count() == 0
    assert "SMA(50)" in legend_texts(page)
    assert not any(t.startswith("Bollinger") for t in legend_texts(page))

    # add an overlay (a pill in the indicators popover): the chart gains it and the URL keeps it
    page.locator('[data-testid="stPopover"] button', has_text="Indicators & signal marks").click()
    page.locator('[data-testid="stPopoverBody"] [data-testid="stButtonGroup"] button',
                 has_text="Bollinger").click()
    settle(page, ".js-plotly-plot")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot .legendtext')]"
        ".some(e => e.textContent.startsWith('Bollinger'))", timeout=60_000)
    assert re.search(r"overlays=.*Bollinger", page.url), page.url
    assert page.locator(EXCEPTION).count() == 0
    page.keyboard.press("Escape")  # the popover closes
    page.locator('[data-testid="stPopoverBody"]').wait_for(state="hidden")

    # run the backtest of the default strategy (RSI reversal) on the full history
    page.get_by_role("tab", name="Strategy tester").click()
    page.get_by_role("button", name="Run backtest").click()
    settle(page)
    page.get_by_text(re.compile("no evidence that the rule beats holding the stock")) \
        .first.wait_for(timeout=120_000)
    metrics = page.locator('[data-testid="stTable"]').filter(has_text="Buy & hold").first
    metrics.wait_for()
    text = metrics.inner_text()
    for label in ("Sharpe (95% CI)", "Sortino", "Max drawdown [%]", "Calmar", "Buy & hold"):
        assert label in text, text[:400]
    assert page.locator(EXCEPTION).count() == 0

    with page.expect_download() as dl:
        page.get_by_role("button", name="Export trades CSV").click()
    path = tmp_path / "trades.csv"
    dl.value.save_as(path)
    trades = pd.read_csv(path)
    assert len(trades) == 33, len(trades)
    assert {"Side", "Entry", "Exit", "P&L", "Costs", "Exit reason"} <= set(trades.columns)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # the results at the top of the viewport: headline, verdict, equity curve, metrics
    page.locator(".qd-metric").filter(has_text="Sharpe").first.evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SCREENSHOTS / "strategy-lab.png"))
    page.get_by_role("tab", name="Chart & indicators").click()
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "strategy-lab-chart.png"))
    assert page.locator(EXCEPTION).count() == 0

    # another strategy chosen in the tester stays in the URL while its tab is closed (its
    # box is drawn only in that tab)
    page.get_by_role("tab", name="Strategy tester").click()
    settle(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text=re.compile("^Strategy")) \
        .locator('[role="combobox"], input').first.click()
    page.get_by_role("option", name="ma_cross").click()
    page.wait_for_url(re.compile(r"strategy=ma_cross"), timeout=60_000)
    settle(page)
    page.get_by_role("tab", name="Chart & indicators").click()
    settle(page, ".js-plotly-plot")
    assert "strategy=ma_cross" in page.url, page.url
    assert page.locator('[data-testid="stSelectbox"]').filter(
        has_text=re.compile("^Strategy")).count() == 0
    assert page.locator(EXCEPTION).count() == 0
