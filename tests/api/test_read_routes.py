"""Contract tests of the open routes: status, schema, and values equal to what the CLI and
core return for the same input (bundled MSFT, offline)."""

import json

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from core.api.schemas import MAX_BATCH, MAX_UNIVERSE, PredictResponse
from core.baseline.naive import naive_predictor
from core.cli import app as cli_app
from core.data import load_ohlcv
from core.families import FAMILIES
from core.registry import list_versions
from core.risk.sizing import RiskParameters, size_position
from core.store import PredictionRow, session_scope


def _bars(frame):
    return [{"timestamp": ts.isoformat(), "open": r.open, "high": r.high, "low": r.low,
             "close": r.close, "volume": r.volume} for ts, r in frame.iterrows()]


def test_health_reports_db_bundled_data_and_every_family(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["database"]["ok"] is True
    assert body["yahoo"]["reachable"] is False  # offline in tests: never probed
    assert body["bundled_data"]["present"] is True and "MSFT" in body["bundled_data"]["symbols"]
    assert [f["name"] for f in body["families"]] == list(FAMILIES)
    fc = next(f for f in body["families"] if f["name"] == "forecast")
    assert fc["loads"] is True and fc["active_version"] == list_versions("forecast")[-1]
    assert body["uptime_s"] >= 0 and body["status"] == "ok"


def test_models_list_and_detail_with_record(client):
    r = client.get("/models")
    assert r.status_code == 200
    rows = {m["name"]: m for m in r.json()}
    assert set(rows) == set(FAMILIES)
    assert rows["forecast"]["versions"] == list_versions("forecast")
    assert rows["forecast"]["predict_endpoint"] == "/predict/forecast"
    d = client.get("/models/forecast").json()
    assert d["record_version"] == d["serving_version"] == list_versions("forecast")[-1]
    cell = d["record"]["MSFT"]["5"]
    assert set(cell) >= {"metric", "model", "baseline", "ratio", "pvalue", "skill"}


def test_unknown_family_is_404_with_plain_message(client):
    r = client.get("/models/no-such-model")
    assert r.status_code == 404
    assert r.json()["error"] == "UnknownFamilyError" and "forecast" in r.json()["detail"]
    r = client.post("/predict/nope", json={"symbol": "MSFT"})
    assert r.status_code == 404 and "forecast" in r.json()["detail"]


def test_predict_forecast_equals_the_cli(client):
    r = client.post("/predict/forecast", json={"symbol": "MSFT", "source": "bundled",
                                               "as_of": "2012-12-31"})
    assert r.status_code == 200, r.text
    body = PredictResponse.model_validate(r.json())
    out = CliRunner().invoke(cli_app, ["predict", "forecast", "--symbol", "MSFT",
                                       "--as-of", "2012-12-31", "--json"])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.output)
    assert [p.horizon for p in body.predictions] == [c["horizon"] for c in cli]
    for api, c in zip(body.predictions, cli):
        assert api.value == pytest.approx(c["value"], abs=1e-12)
        assert (api.lower, api.upper) == pytest.approx((c["lower"], c["upper"]), abs=1e-12)
        assert api.model_version == c["model_version"]
        assert api.skill == c["output"].get("skill", api.skill)
    assert body.last_bar.startswith("2012-12-31")
    assert body.model_versions == [list_versions("forecast")[-1]]
    assert {p.horizon for p in body.baseline} == {1, 5}
    assert all(p.model_name == "naive" and p.value == 0.0 for p in body.baseline)
    assert all(isinstance(p.skill, bool) or p.skill is None for p in body.predictions)
    assert body.latency_ms > 0


def test_predict_volatility_and_patterns_equal_predict_latest(client):
    md = load_ohlcv("MSFT", source="bundled")
    for route, fam in (("volatility", "volatility"), ("patterns", "patterns-cnn")):
        r = client.post(f"/predict/{route}", json={"symbol": "MSFT", "source": "bundled"})
        assert r.status_code == 200, r.text
        want = FAMILIES[fam].predict_latest(md)
        got = r.json()["predictions"]
        assert [(p["model_name"], p["horizon"]) for p in got] == [
            (p.model_name, p.horizon) for p in want]
        assert [p["value"] for p in got] == pytest.approx([p.value for p in want])


def test_bars_in_the_body_give_the_same_forecast_as_the_symbol(client):
    md = load_ohlcv("MSFT", source="bundled")
    frame = md.frame.iloc[-400:]
    by_bars = client.post("/predict/volatility", json={"symbol": "MSFT", "bars": _bars(frame)})
    by_symbol = client.post("/predict/volatility", json={"symbol": "MSFT", "source": "bundled"})
    assert by_bars.status_code == 200, by_bars.text
    assert by_bars.json()["source"] == "request"
    assert by_bars.json()["last_bar"] == by_symbol.json()["last_bar"]
    naive = naive_predictor(md)
    assert [p["upper"] for p in by_bars.json()["baseline"]] == pytest.approx(
        [p.upper for p in naive])


def test_predict_risk_equals_size_position(client):
    r = client.post("/predict/risk", json={"symbol": "MSFT", "source": "bundled",
                                           "equity": 50_000, "risk_pct": 0.5,
                                           "direction": "short"})
    assert r.status_code == 200, r.text
    md = load_ohlcv("MSFT", source="bundled")
    want = size_position(md.frame, RiskParameters(equity=50_000, risk_pct=0.5,
                                                  direction="short"), "MSFT", "1d")
    s = r.json()["sizing"]
    assert s["shares"] == want.shares
    assert s["stop_price"] == pytest.approx(want.stop_price)
    assert s["take_profit"] == pytest.approx(want.take_profit)
    assert s["vol_adjustment"] == pytest.approx(want.vol_adjustment)
    assert len(r.json()["baseline"]) == 2


def test_predict_sentiment_scores_texts(client):
    r = client.post("/predict/sentiment", json={"texts": ["Shares surge on record profit",
                                                          "Company warns of heavy losses"]})
    assert r.status_code == 200, r.text
    rows = r.json()["results"]
    assert [row["label"] for row in rows] == ["positive", "negative"]
    assert all(-1 <= row["ensemble"] <= 1 for row in rows)


def test_served_predictions_are_logged(client):
    r = client.post("/predict/forecast", json={"symbol": "MSFT", "source": "bundled"})
    assert r.status_code == 200
    assert r.json()["logged"] == len(r.json()["predictions"]) == 3
    with session_scope() as s:
        rows = s.exec(select(PredictionRow).where(PredictionRow.model_name == "forecast")).all()
        assert sorted(row.horizon for row in rows) == [1, 5, 20]
        assert {row.symbol for row in rows} == {"MSFT"}


def test_batch_gives_a_result_or_an_error_per_symbol(client):
    r = client.post("/batch", json={"family": "volatility", "source": "bundled",
                                    "symbols": ["MSFT", "NOPE", "", "aapl"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 4 and body["failed"] == 2
    ok = {x["symbol"]: x["ok"] for x in body["results"]}
    assert ok == {"MSFT": True, "NOPE": False, "": False, "aapl": True}
    bad = body["results"][1]["error"]
    assert bad["error"] == "UnknownSymbolError" and "NOPE" in bad["detail"]


def test_batch_size_limits(client):
    r = client.post("/batch", json={"symbols": ["MSFT"] * (MAX_UNIVERSE + 1)})
    assert r.status_code == 422 and r.json()["field"] == "symbols"
    r = client.post("/batch", json={"symbols": ["MSFT"], "limit": MAX_BATCH + 1})
    assert r.status_code == 422 and r.json()["field"] == "limit"
