"""POST /backtest and GET /context/{symbol}: the Strategy Lab over HTTP, with values equal
to what the CLI prints for the same input (bundled MSFT, offline), bounded trades and
equity curve, and bad input as 4xx naming the field."""

import json

import pytest
from typer.testing import CliRunner

from core.cli import app as cli_app
from core.strategy.spec import EXAMPLES_DIR

RSI = {"name": "RSI API", "side": "long", "entry": {"signals": ["rsi"]},
       "exit": {"signals": ["rsi"], "stop_atr": 2.0, "max_hold": 20},
       "signals": {"rsi": {"period": 14, "lower": 30, "upper": 70}}}


def _cli(*args):
    out = CliRunner().invoke(cli_app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_backtest_example_equals_the_cli(client):
    r = client.post("/backtest", json={"symbol": "MSFT", "example": "rsi_reversal",
                                       "source": "bundled", "max_trades": 5,
                                       "equity_points": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    cli = _cli("backtest", "--strategy", str(EXAMPLES_DIR / "rsi_reversal.toml"),
               "--symbol", "MSFT")
    assert body["mode"] == "full history" and body["strategy"] == cli["strategy"]
    assert (body["first"], body["last"], body["bars"]) == (cli["first"], cli["last"],
                                                           cli["bars"])
    for key in ("sharpe", "sharpe_lo", "sharpe_hi", "sortino", "cagr", "ann_vol",
                "max_drawdown", "calmar", "hit_rate", "turnover", "exposure"):
        assert body["metrics"][key] == pytest.approx(cli["metrics"][key], rel=1e-9), key
    for key in ("sharpe", "cagr", "max_drawdown", "ann_vol"):
        assert body["buy_and_hold"][key] == pytest.approx(cli["buy_and_hold"][key], rel=1e-9)
    assert body["metrics"]["n_trades"] == len(cli["trades"]) == body["trades_total"]
    # bounded: the most recent 5 trades, the curve downsampled with its ends kept
    assert len(body["trades"]) == 5 and body["trades_truncated"] is True
    assert [t["entry_time"] for t in body["trades"]] == \
        [t["entry_time"] for t in cli["trades"][-5:]]
    assert body["trades"][-1]["return"] == pytest.approx(cli["trades"][-1]["return"])
    assert len(body["equity"]) <= 50 and body["equity_downsampled"] is True
    assert body["equity_total"] == body["bars"]
    assert body["equity"][0]["strategy"] == pytest.approx(100_000.0)
    last = body["equity"][-1]
    assert last["timestamp"][:10] == body["last"]
    assert last["strategy"] == pytest.approx(100_000.0 * (1 + body["metrics"]["total_return"]))
    assert "buy-and-hold" in body["verdict"] and "**" not in body["verdict"]
    assert body["latency_ms"] > 0


def test_backtest_json_strategy_dates_and_walk_forward(client):
    r = client.post("/backtest", json={"symbol": "MSFT", "strategy": RSI,
                                       "start": "2004-01-01", "end": "2012-12-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["strategy"] == "RSI API" and body["first"] >= "2004-01-01"
    assert body["last"] <= "2012-12-31" and body["params"]["signals.rsi.lower"] == 30
    wf = client.post("/backtest", json={"symbol": "MSFT", "example": "ma_cross",
                                        "walk_forward": True, "max_trades": 0})
    assert wf.status_code == 200, wf.text
    w = wf.json()
    assert w["mode"] == "walk-forward" and w["n_configs"] == 9 and w["folds"]
    assert w["trades"] == [] and w["trades_truncated"] is (w["trades_total"] > 0)


def test_backtest_bad_input_names_the_field(client):
    bars = [{"timestamp": f"2020-01-0{i + 1}", "open": 1, "high": 1, "low": 1, "close": 1}
            for i in range(2)]
    bad_rsi = {**RSI, "signals": {"rsi": {"lower": 80, "upper": 20}}}
    cases = [
        ({"symbol": "MSFT"}, 422, "body", "strategy"),
        ({"symbol": "MSFT", "example": "nope"}, 422, "example", "rsi_reversal"),
        ({"symbol": "MSFT", "strategy": {**RSI, "entry": {"signals": ["rsx"]}}}, 422,
         "strategy.entry.signals", "unknown signal"),
        ({"symbol": "MSFT", "strategy": {**RSI, "colour": 1}}, 422, "strategy.colour",
         "extra"),
        ({"symbol": "MSFT", "strategy": bad_rsi}, 422, "strategy", "lower < upper"),
        ({"symbol": "MSFT", "strategy": {**RSI, "signals": {"rsi": {"period": 10**9}}}}, 422,
         "strategy", "range"),
        ({"symbol": "MSFT", "example": "rsi_reversal", "start": "2030-01-01"}, 422, "start",
         "2013-03-01"),
        ({"symbol": "NOPE", "example": "rsi_reversal"}, 404, None, "NOPE"),
        ({"bars": bars, "example": "rsi_reversal"}, 422, "bars", "3 bars"),
        ({"symbol": "MSFT", "walk_forward": True, "strategy": {**RSI, "tune": {
            "signals.rsi.lower": list(range(1, 30)), "signals.rsi.upper": [70, 80, 90]}}},
         422, "strategy", "64"),
        ({"symbol": "MSFT", "example": "rsi_reversal", "max_trades": 10**6}, 422,
         "max_trades", "2000"),
    ]
    for body, status, field, words in cases:
        r = client.post("/backtest", json=body)
        assert r.status_code == status, (body, r.text)
        got = r.json()
        if field is not None:
            assert got.get("field") == field, (body, got)
        assert words.lower() in got["detail"].lower(), (body, got)
        assert "Traceback" not in r.text


def test_context_equals_the_cli_with_as_of_dates(client):
    r = client.get("/context/MSFT", params={"as_of": "2012-06-29"})
    assert r.status_code == 200, r.text
    body = r.json()
    cli = _cli("context", "--symbol", "MSFT", "--as-of", "2012-06-29")
    assert body["as_of"] == cli["as_of"] and body["as_of"].startswith("2012-06-29")
    for part in ("vix", "benchmark", "breadth", "liquidity"):
        assert body[part] == cli[part], part
    assert body["benchmark"]["as_of"] == "2012-06-29" and body["breadth"]["as_of"]
    assert body["vix"]["level"] is None and "2014-01-03" in body["vix"]["note"]
    assert body["breadth"]["universe"] == "bundled" and body["latency_ms"] > 0


def test_context_bad_input_names_the_field(client):
    cases = [
        ({"universe": "nope"}, "MSFT", 422, "universe", "bundled"),
        ({"as_of": "1900-01-01"}, "MSFT", 422, "as_of", "2000-03-01"),
        ({"as_of": "someday"}, "MSFT", 422, "as_of", "date"),
        ({"interval": "7x"}, "MSFT", 422, "interval", "1d"),
        ({}, "NOPE", 404, "symbol", "NOPE"),
        ({}, "MS FT", 422, "symbol", "pattern"),
    ]
    for params, sym, status, field, words in cases:
        r = client.get(f"/context/{sym}", params=params)
        assert r.status_code == status, (params, r.text)
        assert r.json()["field"] == field, (params, r.json())
        assert words.lower() in r.json()["detail"].lower(), (params, r.json())
