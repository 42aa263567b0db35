"""The Overview watchlist: defaults from settings, typed tickers checked before they are kept,
stored per owner, and on the page mirrored in the URL."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import get_settings
from core.data import BUNDLED_SYMBOLS, MarketData
from core.errors import DataValidationError, UnknownSymbolError
from core.panel import watchlist as wl
from core.store import get_watchlist, session_scope
from tests.pg import both_backends

ROOT = Path(__file__).resolve().parents[2]


def test_default_is_the_setting_or_the_bundled_six(monkeypatch):
    assert wl.default_watchlist() == list(BUNDLED_SYMBOLS)
    monkeypatch.setenv("QUANTDESK_WATCHLIST", " nvda, ^gspc ,NVDA")
    get_settings.cache_clear()
    assert wl.default_watchlist() == ["NVDA", "^GSPC"]
    monkeypatch.setenv("QUANTDESK_WATCHLIST", "[x](http://evil.example)")
    get_settings.cache_clear()
    assert wl.default_watchlist() == list(BUNDLED_SYMBOLS)


@both_backends
def test_offline_unknown_ticker_is_refused_with_the_reason():
    """Tests run offline: a ticker that is neither bundled nor cached cannot be served."""
    with session_scope() as s:
        change = wl.add_symbols("session:t", ["MSFT"], ["ibm", "zzzz"], session=s)
    assert change.added == ["IBM"] and change.symbols == ["MSFT", "IBM"]
    assert "ZZZZ" in change.refused and "not bundled" in change.refused["ZZZZ"]
    with session_scope() as s:
        assert get_watchlist("session:t", session=s) == ["MSFT", "IBM"]


@both_backends
def test_online_ticker_is_checked_at_the_data_layer(monkeypatch, synthetic_frame):
    def fake_load(symbol, interval="1d", *a, **k):
        if symbol == "NOPE":
            raise UnknownSymbolError("Yahoo Finance has no bars for 'NOPE'.")
        return MarketData(synthetic_frame, symbol, interval, "yahoo", synthetic_frame.index[-1])

    monkeypatch.setattr(wl, "load_ohlcv", fake_load)
    with session_scope() as s:
        change = wl.add_symbols("user:alice", [], ["nvda", "nope", "NVDA"], session=s)
    assert change.symbols == ["NVDA"] and change.refused == {
        "NOPE": "Yahoo Finance has no bars for 'NOPE'."}


@both_backends
def test_malformed_input_stores_nothing():
    with session_scope() as s:
        with pytest.raises(DataValidationError, match="is not a ticker"):
            wl.add_symbols("session:x", ["MSFT"], ["![x](http://h/t)"], session=s)
        assert get_watchlist("session:x", session=s) is None


@pytest.fixture
def no_domains(monkeypatch):
    from core.panel import predictors

    monkeypatch.setattr(predictors, "DOMAIN_PREDICTORS", [])


@both_backends
def test_page_adds_removes_and_mirrors_in_url(no_domains):
    at = AppTest.from_file(str(ROOT / "views" / "overview.py"), default_timeout=90)
    at.query_params["watchlist"] = "MSFT,IBM"
    at.session_state["ov_paused"] = True
    at.run()
    assert not at.exception
    assert at.multiselect(key="ov_watchlist").value == ["MSFT", "IBM"]
    at.text_input(key="ov_add").input("aapl, zzzz")
    at.button[0].click().run()  # the form's "Add" button
    assert not at.exception
    assert at.multiselect(key="ov_watchlist").value == ["MSFT", "IBM", "AAPL"]
    assert any("ZZZZ was not added" in w.value for w in at.warning)
    assert at.query_params["watchlist"] == "MSFT,IBM,AAPL"
    at.multiselect(key="ov_watchlist").unselect("IBM").run()
    assert at.query_params["watchlist"] == "MSFT,AAPL"
    with session_scope() as s:
        sid = at.session_state["qd_session_id"]
        assert get_watchlist(f"session:{sid}", session=s) == ["MSFT", "AAPL"]


@pytest.mark.parametrize("entry", ["[x](https://e.x)", "![i](http://h/t)"])
def test_watchlist_refusals_show_the_entry_literally(no_domains, entry):
    """Issue 18: a typed or linked watchlist entry never renders as a link or image."""
    from core.display import literal

    at = AppTest.from_file(str(ROOT / "views" / "overview.py"), default_timeout=90)
    at.session_state["ov_paused"] = True
    at.run()
    at.text_input(key="ov_add").input(entry)
    at.button[0].click().run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any(literal(entry.upper()) in w for w in warnings), warnings
    assert not any("](" in w for w in warnings), warnings
