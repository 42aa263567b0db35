"""The Patterns page renders without exceptions on a bundled symbol (committed models), each
section in its tab, drawn only while that tab is open."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok, metrics, table_columns

PAGE = Path(__file__).resolve().parents[2] / "views" / "patterns.py"


def _page(tab: str | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.query_params["symbol"] = "IBM"
    if tab:
        at.query_params["tab"] = tab
    return at.run()


def test_patterns_page_renders():
    at = _page()
    assert_page_ok(at)  # "Pattern CNN unavailable" would fail
    assert [t.label for t in at.tabs] == ["Latest bar", "Pattern edge", "Breakouts"]
    charts = [c.proto.id for c in at.get("plotly_chart")]
    assert any(c.endswith("-patterns_chart") for c in charts)
    # the latest bar's tab is open: the CNN's confidence in all 15 patterns, as HTML bars
    bars = [b for b in (str(e.proto.body) for e in at.get("html")) if "qd-bars-title" in b]
    assert len(bars) == 1 and "Latest bar: CNN pattern confidence" in bars[0]
    assert bars[0].count('<div class="qd-bar-row">') == 15
    assert any("threshold [%]" in cols for cols in table_columns(at))
    # the other sections are neither computed nor sent until their tab is opened (issue 15)
    assert not at.dataframe and not metrics(at)
    assert not any("Rule hits on" in c.value for c in at.caption)


def test_patterns_pills_choose_what_the_chart_marks():
    at = _page()

    def chart_spec(at):
        return next(c.proto.spec for c in at.get("plotly_chart")
                    if c.proto.id.endswith("-patterns_chart"))

    assert "doji" not in at.session_state["patterns_shown"]  # hidden by default
    before = chart_spec(at)
    at.session_state["patterns_shown"] = ["doji"]  # as a click on the doji pill sets it
    at.run()
    assert_page_ok(at)
    assert at.session_state["patterns_shown"] == ["doji"]
    assert chart_spec(at) != before and "doji" in chart_spec(at)


def test_patterns_edge_tab_shows_the_edge_table():
    at = _page("edge")
    assert_page_ok(at)
    # the edge table says plainly when a pattern has no measurable edge
    frames = [df.value for df in at.dataframe]
    assert any("Verdict" in getattr(f, "columns", []) for f in frames)
    assert any("Rule hits on IBM" in c.value for c in at.caption)
    assert not any("qd-bars" in str(e.proto.body) for e in at.get("html"))  # latest: closed


def test_patterns_breakouts_tab_shows_the_model_beside_its_record():
    at = _page("breakouts")
    assert_page_ok(at)  # "Breakout model unavailable" would fail
    assert metrics(at)  # the breakout model's walk-forward figures
    assert any(c.proto.id.endswith("-patterns_rel") for c in at.get("plotly_chart"))
    assert "**Track record (walk-forward, out of sample)**" in [m.value for m in at.markdown]
