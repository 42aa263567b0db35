"""Pages log what they show: once per symbol/bar/model version, however often they rerun."""

from pathlib import Path

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok

ROOT = Path(__file__).resolve().parents[1]


def _rows():
    from core.store import PredictionRow, session_scope

    with session_scope() as s:
        return list(s.exec(select(PredictionRow)).all())


def test_forecasts_page_logs_its_predictions_once():
    at = AppTest.from_file(str(ROOT / "views" / "forecasts.py"), default_timeout=90)
    at.query_params["symbol"] = "MSFT"
    at.run()
    assert_page_ok(at)
    rows = _rows()
    assert {r.horizon for r in rows if r.model_name == "forecast"} == {1, 5, 20}
    assert all(r.symbol == "MSFT" and r.kind == "log_return" for r in rows)
    at.run()  # a rerun shows the same bar: nothing new is stored
    assert len(_rows()) == len(rows)


def test_volatility_page_logs_variance_forecasts():
    at = AppTest.from_file(str(ROOT / "views" / "volatility.py"), default_timeout=90)
    at.query_params["symbol"] = "^GSPC"
    at.run()
    assert_page_ok(at)
    rows = [r for r in _rows() if r.model_name == "volatility"]
    assert {r.horizon for r in rows} == {1, 5, 21}
    assert all(r.kind == "variance" and r.value > 0 for r in rows)
