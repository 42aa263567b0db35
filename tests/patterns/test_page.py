"""The Patterns page renders without exceptions on a bundled symbol (committed models)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok

PAGE = Path(__file__).resolve().parents[2] / "views" / "patterns.py"


def test_patterns_page_renders():
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.query_params["symbol"] = "IBM"
    at.run()
    assert_page_ok(at)  # "Pattern CNN unavailable" / "Breakout model unavailable" would fail
    titles = [s.value for s in at.subheader]
    assert "Breakouts" in titles
    # the edge table says plainly when a pattern has no measurable edge
    frames = [df.value for df in at.dataframe]
    assert any("Verdict" in getattr(f, "columns", []) for f in frames)
