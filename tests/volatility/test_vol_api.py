"""Stable API (forecast_variance, regime), predict_latest and the CLI, on small inputs."""

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import InsufficientDataError


@pytest.fixture(scope="module")
def gspc_slice():
    from core.data import load_ohlcv

    return load_ohlcv("^GSPC", start="2009-01-01", end="2011-12-31")


def test_forecast_variance_models_and_units(gspc_slice):
    from core.volatility import forecast_variance

    f = gspc_slice.frame
    r2 = np.log(f["close"]).diff().pow(2).iloc[-250:].mean()
    for model in ("gjr", "garch", "ewma", "har"):
        v1 = forecast_variance(f, 1, model)
        v21 = forecast_variance(f, 21, model)
        # per-bar variance of a daily index: same order as the recent mean squared return
        assert 0.1 * r2 < v1 < 10 * r2, model
        assert 21 * 0.3 * v1 < v21 < 21 * 3 * v1, model  # a sum over the horizon
    with pytest.raises(ValueError, match="unknown model"):
        forecast_variance(f, 1, "egarch")
    with pytest.raises(ValueError):
        forecast_variance(f, 0)
    with pytest.raises(InsufficientDataError, match="at least 300"):
        forecast_variance(f.iloc[:100], 1)


def test_regime_labels(gspc_slice):
    from core.volatility import regime, regime_series

    f = gspc_slice.frame
    rs = regime_series(f)
    assert set(rs["regime"].dropna()) <= {"low", "normal", "high"}
    # late 2011 (US downgrade) was a high-volatility period
    assert rs.loc["2011-08-15":"2011-08-31", "regime"].eq("high").all()
    assert regime(f) in {"low", "normal", "high"}
    # causal: truncating the future leaves past labels unchanged
    cut = regime_series(f.iloc[:600])
    pd.testing.assert_series_equal(cut["regime"], rs["regime"].iloc[:600])
    with pytest.raises(InsufficientDataError):
        regime(f.iloc[:100])


def test_predict_latest_from_committed_artifact():
    from core.data import load_ohlcv
    from core.volatility import predict_latest
    from core.volatility.serve import load_model

    if load_model() is None:
        pytest.skip("no committed volatility artifact")
    md = load_ohlcv("^GSPC")
    preds = predict_latest(md)
    assert [p.horizon for p in preds] == [1, 5, 21]
    for p in preds:
        assert p.kind == "variance" and p.model_name == "volatility"
        assert p.model_version != "onthefly" and p.output["how"] == "artifact"
        assert p.lower < p.value < p.upper
        assert set(p.output["models"]) == {"gjr", "garch", "ewma", "har", "ml"}
        assert p.output["models"][p.output["best_model"]]["variance"] == p.value
        assert 0.03 < p.output["vol_ann"] < 1.0
        assert p.output["regime"] in {"low", "normal", "high"}


def test_predict_latest_unknown_symbol_fits_on_the_fly(tmp_path, synthetic_ohlcv):
    from core.data import load_csv
    from core.volatility import predict_latest

    f = synthetic_ohlcv(700, seed=3)  # synthetic series
    csv = tmp_path / "syn.csv"
    f.reset_index().rename(columns={"timestamp": "Date"}).to_csv(csv, index=False)
    md = load_csv(csv, "SYN")
    preds = predict_latest(md, horizons=(1, 5), models_dir=tmp_path / "none")
    assert [p.model_version for p in preds] == ["onthefly", "onthefly"]
    # 1 % daily synthetic noise: about 16 % annualised
    assert 0.08 < preds[0].output["vol_ann"] < 0.3


def test_cli_evaluate_json_keys(tmp_path, capsys, synthetic_ohlcv):
    """CLI on a short SYNTHETIC CSV (1,300 bars) with horizon 5."""
    from typer.testing import CliRunner

    from core.cli import app

    f = synthetic_ohlcv(1300, seed=9)
    csv = tmp_path / "syn.csv"
    f.reset_index().rename(columns={"timestamp": "Date"}).to_csv(csv, index=False)
    out = CliRunner().invoke(app, ["evaluate", "volatility", "--symbol", "SYN", "--csv", str(csv),
                                   "--horizon", "5", "--json"])
    assert out.exit_code == 0, out.output
    j = json.loads(out.output)
    for k in ("symbol", "horizon", "n_test", "models", "dm_pvalue_vs_garch", "mcs_members",
              "interval_coverage"):
        assert k in j
    assert j["horizon"] == 5 and j["n_test"] > 200
    assert set(j["models"]) == {"garch", "gjr", "ewma", "har", "ml"}
    assert j["models"]["garch"]["qlike_ratio"] == 1.0
    assert 0 <= j["interval_coverage"]["coverage"] <= 1


def test_cli_bad_input_exit_2(tmp_path, synthetic_ohlcv):
    from typer.testing import CliRunner

    from core.cli import app

    csv = tmp_path / "short.csv"
    synthetic_ohlcv(200).reset_index().rename(columns={"timestamp": "Date"}).to_csv(csv, index=False)
    out = CliRunner().invoke(app, ["evaluate", "volatility", "--csv", str(csv)])
    assert out.exit_code == 2 and "needs at least" in out.output


def test_history_ending_before_the_fit_is_not_served_from_the_artifact():
    """Parameters fitted on 2008-2018 must not forecast from a 2007 origin (lookahead)."""
    from core.data import load_ohlcv
    from core.volatility.serve import forecasts_from_artifact, load_model

    art = load_model()
    if art is None:
        pytest.skip("no committed volatility artifact")
    md = load_ohlcv("^GSPC", end="2007-06-29")
    assert forecasts_from_artifact(md.frame, "^GSPC", art) is None
