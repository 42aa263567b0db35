"""Issue 18, absurd but well-formed numbers: validation rejects them naming the rows, model
outputs are finite and inside their intervals or refused, every sizing input has a
documented range, and the VaR of a long position never exceeds 100%."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from core.cli import app
from core.data.validate import MAX_ABS_LOG_MOVE, MAX_PRICE, MIN_PRICE, validate_ohlcv
from core.errors import DataValidationError, ModelUnavailableError
from core.forecasting.serve import check_output
from core.risk.sizing import MAX_EQUITY, MAX_HORIZON, RiskParameters, size_position

runner = CliRunner()


def _scaled(frame, k: int, factor: float):
    f = frame.copy()
    f.iloc[k:, :4] = f.iloc[k:, :4] * factor
    return f


@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_absurd_last_close_is_rejected_naming_the_row(synthetic_frame, factor):
    bad = _scaled(synthetic_frame, -1, factor)
    with pytest.raises(DataValidationError) as e:
        validate_ohlcv(bad, "X")
    msg = str(e.value)
    assert str(bad.index[-1].date()) in msg and ("sane range" in msg or "1,000" in msg), msg


def test_thousandfold_jump_is_rejected_but_a_real_split_is_not(synthetic_frame):
    validate_ohlcv(_scaled(synthetic_frame, 100, 1 / 200), "X")  # a 1:200 split passes
    with pytest.raises(DataValidationError, match="factor of 1,000") as e:
        validate_ohlcv(_scaled(synthetic_frame, 100, 5000.0), "X")
    assert str(synthetic_frame.index[100].date()) in str(e.value)
    assert MIN_PRICE == 1e-8 and MAX_PRICE == 1e9 and math.isclose(MAX_ABS_LOG_MOVE,
                                                                   math.log(1000))


def test_huge_volume_is_rejected(synthetic_frame):
    f = synthetic_frame.copy()
    f.iloc[5, 4] = 1e300
    with pytest.raises(DataValidationError, match="Volume above"):
        validate_ohlcv(f, "X")


def test_predict_forecast_on_a_1e308_close_is_a_plain_refusal(tmp_path, synthetic_frame):
    p = tmp_path / "BIG.csv"
    f = synthetic_frame.copy()
    f.iloc[-1, :4] = 1e308
    f.rename_axis("Date").rename(columns=str.title).to_csv(p)
    for cmd in (["predict", "forecast"], ["predict", "volatility"]):
        r = runner.invoke(app, cmd + ["--csv", str(p)])
        assert r.exit_code == 2, (cmd, r.output[-800:])
        assert "Traceback" not in r.output and "sane range" in r.output, r.output


def test_forecast_outputs_must_be_finite_and_inside_their_intervals():
    check_output(5, 0.01, {"a": 0.0}, -0.02, 0.03, -0.04, 0.05)
    with pytest.raises(ModelUnavailableError, match="not a finite"):
        check_output(5, float("inf"), {"a": 0.0}, -0.02, 0.03, -0.04, 0.05)
    with pytest.raises(ModelUnavailableError, match="not a finite"):
        check_output(5, 0.0, {"a": 800.0}, -0.02, 0.03, -0.04, 0.05)
    with pytest.raises(ModelUnavailableError, match="outside its own intervals"):
        check_output(5, 0.2, {"a": 0.0}, -0.02, 0.03, -0.04, 0.05)


@pytest.mark.parametrize("args, expect", [
    (["--equity", "inf"], "finite"),
    (["--equity", "nan"], "finite"),
    (["--equity", "1e300"], f"(0, {MAX_EQUITY:g}]"),
    (["--equity", "10000", "--entry", "1e308"], "Entry price must be in"),
    (["--equity", "10000", "--entry", "1e-300"], "Entry price must be in"),
    (["--equity", "10000", "--horizon", "10000"], f"[1, {MAX_HORIZON}]"),
    (["--equity", "10000", "--horizon", "0"], f"[1, {MAX_HORIZON}]"),
])
def test_size_inputs_outside_their_range_exit_2_with_the_range(args, expect):
    r = runner.invoke(app, ["size", "--symbol", "MSFT", "--risk-pct", "1"] + args)
    assert r.exit_code == 2, r.output[-800:]
    assert expect in r.output and "Traceback" not in r.output, r.output


def test_long_var_never_exceeds_the_position(synthetic_frame):
    res = size_position(synthetic_frame, RiskParameters(equity=1e4, horizon=MAX_HORIZON), "X",
                        "1d")
    assert res.var and all(0 <= r.var <= 1 and r.cvar <= 1 for r in res.var)
    r = runner.invoke(app, ["size", "--symbol", "MSFT", "--equity", "10000", "--risk-pct", "1",
                            "--horizon", "1000", "--json"])
    assert r.exit_code == 0, r.output[-800:]
    rows = json.loads(r.stdout)["var"]
    assert rows and all(row["var"] <= 1.0 and row["cvar"] <= 1.0 for row in rows)
    assert np.isfinite([row["var"] for row in rows]).all()
