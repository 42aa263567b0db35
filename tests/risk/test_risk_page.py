from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "risk_sizing.py")


def test_risk_page_renders_without_exception():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["symbol"] = "IBM"
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert "Position [% equity]" in labels and "Stop loss" in labels
    assert any("VaR" in lbl for lbl in labels)  # portfolio view with the example holdings
    # bad input: an impossible forecast target gives a message, not a crash
    at.radio[2].set_value("forecast").run()
    assert at.number_input[7].label == "Forecast target price"
    at.number_input[7].set_value(1.0).run()
    assert not at.exception
    assert any("profit side" in e.value for e in at.error)


def test_signal_quality_kelly_source_says_it_loses():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["symbol"] = "MSFT"
    at.run()
    box = next(b for b in at.selectbox if b.label == "Kelly inputs")
    box.set_value("Signal-quality model").run()
    assert not at.exception
    text = " ".join(i.value for i in at.info)
    assert "P(success)" in text and "did **not** beat the base rate" in text
