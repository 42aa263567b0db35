from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok

ROOT = Path(__file__).resolve().parents[2]


def test_forecasts_page_renders_for_a_bundled_symbol():
    at = AppTest.from_file(str(ROOT / "views" / "forecasts.py"), default_timeout=60)
    at.query_params["symbol"] = "MSFT"
    at.run()
    assert_page_ok(at)  # an unavailable model shows a warning: the test fails on it
    assert any("random walk" in m.value for m in at.markdown)
    columns = [set(d.value.columns) for d in at.dataframe]
    assert any({"horizon", "model", "Price", "Return [%]"} <= c for c in columns)  # forecasts
    assert any({"RMSE ratio vs naive", "DM p vs naive"} <= c for c in columns)  # skill
