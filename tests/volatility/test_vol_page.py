"""The Volatility page renders without exceptions (Streamlit AppTest)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok, metrics

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_volatility_page_runs():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["symbol"] = "^GSPC"
    at.run()
    at.switch_page("views/volatility.py")
    at.run()
    assert_page_ok(at)  # "No forecast" / "No GARCH history" warnings would fail
    assert any("Volatility" in t.value for t in at.title)
    assert len(metrics(at)) >= 4  # regime + three horizons


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


def test_volatility_evaluation_is_drawn_only_in_its_tab():
    from tests.page_checks import open_page, table_columns

    page = str(Path(__file__).resolve().parents[2] / "views" / "volatility.py")
    at = open_page(page)
    assert_page_ok(at)
    assert [t.label for t in at.tabs] == ["Forecast", "History & regime", "Cone",
                                          "Estimators", "Evaluation"]
    assert not any("QLIKE" in c for c in table_columns(at))  # issue 15: lazy
    ev = open_page(page, tab="evaluation")
    assert_page_ok(ev)
    assert any({"QLIKE", "QLIKE / GARCH(1,1)", "DM p vs GARCH"} <= c for c in table_columns(ev))
    assert ev.radio(key="vol_eval_h").options == ["1", "5", "21"]
