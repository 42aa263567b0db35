"""The Patterns page renders without exceptions on a bundled symbol (committed models)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "views" / "patterns.py"


def test_patterns_page_renders():
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.query_params["symbol"] = "IBM"
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    titles = [s.value for s in at.subheader]
    assert "Breakouts" in titles
    # the edge table says plainly when a pattern has no measurable edge
    frames = [df.value for df in at.dataframe]
    assert any("Verdict" in getattr(f, "columns", []) for f in frames)
