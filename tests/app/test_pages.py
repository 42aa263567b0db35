"""AppTest: app.py and every page run on bundled data without an exception; bad input in
the sidebar (via URL query parameters) gives an explained st.error, never a crash; the Admin
page is registered only for a signed-in admin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = ["views/overview.py", "views/screener.py", "views/patterns.py", "views/forecasts.py",
         "views/sentiment.py", "views/volatility.py", "views/risk_sizing.py",
         "views/strategy_lab.py", "views/paper.py", "views/monitoring.py"]
NO_SIDEBAR = {"views/monitoring.py", "views/screener.py"}  # own controls, no symbol sidebar
ADMIN, PASSWORD = "test-admin", "a test password, not a real one"


def app(**params) -> AppTest:
    """app.py after one run (the entry point with its sidebar and the default page)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def shown(markdown: str) -> str:
    """What the reader sees of escaped markdown (core.display.literal): backslashes gone."""
    return re.sub(r"\\(.)", r"\1", markdown)


def texts(at: AppTest, kind: str) -> str:
    return " | ".join(shown(e.value) for e in getattr(at, kind))


#: Streamlit's frontend test for an emoji shortcode in a markdown text (StreamlitMarkdown): a
#: match, such as ``:12:`` in a clock time, makes the browser fetch and evaluate its emoji
#: plugin before it draws the text (issue 15); escaped colons (core.display.literal) do not
EMOJI_SHORTCODE = re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:")
MARKDOWN_KINDS = ("markdown", "caption", "title", "header", "subheader", "info", "warning",
                  "error", "success")


def emoji_shortcodes(at: AppTest) -> list[str]:
    """The markdown texts of the page that would load the frontend's emoji plugin."""
    return [e.value for kind in MARKDOWN_KINDS for e in getattr(at, kind)
            if EMOJI_SHORTCODE.search(e.value)]


def status_captions(at: AppTest) -> list[str]:
    return [shown(c.value) for c in at.caption
            if "source:" in shown(c.value) and "bars" in c.value]


def test_every_page_runs_on_bundled_data():
    at = app(symbol="AAPL", start="2011-01-03", end="2012-12-31")
    assert_page_ok(at)
    for page in PAGES:
        at.switch_page(page).run()
        assert_page_ok(at)  # no error, and no warning beyond the models' known verdicts
        assert not emoji_shortcodes(at), page  # e.g. an unescaped clock time
        if page not in NO_SIDEBAR:
            # the sidebar selection survives the page switch (bound to the URL)
            assert at.selectbox(key="symbol").value == "AAPL", page
    # the data-status line: symbol, bars, range, source, as-of
    at.switch_page("views/volatility.py").run()
    line = status_captions(at)[0]
    assert line.startswith("AAPL 1d") and "2011-01-03" in line and "source: bundled" in line


def test_a_clock_time_in_markdown_is_not_an_emoji_shortcode():
    """The check above can fail: an unescaped time is caught, the escaped one shows the same."""
    import datetime as dt

    from core.display import time_literal

    t = dt.datetime(2026, 12, 2, 7, 12, 34)
    assert EMOJI_SHORTCODE.search(f"As of {t:%Y-%m-%d %H:%M:%S} UTC")
    assert not EMOJI_SHORTCODE.search(f"As of {time_literal(t)} UTC")
    assert shown(time_literal(t)) == "2026-12-02 07:12:34"


def test_bundled_history_is_labelled_with_its_as_of_date():
    at = app(symbol="AAPL", bundled="true")
    assert not at.exception, at.exception
    at.switch_page("views/volatility.py").run()
    assert not at.exception and not at.error, texts(at, "error")
    assert at.checkbox(key="bundled").value is True
    assert "Bundled history (offline demo), last bar 2013-03-01." in texts(at, "info")
    assert "source: bundled" in status_captions(at)[0]


@pytest.mark.parametrize("params, expect", [
    ({"symbol": "ZZZZ"}, "ZZZZ"),                              # a typed ticker, offline
    ({"symbol": "OTHER", "ticker": "NOSUCH1"}, "NOSUCH1"),      # Other (Yahoo) offline
    ({"interval": "1h"}, "Only daily (1d)"),                    # intraday offline
    ({"start": "2012-06-01", "end": "2011-01-01"}, "after the end date"),
    ({"start": "2020-01-01"}, "has daily bars from 2000-03-01 to 2013-03-01"),
])
def test_bad_sidebar_input_is_explained_not_raised(params, expect):
    at = app(**params)
    assert_page_ok(at, allow_errors=(expect,), allow_warnings=None)  # only the expected error
    assert expect in texts(at, "error"), texts(at, "error")
    assert not status_captions(at)
    if params.get("symbol") != "ZZZZ":  # AppTest cannot rerun a typed (new) option
        at.switch_page("views/volatility.py").run()  # and on another page too
        assert not at.exception and expect in texts(at, "error")


