"""An offline desk makes no external request: every page, opened in a real browser, asks
only the app's own loopback server for anything (fonts, icons, favicon, scripts)."""

from __future__ import annotations

import pytest

from tests.e2e.test_app_e2e import EXCEPTION, settle

pytestmark = pytest.mark.e2e

PATHS = ("", "screener", "patterns", "forecasts", "sentiment", "volatility", "risk-sizing",
         "strategy-lab", "paper", "monitoring")


def test_no_page_requests_another_host(page, server):
    foreign: list[str] = []
    page.on("request", lambda req: foreign.append(req.url)
            if not req.url.startswith((server.url, "data:", "blob:", "about:")) else None)
    for path in PATHS:
        page.goto(f"{server.url}/{path}?symbol=MSFT")
        settle(page, timeout_ms=120_000)
        assert page.locator(EXCEPTION).count() == 0, path
    assert not foreign, sorted(set(foreign))[:10]
