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


def test_latest_predictions_records():
    from core.data import load_ohlcv
    from core.risk.serve import latest_predictions

    f = load_ohlcv("IBM").frame
    preds = latest_predictions(f, "IBM")
    kinds = {p.model_name: p for p in preds}
    assert set(kinds) == {"signal-quality", "risk-dqn"}
    sq = kinds["signal-quality"]
    assert sq.kind == "probability" and 0 <= sq.value <= 1 and sq.origin_ts == f.index[-1]
    assert sq.output["decision"] == ("EXECUTE" if sq.value > 0.6 else "SKIP")
    assert kinds["risk-dqn"].value in (0.0, 0.25, 0.5, 0.75, 1.0)


def test_evaluate_and_size_from_csv(tmp_path, synth):
    f = synth(420, seed=31)
    path = tmp_path / "syn.csv"
    f.rename(columns=str.title).rename_axis("Date").to_csv(path)
    res = runner.invoke(app, ["evaluate", "risk", "--csv", str(path), "--json"])
    assert res.exit_code == 0, res.output
    assert "dqn" in json.loads(res.stdout)["policies"]
    short = tmp_path / "short.csv"
    f.head(40).rename(columns=str.title).rename_axis("Date").to_csv(short)
    bad = runner.invoke(app, ["size", "--symbol", "X", "--csv", str(short), "--equity", "1000",
                              "--risk-pct", "1"])
    assert bad.exit_code == 2 and "error:" in bad.output
