import json

from typer.testing import CliRunner

from core.cli import app

runner = CliRunner()


def test_data_list_json():
    r = runner.invoke(app, ["data", "list", "--json"])
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert any(x["symbol"] == "^GSPC" and x["rows"] == 5031 for x in rows)


def test_data_show_json_keys():
    r = runner.invoke(app, ["data", "show", "MSFT", "--start", "2010-01-04", "--end", "2010-01-08", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    for k in ("symbol", "interval", "rows", "first", "last", "source", "bars"):
        assert k in out
    assert out["rows"] == 5 == len(out["bars"])
    assert set(out["bars"][0]) >= {"timestamp", "open", "high", "low", "close", "volume"}


def test_data_show_csv(tmp_path):
    p = tmp_path / "bars.csv"
    p.write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,10\n2024-01-03,1.5,2,1,1.8,12\n")
    r = runner.invoke(app, ["data", "show", "X", "--csv", str(p), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["source"] == "csv"


def test_data_show_bad_csv_exit_2(tmp_path):
    p = tmp_path / "bars.csv"
    p.write_text("Date,Open,High,Low,Close,Volume,Foo\n2024-01-02,1,2,0.5,1.5,10,3\n")
    r = runner.invoke(app, ["data", "show", "X", "--csv", str(p)])
    assert r.exit_code == 2
    assert "Foo" in r.output
