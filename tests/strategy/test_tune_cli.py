"""Grid-search tuning on real bundled history and the backtest / tune commands (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.cli import app
from core.data.bundled import load_bundled
from core.strategy.spec import load_strategy
from core.strategy.tune import grid_configs, grid_search

ROOT = Path(__file__).resolve().parents[2]
RSI = str(ROOT / "strategies" / "rsi_reversal.toml")
MA = str(ROOT / "strategies" / "ma_cross.toml")
runner = CliRunner()


def test_grid_search_reports_trials_dsr_and_pbo():
    spec = load_strategy(MA)
    frames = {s: load_bundled(s) for s in ("MSFT", "IBM", "GOOG")}
    r = grid_search(frames, spec, train_symbols=["MSFT", "IBM"], heldout_symbols=["GOOG"],
                    test_start="2009-01-01")
    assert r["n_configs"] == len(grid_configs(spec)) == 9
    assert r["best_params"] in grid_configs(spec)
    assert 0 <= r["deflated_sharpe"] <= r["psr"] <= 1  # the search only lowers the bar's odds
    assert 0 <= r["pbo"] <= 1 and r["pbo_splits"] > 1
    held = [row for row in r["test"] if row["heldout_symbol"]]
    assert [row["symbol"] for row in held] == ["GOOG"] and held[0]["start"] >= "2009-01-01"
    for row in r["test"]:
        assert set(row) >= {"tuned", "untuned", "buy_and_hold"}


def test_cli_backtest_json_has_buy_and_hold_beside_it(tmp_path):
    out = tmp_path / "trades.csv"
    res = runner.invoke(app, ["backtest", "--strategy", RSI, "--symbol", "MSFT", "--json",
                              "--trades-csv", str(out)])
    assert res.exit_code == 0, res.output
    j = json.loads(res.output)
    assert j["symbol"] == "MSFT" and j["source"] == "bundled"
    assert {"sharpe", "sharpe_lo", "sharpe_hi", "cagr", "max_drawdown"} <= set(j["metrics"])
    assert {"sharpe", "cagr"} <= set(j["buy_and_hold"])
    assert len(j["trades"]) == j["metrics"]["n_trades"] > 0
    assert out.read_text().splitlines()[0].startswith("side,entry_time")


def test_cli_backtest_table_prints_buy_and_hold():
    res = runner.invoke(app, ["backtest", "--strategy", MA, "--symbol", "IBM"])
    assert res.exit_code == 0, res.output
    assert "buy & hold" in res.output and "Sharpe" in res.output


def test_cli_tune_json_names_deflated_sharpe():
    res = runner.invoke(app, ["tune", "--strategy", MA, "--symbols", "MSFT", "--heldout", "IBM",
                              "--json"])
    assert res.exit_code == 0, res.output
    j = json.loads(res.output)
    assert "deflated_sharpe" in j and j["n_configs"] == 9 and "verdict" in j
    assert all("buy_and_hold" in row for row in j["test"])


@pytest.mark.parametrize("args, expect", [
    (["backtest", "--strategy", "nope.toml", "--symbol", "MSFT"], "not found"),
    (["backtest", "--strategy", "BAD", "--symbol", "MSFT"], "not valid TOML"),
    (["backtest", "--strategy", "UNKNOWN", "--symbol", "MSFT"], "unknown signal 'rsx'"),
    (["backtest", "--strategy", RSI, "--symbol", "NOSUCHSYM"], "NOSUCHSYM"),
    (["backtest", "--strategy", RSI], "--symbol"),
    (["tune", "--strategy", RSI, "--symbols", "MSFT", "--test-start", "soon"], "is not a date"),
    (["tune", "--strategy", RSI, "--symbols", "MSFT", "--test-start", "2000-06-01"],
     "bars before 2000-06-01"),
])
def test_bad_input_exits_2_without_a_traceback(tmp_path, args, expect):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('name = "x"\n[entry]\nsignals = ["rsx"]\n')
    args = [str(bad) if a == "BAD" else str(unknown) if a == "UNKNOWN" else a for a in args]
    r = runner.invoke(app, args)
    assert r.exit_code == 2, (r.exit_code, r.output[-800:])
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output and expect in r.output, r.output
