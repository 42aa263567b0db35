"""The Volatility page renders without exceptions (Streamlit AppTest)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_volatility_page_runs():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["symbol"] = "^GSPC"
    at.run()
    at.switch_page("views/volatility.py")
    at.run()
    assert_page_ok(at)  # "No forecast" / "No GARCH history" warnings would fail
    assert any("Volatility" in t.value for t in at.title)
    assert len(at.metric) >= 4  # regime + three horizons


def test_volatility_page_short_history_explains_instead_of_raising():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["symbol"] = "^IXIC"
    at.query_params["start"] = "2018-06-01"
    at.query_params["end"] = "2018-12-31"
    at.run()
    at.switch_page("views/volatility.py")
    at.run()
    assert_page_ok(at, allow_warnings=("at least",))
    assert any("at least" in w.value for w in at.warning)