def test_other_ticker_without_text_asks_for_one():
    at = app(symbol="OTHER")
    assert_page_ok(at)
    assert "Type a ticker" in texts(at, "info")


def test_malformed_csv_upload_names_the_column():
    """The sidebar's CSV path (file_uploader cannot be driven by AppTest: call the loader)."""
    def script():
        from ui.sidebar import Selection, market_data

        sel = Selection("CSV", "1d", None, None, csv_name="mine.csv",
                        csv_bytes=b"Date,Open,Hi,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,9\n")
        market_data(sel)
        bad = Selection("CSV", "1d", None, None, csv_name="rows.csv",
                        csv_bytes=b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,9\n"
                                  b"2020-01-03,1,2,0.5,oops,9\n")
        market_data(bad)

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 2
    assert "Hi" in errors[0] and "Accepted headers" in errors[0]
    assert "close" in errors[1] and "2020-01-03" in errors[1]


def test_admin_page_is_registered_only_for_admins():
    at = app()
    nav = [p for p in PAGES]
    assert len(nav) == 10
    with pytest.raises(Exception):  # not in st.navigation: cannot be switched to
        at.switch_page("views/admin.py").run()
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["admin_user"] = "someone"
    at.session_state["admin_source"] = "local"
    at.run()
    at.switch_page("views/admin.py").run()
    assert_page_ok(at)
    assert [t.value for t in at.title] == ["Admin"]


def test_admin_page_gate_rechecks_when_run_directly():
    at = AppTest.from_file(str(ROOT / "views" / "admin.py"), default_timeout=60).run()
    assert not at.exception
    assert "for admins" in texts(at, "error")


def _auth_script():
    """The sidebar sign-in box alone, with is_admin() printed (fast: no page, no data)."""
    import streamlit as st

    from ui.auth import auth_sidebar, is_admin

    auth_sidebar()
    st.write(f"is_admin={is_admin()}")


def _auth_app() -> AppTest:
    return AppTest.from_function(_auth_script, default_timeout=60).run()


def _is_admin(at: AppTest) -> bool:
    return "is_admin=True" in [m.value for m in at.markdown]


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="qd_login_name").input(name)
    at.text_input(key="qd_login_password").input(password)
    return at.button(key="qd_sign_in").click().run()


def test_app_shows_the_sign_in_box():
    at = app()
    assert at.button(key="qd_sign_in").label == "Sign in"
    assert "Sign out" not in [b.label for b in at.button]  # nobody is signed in yet
    assert at.text_input(key="qd_login_password").proto.type == 1  # PASSWORD


def test_local_sign_in_and_out():
    from core.auth import create_admin

    create_admin(ADMIN, PASSWORD)
    at = _auth_app()
    assert not _is_admin(at)
    at = _sign_in(at, ADMIN, "wrong password here")
    assert not at.exception
    assert "Wrong admin name or password" in texts(at, "error")
    assert not _is_admin(at) and "admin_user" not in at.session_state
    at = _sign_in(at, ADMIN, PASSWORD)
    assert not at.exception
    assert _is_admin(at) and at.session_state["admin_user"] == ADMIN
    assert any(ADMIN in c.value for c in at.caption)  # "Signed in as ..."
    at.button(key="qd_sign_out").click().run()
    assert not _is_admin(at) and "admin_user" not in at.session_state
    from core.store import audit_log, session_scope

    with session_scope() as s:  # both attempts audited, never the password
        rows = [(r.who, r.action, r.detail) for r in audit_log(session=s)
                if r.action.startswith("sign_in")]
    assert [a for _, a, _ in rows] == ["sign_in", "sign_in_failed"]  # newest first
    assert all(w == ADMIN for w, _, _ in rows)
    assert PASSWORD not in repr(rows) and "wrong password here" not in repr(rows)


