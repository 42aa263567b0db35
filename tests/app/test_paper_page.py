"""AppTest of the Paper Book page on bundled MSFT (offline): it renders with the
simulated-only notice and a replay clock, a Buy then "Advance one bar (replay)" fills at the
next bar's open after costs, the equity curve and the order table follow, an order linked
to a prediction links to it, and bad input gives a message, never an exception."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.data import load_ohlcv
from core.paper.desk import REPLAY_BARS
from tests.page_checks import assert_page_ok, open_page, texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "paper.py")


def page(**params) -> AppTest:
    return open_page(PAGE, **params)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_renders_offline_with_the_notice_and_the_replay_clock():
    at = page()
    assert_page_ok(at)
    assert at.title[0].value == "Paper Book"
    assert "Simulated only: no order is ever sent to a broker." in texts(at, "info")
    labels = [b.label for b in at.button]
    for label in ("Buy", "Sell", "Follow the desk's signal for this symbol",
                  "Advance one bar (replay)"):
        assert label in labels
    assert at.metric[0].label == "Equity" and at.metric[0].value == "100,000.00"


def test_buy_then_advance_fills_at_the_next_open():
    frame = load_ohlcv("MSFT", "1d", source="bundled").frame
    i = len(frame) - 1 - REPLAY_BARS  # the replay clock starts here
    at = page()
    at.number_input(key="pb_qty").set_value(100)
    button(at, "Buy").click()
    at.run()
    assert_page_ok(at)
    placed = f"{frame.index[i]:%Y-%m-%d}"
    assert f"buy 100 MSFT placed at the bar of {placed}" in texts(at, "success")
    orders = at.dataframe[-1].value
    assert orders.iloc[0]["Status"] == "pending"

    button(at, "Advance one bar (replay)").click()
    at.run()
    assert_page_ok(at)
    nxt_open = float(frame["open"].iloc[i + 1])
    px = nxt_open * (1 + 2e-4)  # default costs: half of 2 bp spread + 1 bp slippage
    ok = texts(at, "success")
    assert f"Filled: buy 100 MSFT at {px:,.4f}" in ok and f"{frame.index[i + 1]:%Y-%m-%d}" in ok
    orders = at.dataframe[-1].value
    assert orders.iloc[0]["Status"] == "filled"
    assert orders.iloc[0]["Fill price"] == pytest.approx(px)
    close = float(frame["close"].iloc[i + 1])
    unreal = 100 * (close - px)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Unrealised P&L"] == f"{unreal:,.2f}"
    assert metrics["Realised P&L"] == f"{-100 * px * 1e-4:,.2f}"  # the commission
    positions = at.dataframe[0].value
    assert positions.iloc[0]["Quantity"] == 100
    assert len(at.get("plotly_chart")) == 1  # equity, drawdown, exposure: two marks now


def test_bad_orders_are_explained():
    at = page()
    button(at, "Sell").click()
    at.run()
    assert_page_ok(at, allow_errors=("does not go short",))
    assert "does not go short" in texts(at, "error")
    at.number_input(key="pb_qty").set_value(10_000_000)
    button(at, "Buy").click()
    at.run()
    assert_page_ok(at, allow_errors=("Not enough cash",))


def test_prediction_link_and_bad_ids():
    from core.predictions import Prediction
    from core.store import log_predictions, session_scope

    ts = pd.Timestamp("2012-03-01", tz="UTC")
    with session_scope() as s:
        log_predictions([Prediction("forecast", "v9", "MSFT", "1d", "log_return", 5, ts,
                                    0.0123, lower=-0.01, upper=0.03)], session=s)
    at = page(prediction="1")
    assert_page_ok(at)
    assert "Prediction #1 that caused an order" in texts(at, "subheader")
    assert "forecast v9 on MSFT 1d" in texts(at, "markdown")
    at = page(prediction="<script>")
    assert_page_ok(at, allow_warnings=None)
    assert "is not a prediction id" in texts(at, "warning")


def test_follow_the_desks_signal_on_the_replay_bar():
    """The real panel (committed models) on the bars up to the replay clock: a decision
    and its reasons, never a traceback; a signal order links to a logged prediction."""
    frame = load_ohlcv("MSFT", "1d", source="bundled").frame
    at = page()
    button(at, "Follow the desk's signal for this symbol").click()
    at.run()
    assert_page_ok(at)
    placed = f"{frame.index[len(frame) - 1 - REPLAY_BARS]:%Y-%m-%d}"
    assert f"Desk signal at the bar of {placed}: " in texts(at, "success")
    if "no order" not in texts(at, "success"):
        orders = at.dataframe[-1].value
        assert orders.iloc[0]["Prediction"].startswith("/paper?prediction=")
