"""A ``--csv`` file is named after itself (NEWCO.csv -> NEWCO) unless ``--symbol`` says
otherwise, in every command that reads one; without either, the command's default symbol."""

import json

import pytest
from typer.testing import CliRunner

from core.cli import app

runner = CliRunner()


@pytest.fixture
def newco(tmp_path, synthetic_frame):
    path = tmp_path / "NEWCO.csv"
    synthetic_frame.rename_axis("Date").rename(columns=str.title).to_csv(path)
    return path


@pytest.mark.parametrize("args", [["patterns", "--json"], ["predict", "risk"]])
def test_csv_is_named_after_its_file(newco, args):
    r = runner.invoke(app, args + ["--csv", str(newco)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    symbols = {out["symbol"]} if isinstance(out, dict) else {p["symbol"] for p in out}
    assert symbols == {"NEWCO"}


def test_symbol_option_still_names_a_csv(newco):
    r = runner.invoke(app, ["patterns", "--csv", str(newco), "--symbol", "ACME", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["symbol"] == "ACME"


def test_default_symbol_without_csv():
    r = runner.invoke(app, ["patterns", "--json", "--tail", "5"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["symbol"] == "MSFT"
