from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok, table_columns

ROOT = Path(__file__).resolve().parents[2]


def test_forecasts_page_renders_for_a_bundled_symbol():
    at = AppTest.from_file(str(ROOT / "views" / "forecasts.py"), default_timeout=60)
    at.query_params["symbol"] = "MSFT"
    at.run()
    assert_page_ok(at)  # an unavailable model shows a warning: the test fails on it
    assert any("random walk" in m.value for m in at.markdown)
    columns = table_columns(at)
    assert any({"horizon", "model", "Price", "Return [%]"} <= c for c in columns)  # forecasts
    assert any({"RMSE ratio vs naive", "DM p vs naive"} <= c for c in columns)  # skill
    assert [t.label for t in at.tabs] == ["Walk-forward skill vs a random walk",
                                          "Feature importance of the active model"]
    # the importances are drawn only while their tab is open (issue 15)
    assert not any(c.proto.id.endswith("-fc_imp") for c in at.get("plotly_chart"))


def test_forecasts_importance_tab_draws_the_importances_per_horizon():
    at = AppTest.from_file(str(ROOT / "views" / "forecasts.py"), default_timeout=60)
    at.query_params["symbol"] = "MSFT"
    at.query_params["tab"] = "importance"
    at.run()
    assert_page_ok(at)
    assert at.radio(key="fc_imp_h").options == ["1", "5", "20"]
    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-fc_imp"))
    before = chart.proto.spec
    at.radio(key="fc_imp_h").set_value(at.radio(key="fc_imp_h").options[-1]).run()
    after = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-fc_imp"))
    assert after.proto.spec != before  # another horizon's importances
    assert not any({"RMSE ratio vs naive"} <= c for c in table_columns(at))  # other tab


def test_a_symbol_without_a_model_gets_pooled_forecasts_and_their_honest_record(monkeypatch):
    """A typed ticker no model was trained on (served here from real bundled IBM bars under
    another name, as Yahoo would serve it): the pooled model forecasts it, the page says so
    and shows the leave-symbols-out record instead of a missing walk-forward table."""
    from core.data import MarketData, load_ohlcv

    def fake_load(symbol, interval="1d", start=None, end=None, *, source="auto", min_bars=1,
                  wait=True):
        md = load_ohlcv("IBM", interval, start, end, source="bundled")
        return MarketData(md.frame, symbol.upper(), interval, "yahoo", md.as_of)

    monkeypatch.setattr("ui.data.load_ohlcv", fake_load)
    at = AppTest.from_file(str(ROOT / "views" / "forecasts.py"), default_timeout=60)
    at.query_params["symbol"] = "NEWCO"
    at.run()
    assert_page_ok(at)
    assert any("NEWCO: the pooled model" in i.value and "no model of its own" in i.value
               for i in at.info)
    columns = table_columns(at)
    assert any({"horizon", "model", "Price"} <= c for c in columns)
    assert any({"Test symbol", "Pooled RMSE ratio vs RW"} <= c for c in columns)
    assert any("On unseen symbols the pooled model beat the random walk" in m.value
               for m in at.markdown)
