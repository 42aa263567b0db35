"""CLI: `quantdesk patterns` and `evaluate patterns` (committed CNN), bad input exits 2."""

import json

from typer.testing import CliRunner

from core.cli import app

runner = CliRunner()


def test_patterns_json_from_csv(tmp_path):
    from core.data import load_ohlcv

    f = load_ohlcv("IBM").frame.tail(120)
    p = tmp_path / "ibm.csv"
    f.rename(columns=str.title).rename_axis("Date").to_csv(p)
    r = runner.invoke(app, ["patterns", "--symbol", "IBM", "--csv", str(p), "--json",
                            "--tail", "100"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["detections"], "120 real bars without a single detection is implausible"
    row = out["detections"][0]
    assert set(row) >= {"timestamp", "pattern", "direction", "rule_hit", "cnn_probability"}
    assert any(d["rule_hit"] for d in out["detections"])


def test_patterns_too_few_bars_is_a_clear_error(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,10\n"
                 "2024-01-03,1.5,2,1,1.8,12\n")
    r = runner.invoke(app, ["patterns", "--csv", str(p), "--json"])
    assert r.exit_code == 2
    assert "error:" in r.output


def test_evaluate_patterns_json():
    r = runner.invoke(app, ["evaluate", "patterns", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["test_symbols"] == ["IBM", "^IXIC"]
    assert len(out["patterns"]) == 15 and "macro_f1_gated" in out
    assert out["talib_agreement"]["doji"]["jaccard"] == 1.0
