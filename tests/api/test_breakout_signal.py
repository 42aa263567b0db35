"""POST /predict/breakout and POST /predict/signal: the values core returns for the same
bars (breakout_prediction with the serving model; the panel's fused signal), with version,
interval, naive baseline, skill label and the prediction log."""

import pytest
from sqlmodel import select

from core.api.schemas import PredictResponse, SignalResponse
from core.baseline.naive import naive_predictor
from core.data import load_ohlcv
from core.forecasting.serve import slice_as_of
from core.panel.symbol import symbol_panel
from core.patterns.serve import breakout_prediction, load_breakout_model
from core.store import PredictionRow, session_scope

# AAPL's last bundled bar (2013-03-01) breaks down through support; 2013-02-28 breaks nothing
BREAKOUT_BAR, QUIET_BAR = "2013-03-01", "2013-02-28"


def test_breakout_equals_breakout_prediction(client):
    r = client.post("/predict/breakout", json={"symbol": "AAPL", "source": "bundled",
                                               "as_of": BREAKOUT_BAR})
    assert r.status_code == 200, r.text
    body = PredictResponse.model_validate(r.json())
    bm = load_breakout_model()
    want = breakout_prediction(load_ohlcv("AAPL", source="bundled"), bm)
    assert want is not None
    [got] = body.predictions
    assert got.model_name == "breakout" and got.kind == "probability"
    assert got.value == pytest.approx(want.value, abs=1e-12)
    assert got.horizon == want.horizon and got.output["event"] == want.output["event"]
    assert got.skill is bm.skill  # the model's walk-forward record: no skill
    assert body.model_versions == [bm.version] and body.interval == "1d"
    [base] = body.baseline  # the naive baseline of a breakout probability: the base rate
    assert base.model_name == "naive" and base.value == pytest.approx(bm.metadata["base_rate"])
    assert base.output["event"] == got.output["event"]
    assert body.last_bar.startswith(BREAKOUT_BAR) and body.latency_ms >= 0
    assert body.logged == 1


def test_breakout_on_a_quiet_bar_says_so(client):
    r = client.post("/predict/breakout", json={"symbol": "AAPL", "source": "bundled",
                                               "as_of": QUIET_BAR})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["predictions"] == [] and body["logged"] == 0
    assert any("not a breakout" in n for n in body["notes"])
    assert body["baseline"][0]["value"] == pytest.approx(
        load_breakout_model().metadata["base_rate"])


def test_breakout_with_too_few_bars_is_422(client):
    bars = [{"timestamp": f"2020-01-{i + 1:02d}", "open": 10, "high": 11, "low": 9,
             "close": 10} for i in range(5)]
    r = client.post("/predict/breakout", json={"bars": bars})
    assert r.status_code == 422 and "12 bars" in r.json()["detail"]


def test_breakout_is_listed_with_its_endpoint(client):
    rows = {m["name"]: m for m in client.get("/models").json()}
    assert rows["breakout"]["predict_endpoint"] == "/predict/breakout"


def test_signal_equals_the_panel(client):
    r = client.post("/predict/signal", json={"symbol": "AAPL", "source": "bundled",
                                             "as_of": BREAKOUT_BAR})
    assert r.status_code == 200, r.text
    body = SignalResponse.model_validate(r.json())
    md = load_ohlcv("AAPL", source="bundled")
    sp = symbol_panel(md)
    assert body.action == sp.signal.action
    assert body.score == pytest.approx(sp.signal.score)
    assert body.confidence == pytest.approx(sp.signal.confidence)
    assert body.reasons == sp.signal.reasons and body.components == sp.signal.components
    assert body.regime == sp.regime and body.skipped == sp.skipped
    want = [(p.model_name, p.horizon) for p in sp.predictions if p.model_version != "naive"]
    assert [(p.model_name, p.horizon) for p in body.predictions] == want
    assert body.model_versions == sorted({p.model_version for p in sp.predictions
                                          if p.model_version != "naive"})
    assert [p.upper for p in body.baseline] == pytest.approx(
        [p.upper for p in naive_predictor(md)])
    assert body.baseline_action == "HOLD" and body.interval == "1d"
    # the shipped models have no walk-forward skill: nothing drives the signal
    assert body.components == {} and body.skill is False and body.action == "HOLD"
    assert body.latency_ms >= 0


def test_signal_is_logged_like_the_panel(client):
    r = client.post("/predict/signal", json={"symbol": "MSFT", "source": "bundled"})
    assert r.status_code == 200, r.text
    assert r.json()["logged"] > 0
    with session_scope() as s:
        names = {row.model_name for row in s.exec(select(PredictionRow)).all()}
    assert {"naive", "forecast", "volatility"} <= names


def test_signal_from_bars_in_the_body_equals_the_symbol(client):
    md = load_ohlcv("MSFT", source="bundled")
    frame = slice_as_of(md.frame, "2012-06-29").iloc[-400:]
    bars = [{"timestamp": ts.isoformat(), "open": b.open, "high": b.high, "low": b.low,
             "close": b.close, "volume": b.volume} for ts, b in frame.iterrows()]
    by_bars = client.post("/predict/signal", json={"symbol": "MSFT", "bars": bars})
    by_symbol = client.post("/predict/signal", json={"symbol": "MSFT", "source": "bundled",
                                                     "as_of": "2012-06-29"})
    assert by_bars.status_code == by_symbol.status_code == 200, by_bars.text
    assert by_bars.json()["source"] == "request"
    assert by_bars.json()["action"] == by_symbol.json()["action"]
    assert by_bars.json()["last_bar"] == by_symbol.json()["last_bar"]


def test_signal_skill_label():
    from core.api.service import signal_skill
    from core.predictions import Prediction

    def fc(skill):
        return Prediction("forecast", "v", "X", "1d", "log_return", 5, None, 0.01,
                          lower=-0.01, upper=0.03, output={"skill": skill})

    assert signal_skill({}, [fc(False)]) is False
    assert signal_skill({"forecast": 0.5}, [fc(True)]) is True
    assert signal_skill({"forecast": 0.5}, [fc(None)]) is None
