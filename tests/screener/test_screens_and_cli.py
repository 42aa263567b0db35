"""``quantdesk scan`` and ``quantdesk screens``: JSON rows with a ``symbol`` key, CSV export
(escaped), filters, saved screens round-tripping through the database, plain errors."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from core.cli import app
from core.store import list_screens, save_screen, session_scope

runner = CliRunner()


def test_saved_screen_round_trip():
    spec = {"universe": "bundled", "interval": "1d",
            "conditions": [{"column": "rsi_14", "op": "<", "value": "35"}],
            "sort": "rsi_14", "descending": False}
    with session_scope() as s:
        assert save_screen("user:ann", "  oversold   bounce ", spec, session=s) == \
            "oversold bounce"
    with session_scope() as s:
        assert list_screens("user:ann", session=s) == {"oversold bounce": spec}
        assert list_screens("user:bob", session=s) == {}


def test_scan_json_csv_and_filters(tmp_path):
    out = tmp_path / "rows.csv"
    r = runner.invoke(app, ["scan", "--universe", "bundled", "--engine", "serial", "--json",
                            "--csv", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["symbol"] for x in rows] == ["AAPL", "MSFT", "IBM", "GOOG", "^GSPC", "^IXIC"]
    assert all(x["error"] is None and x["close"] > 0 for x in rows)
    assert pd.read_csv(out)["symbol"].tolist()[:2] == ["AAPL", "MSFT"]
    # the second scan of the same bars and versions comes from the scan cache
    r = runner.invoke(app, ["scan", "--universe", "bundled", "--where", "trend = up",
                            "--sort", "rsi_14", "--desc"])
    assert r.exit_code == 0, r.output
    assert "from the scan cache" in r.output
    listed = [ln.split()[0] for ln in r.stdout.splitlines() if " close " in ln]
    want = sorted(((x["rsi_14"], x["symbol"]) for x in rows if x["trend"] == "up"),
                  reverse=True)
    assert listed == [s for _, s in want]


def test_screens_cli_and_scan_with_screen():
    r = runner.invoke(app, ["screens", "save", "uptrend", "--where", "trend = up",
                            "--sort", "close"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["screens", "list", "--json"])
    assert json.loads(r.stdout)["uptrend"]["conditions"][0]["value"] == "up"
    r = runner.invoke(app, ["scan", "--universe", "bundled", "--engine", "serial",
                            "--screen", "uptrend", "--json"])
    assert r.exit_code == 0, r.output
    assert {x["trend"] for x in json.loads(r.stdout)} == {"up"}
    assert runner.invoke(app, ["screens", "delete", "uptrend"]).exit_code == 0
    r = runner.invoke(app, ["screens", "delete", "uptrend"])
    assert r.exit_code == 2 and "No saved screen" in r.output


def test_plain_errors(tmp_path):
    cases = [
        ["scan", "--universe", "ftse"],
        ["scan"],
        ["scan", "--universe", "bundled", "--engine", "spark"],
        ["scan", "--universe", "bundled", "--where", "rsi_14 <"],
        ["scan", "--tickers", str(tmp_path)],
        ["scan", "--screen", "nope", "--universe", "bundled"],
        ["screens", "save", "", "--where", "trend = up"],
    ]
    for args in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert "error:" in r.output and "Traceback" not in r.output, (args, r.output)


def test_tickers_file_with_unknown_symbol_isolated(tmp_path):
    f = tmp_path / "list.txt"
    f.write_text("MSFT\nZZZZQ\n")
    r = runner.invoke(app, ["scan", "--tickers", str(f), "--engine", "serial", "--json"])
    assert r.exit_code == 0, r.output
    rows = {x["symbol"]: x for x in json.loads(r.stdout)}
    assert rows["MSFT"]["error"] is None and rows["ZZZZQ"]["error"]