def test_no_default_password_works_and_guessing_is_throttled(monkeypatch):
    import ui.auth
    from core.auth import LoginThrottle

    monkeypatch.setattr(ui.auth, "_THROTTLE", LoginThrottle())
    at = _auth_app()
    for pw in ["admin", "password", "quantdesk", "changeme", "admin123"]:
        at = _sign_in(at, "admin", pw)
        assert not _is_admin(at)
        assert "Wrong admin name or password" in texts(at, "error")
    at = _sign_in(at, "admin", "one more guess")  # 6th attempt: must wait
    assert "Too many failed sign-ins" in texts(at, "error")


def _ibm_status_script():
    """IBM's data-status block, as a page shows it (the test sets up Yahoo's failure)."""
    from core.data import load_ohlcv
    from ui.sidebar import status_line

    status_line(load_ohlcv("IBM"))


def test_status_line_warns_when_bundled_stands_in_for_yahoo(monkeypatch):
    from core.config import get_settings
    from core.data import network
    from core.errors import SourceUnreachableError

    def unreachable(*a, **k):  # Yahoo's seam fails as it does with DNS down
        raise SourceUnreachableError("Yahoo Finance is unreachable (DNSError).")

    monkeypatch.setenv("QUANTDESK_OFFLINE", "0")
    get_settings.cache_clear()
    monkeypatch.setattr("core.data.fetch_yahoo", unreachable)
    network.PROBE.remember(True)  # the probe said yes a moment ago (no socket opened)
    at = AppTest.from_function(_ibm_status_script, default_timeout=60).run()
    assert not at.exception, at.exception
    warning = texts(at, "warning")
    assert "Stale data: Bundled history (offline demo), last bar 2013-03-01." in warning
    assert "unreachable (DNSError)" in warning
    assert status_captions(at)[0].startswith("STALE · IBM 1d")


def _selection_script():
    """The sidebar alone, its popover's label and selection printed (no page, no data)."""
    import streamlit as st

    from ui.sidebar import _label, draw_sidebar

    label = _label()
    sel = draw_sidebar()
    st.text(f"label={label}|symbol={sel.symbol}|interval={sel.interval}")


def _selection(at: AppTest) -> str:
    return next(t.value for t in at.text if t.value.startswith("label="))


def test_sidebar_popover_label_is_the_selection_from_url_widgets_and_defaults():
    at = AppTest.from_function(_selection_script, default_timeout=60).run()
    assert _selection(at) == "label=MSFT · 1d|symbol=MSFT|interval=1d"
    at.selectbox(key="symbol").select("IBM").run()  # a changed widget: the label follows
    assert _selection(at) == "label=IBM · 1d|symbol=IBM|interval=1d"
    at = AppTest.from_function(_selection_script, default_timeout=60)
    at.query_params.update({"symbol": "OTHER", "ticker": "nvda", "interval": "1h",
                            "start": "2020-01-02"})
    at.run()
    assert _selection(at) == ("label=NVDA · 1h · from 2020-01-02|symbol=NVDA|interval=1h")
    at = AppTest.from_function(_selection_script, default_timeout=60)
    at.query_params["symbol"] = "CSV"
    at.run()
    assert _selection(at) == "label=Uploaded CSV · 1d|symbol=CSV|interval=1d"
    at = AppTest.from_function(_selection_script, default_timeout=60)
    at.query_params["symbol"] = "[x](https://evil.example)"  # a typed ticker is shown literally
    at.run()
    label = _selection(at).split("|")[0]
    assert label.startswith("label=\\[X\\]\\(HTTPS\\://EVIL") and "](" not in label, label


def _notes_script():
    """A data-status block with two notes (a CSV's repairs)."""
    import pandas as pd

    from core.data import MarketData
    from ui.sidebar import status_line

    idx = pd.date_range("2024-01-02", periods=3, freq="D", tz="UTC")
    frame = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0},
                         index=idx)
    status_line(MarketData(frame, "ABC", "csv", "csv", idx[-1],
                           notes=["2 duplicate rows dropped", "[x](https://evil.example)"]))


def test_data_notes_are_drawn_once_their_expander_is_opened():
    at = AppTest.from_function(_notes_script, default_timeout=30).run()
    assert not at.exception
    assert [e.label for e in at.expander] == ["2 data note(s)"]
    assert "duplicate rows" not in texts(at, "markdown")  # closed: nothing sent (issue 15)
    at.session_state["data_notes"] = True
    at.run()
    shown = texts(at, "markdown")
    assert "2 duplicate rows dropped" in shown and "evil.example" in shown
    assert "](" not in at.markdown[0].value.replace("\\](", "")  # the link stays literal
