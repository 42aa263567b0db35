from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_forecasts_page_renders_for_a_bundled_symbol():
    at = AppTest.from_file(str(ROOT / "views" / "forecasts.py"), default_timeout=60)
    at.query_params["symbol"] = "MSFT"
    at.run()
    assert not at.exception
    assert any("random walk" in m.value for m in at.markdown) or at.info
    assert len(at.dataframe) >= 1
