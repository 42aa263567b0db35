import json

from typer.testing import CliRunner

from core.cli import app

runner = CliRunner()


def test_evaluate_risk_json():
    res = runner.invoke(app, ["evaluate", "risk", "--symbol", "IBM", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["baseline"] == "fixed"
    for p in ("fixed", "vol_target_cap1", "vol_target_cap2"):
        assert {"ann_return", "ann_vol", "sharpe", "max_drawdown", "calmar",
                "turnover"} <= set(out["policies"][p])
    assert out["vol_reduction_vs_fixed"]["fixed"] == 0
    assert out["vol_reduction_vs_fixed"]["vol_target_cap1"] > 0


def test_size_json_and_bad_input():
    res = runner.invoke(app, ["size", "--symbol", "MSFT", "--equity", "100000",
                              "--risk-pct", "1", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["shares"] > 0 and out["stop_price"] < out["entry"] < out["take_profit"]
    assert out["risk_amount"] <= 1000 + 1e-6
    bad = runner.invoke(app, ["size", "--symbol", "MSFT", "--equity", "100000",
                              "--risk-pct", "0"])
    assert bad.exit_code == 2 and "Risk per trade" in bad.output
