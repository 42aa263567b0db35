"""Issue 18: bad dates, a directory as --csv, dates past a CSV's end and a non-positive
--step exit 2 with a plain message, never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from core.cli import app

runner = CliRunner()
CSV = "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,10\n2024-01-03,1.5,2,1,1.8,12\n"


def plain_refusal(r, expect: str) -> None:
    assert r.exit_code == 2, (r.exit_code, r.output[-800:], r.exception)
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), \
        repr(r.exception)
    assert "Traceback" not in r.output and expect in r.output, r.output


@pytest.mark.parametrize("opt, value", [("--start", "notadate"), ("--start", "99999-01-01"),
                                        ("--end", "2020-13-45")])
def test_data_show_bad_dates(opt, value):
    plain_refusal(runner.invoke(app, ["data", "show", "MSFT", opt, value]), "is not a date")


def test_data_show_csv_directory(tmp_path):
    plain_refusal(runner.invoke(app, ["data", "show", "X", "--csv", str(tmp_path)]),
                  "is a directory")


def test_data_show_start_past_the_end_of_the_csv(tmp_path):
    p = tmp_path / "bars.csv"
    p.write_text(CSV)
    r = runner.invoke(app, ["data", "show", "X", "--csv", str(p), "--start", "2025-01-01"])
    plain_refusal(r, "2024-01-03")


@pytest.mark.parametrize("step", ["0", "-1"])
def test_evaluate_forecast_step_must_be_positive(step):
    r = runner.invoke(app, ["evaluate", "forecast", "--symbol", "MSFT", "--step", step])
    plain_refusal(r, "--step")
