from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import EXPECTED_WARNINGS, assert_page_ok, metrics

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "risk_sizing.py")


def test_risk_page_renders_without_exception():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["symbol"] = "IBM"
    at.run()
    assert_page_ok(at)
    labels = [m.label for m in metrics(at)]
    assert "Position [% equity]" in labels and "Stop loss" in labels
    # the portfolio's risk view is sent only while its tab is open (issue 15)
    assert not any("VaR" in lbl for lbl in labels)
    assert at.number_input(key="risk_entry").value > 0  # starts at the last close
    # bad input: an impossible forecast target gives a message, not a crash
    at.radio(key="risk_tp_method").set_value("forecast").run()
    assert at.number_input(key="risk_target").label == "Forecast target price"
    at.number_input(key="risk_target").set_value(1.0).run()
    assert_page_ok(at, allow_errors=("profit side",))
    assert any("profit side" in e.value for e in at.error)


def test_signal_quality_kelly_source_says_it_loses():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["symbol"] = "MSFT"
    at.run()
    at.selectbox(key="risk_kelly_src").set_value("Signal-quality model").run()
    assert_page_ok(at)  # "Signal-quality model unavailable" would be a warning
    text = " ".join(i.value for i in at.info)
    assert "P(success)" in text and "did **not** beat the base rate" in text


def test_entry_and_target_follow_the_symbol_and_direction():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["symbol"] = "IBM"
    at.run()
    entry = at.number_input(key="risk_entry").value
    target = at.number_input(key="risk_target").value
    assert abs(target / entry - 1.05) < 1e-4
    at.number_input(key="risk_entry").set_value(100.0).run()
    assert at.number_input(key="risk_entry").value == 100.0  # the user's entry survives reruns
    at.radio(key="risk_direction").set_value("short").run()
    assert abs(at.number_input(key="risk_target").value / entry - 0.95) < 1e-4
    assert at.number_input(key="risk_entry").value == 100.0
    assert_page_ok(at, allow_warnings=EXPECTED_WARNINGS + ("Kelly",))  # a sizing note


def test_portfolio_tab_shows_the_example_book_and_keeps_the_confidence():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["symbol"] = "IBM"
    at.query_params["tab"] = "portfolio"  # opens on that tab
    at.run()
    assert_page_ok(at)
    assert any("VaR" in m.label for m in metrics(at))  # the example holdings' risk
    assert len(at.get("plotly_chart")) >= 2  # correlation and contributions
    at.radio(key="risk_level").set_value(0.99).run()
    assert any("99%" in m.label for m in metrics(at)), [m.label for m in metrics(at)]
    assert at.session_state["_qd_kept_risk_level"] == 0.99  # what a run without the tab keeps
    back = AppTest.from_file(PAGE, default_timeout=120)  # a radio drawn again after such a run
    back.query_params["tab"] = "portfolio"
    back.session_state["_qd_kept_risk_level"] = 0.99
    back.run()
    assert back.radio(key="risk_level").value == 0.99


def test_portfolio_edits_are_kept_while_the_editor_is_not_drawn():
    """The editor is sent only while its tab is open (issue 15); its rows size the trade on
    every tab and are where the editor starts from when opened again."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["symbol"] = "IBM"
    at.query_params["tab"] = "portfolio"
    at.run()
    assert_page_ok(at)
    editors = [d for d in at.dataframe if "symbol" in d.value.columns]
    assert len(editors) == 1 and at.file_uploader  # the editor and the CSV import
    shown = at.session_state["_risk_holdings_edited"]  # what the editor showed
    assert list(shown["symbol"]) == list(at.session_state["risk_holdings"]["symbol"])
    edited = shown.iloc[:2].copy()  # the user deleted every row but the first two
    edited["shares"] = [7.0, 3.0]
    at.session_state["_risk_holdings_edited"] = edited
    at.session_state["risk_tab"] = "Sizing calculator"  # another tab: the editor is not drawn
    at.run()
    assert_page_ok(at)
    assert not at.dataframe and not at.file_uploader
    kept = at.session_state["risk_holdings"]
    assert list(kept["symbol"]) == list(edited["symbol"]) and list(kept["shares"]) == [7.0, 3.0]
    at.session_state["risk_tab"] = "Portfolio risk"  # opened again: the edited rows
    at.run()
    assert_page_ok(at)
    again = at.session_state["_risk_holdings_edited"]
    assert list(again["symbol"]) == list(edited["symbol"]) and list(again["shares"]) == [7.0, 3.0]
    assert any("VaR" in m.label for m in metrics(at))
