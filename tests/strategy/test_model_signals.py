"""Model-output signals (core/strategy/model_signals.py): the ``forecast`` signal comes from
out-of-sample walk-forward predictions only. Bars after t change nothing at or before t, the
signal is 0 before the first out-of-sample prediction, a cached leading slice equals a fresh
walk-forward on it, and a strategy file using it validates, backtests and tunes.

Short real history (the first 720 bundled MSFT bars), a 260-row first training window and
small members keep each walk-forward pass near a second; nothing reaches the network."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.bundled import load_bundled
from core.forecasting.evaluate import usable_start, walk_forward_predictions
from core.forecasting.features import design_features
from core.forecasting.model import LGB_PARAMS, RF_PARAMS, XGB_PARAMS
from core.strategy import model_signals as ms
from core.strategy.backtest import backtest, walk_forward_backtest
from core.strategy.rules import (
    MODEL_SIGNALS,
    SIGNALS,
    compute_signal,
    known_signal,
    signal_edge_table,
    signal_names,
)
from core.strategy.spec import StrategySpecError, load_strategy, parse_strategy
from core.strategy.tune import grid_configs

H, INIT, STEP = 5, 260, 80
SMALL = {"xgboost": {**XGB_PARAMS, "n_estimators": 20},
         "lightgbm": {**LGB_PARAMS, "n_estimators": 20},
         "random_forest": {**RF_PARAMS, "n_estimators": 10}}
KW = {"horizon": H, "step": STEP, "initial_train": INIT, "params": SMALL}


@pytest.fixture(scope="module")
def short():
    return load_bundled("MSFT").iloc[:720]


@pytest.fixture(scope="module")
def first(short) -> int:
    """Position of the first out-of-sample prediction: warm-up + first training window."""
    return usable_start(design_features(short)) + INIT


@pytest.fixture(autouse=True)
def fresh_cache():
    ms.clear_cache()
    yield
    ms.clear_cache()


def _alter_after(frame, t):
    altered = frame.copy()
    later = altered.index > altered.index[t]
    for col in ("open", "high", "low", "close"):
        altered.loc[later, col] *= np.linspace(0.5, 2.0, later.sum())
    altered.loc[later, "volume"] *= 10.0
    return altered


# ---------------------------------------------------------------- (a) no lookahead


@pytest.mark.parametrize("t", (470, 560, 650))
def test_altering_bars_after_t_changes_nothing_up_to_t(short, first, t):
    assert t > first
    full_p = ms.oos_forecasts(short, H, step=STEP, initial_train=INIT, params=SMALL)
    alt = _alter_after(short, t)
    alt_p = ms.oos_forecasts(alt, H, step=STEP, initial_train=INIT, params=SMALL)
    np.testing.assert_allclose(alt_p.iloc[:t + 1].to_numpy(), full_p.iloc[:t + 1].to_numpy(),
                               rtol=1e-9, atol=1e-15, equal_nan=True)
    later_alt, later_full = alt_p["ensemble_raw"].iloc[t + 1:], full_p["ensemble_raw"].iloc[t + 1:]
    assert not np.allclose(later_alt, later_full), \
        "the alteration must reach the predictions after t, else this test proves nothing"
    for extra in ({}, {"threshold": 0.002, "raw": 1}):
        a = ms.forecast_signal(short, **KW, **extra).to_numpy()
        b = ms.forecast_signal(alt, **KW, **extra).to_numpy()
        np.testing.assert_array_equal(a[:t + 1], b[:t + 1], err_msg=str(extra))
    assert ms.cache_stats()["passes"] == 2  # one walk-forward per frame, thresholds reuse it


def test_cached_leading_slice_equals_a_fresh_walk_forward(short, first):
    full = ms.forecast_signal(short, **KW, raw=1, threshold=0.001).to_numpy()
    for t in (first + 100, 650):
        part = short.iloc[:t + 1]
        served = ms.oos_forecasts(part, H, step=STEP, initial_train=INIT, params=SMALL)
        assert ms.cache_stats()["passes"] == 1  # served from the full history's pass
        fresh = walk_forward_predictions(part, H, step=STEP, initial_train=INIT, params=SMALL)
        np.testing.assert_array_equal(served["ensemble_raw"].dropna().to_numpy(),
                                      fresh["ensemble_raw"].to_numpy())
        assert served["ensemble_raw"].first_valid_index() == fresh.index[0]
        sig = ms.forecast_signal(part, **KW, raw=1, threshold=0.001).to_numpy()
        np.testing.assert_array_equal(sig, full[:t + 1])


def test_slice_too_short_for_one_fold_has_no_signal_cached_or_fresh(short, first):
    ms.forecast_signal(short, **KW, raw=1)
    part = short.iloc[:first + H + 10]  # walk_forward_design wants first + H + 20 bars
    served = ms.oos_forecasts(part, H, step=STEP, initial_train=INIT, params=SMALL)
    ms.clear_cache()
    fresh = ms.oos_forecasts(part, H, step=STEP, initial_train=INIT, params=SMALL)
    assert served.isna().all().all() and fresh.isna().all().all()
    assert (ms.forecast_signal(part, **KW, raw=1) == 0).all()


# ---------------------------------------------------- (b) nothing before the first OOS bar


def test_zero_before_the_first_out_of_sample_prediction(short, first):
    p = ms.oos_forecasts(short, H, step=STEP, initial_train=INIT, params=SMALL)
    valid = np.flatnonzero(p["ensemble"].notna().to_numpy())
    assert valid[0] == first and valid[-1] == len(short) - 1
    assert len(valid) == len(short) - first  # every bar after the first window is predicted
    for extra in ({}, {"raw": 1}, {"raw": 1, "threshold": 0.003}):
        s = ms.forecast_signal(short, **KW, **extra)
        assert s.dtype == np.int8 and s.name == "forecast"
        assert set(np.unique(s)) <= {-1, 0, 1}
        assert (s.iloc[:first + 1] == 0).all(), extra  # the first predicted bar cannot cross
        assert (s.iloc[first + 1:] != 0).any(), extra


def test_signal_is_the_cross_of_the_forecast(short, first):
    thr = 0.002
    p = ms.oos_forecasts(short, H, step=STEP, initial_train=INIT, params=SMALL)["ensemble_raw"]
    s = ms.forecast_signal(short, **KW, raw=1, threshold=thr).to_numpy()
    v = p.to_numpy()
    for t in range(first + 1, len(v)):
        want = 1 if v[t] > thr >= v[t - 1] else -1 if v[t] < -thr <= v[t - 1] else 0
        assert s[t] == want, t
    # the shipped forecast is shrunk toward 0 (1e-4 floor at horizons > 1): its sign, hence
    # its threshold-0 crosses, match the member average's
    np.testing.assert_array_equal(ms.forecast_signal(short, **KW).to_numpy(),
                                  ms.forecast_signal(short, **KW, raw=1).to_numpy())


def test_history_too_short_for_one_fold_is_all_zero(short):
    s = ms.forecast_signal(short.iloc[:400], **KW)
    assert len(s) == 400 and (s == 0).all()


# ---------------------------------------------------------------- (c) strategy file, backtest, tune

STRATEGY = """
name = "forecast test"
side = "long"
[entry]
signals = ["forecast"]
[exit]
signals = ["forecast"]
stop_atr = 2.0
max_hold = 10
[signals.forecast]
horizon = 5
threshold = 0.002
raw = 1
initial_train = 260
step = 80
[tune]
"signals.forecast.threshold" = [0.0, 0.002]
"""


def test_strategy_file_validates_backtests_and_tunes(short, first):
    spec = parse_strategy(STRATEGY)
    assert spec.signal_params("forecast") == {"horizon": 5, "threshold": 0.002, "raw": 1,
                                              "initial_train": 260, "step": 80}
    res = backtest(short, spec)
    assert len(res.trades) > 0
    assert (res.trades["entry_time"] > short.index[first]).all()  # fills after a signal bar
    tuned = walk_forward_backtest(short, spec, initial_train=500, step=100,
                                  grid=grid_configs(spec))
    assert tuned.n_configs == 2 and len(tuned.folds) == 3  # tests at 500, 600, 700
    assert {f["params"]["signals.forecast.threshold"] for f in tuned.folds} <= {0.0, 0.002}
    edge = signal_edge_table(short, ["forecast"], params={"forecast": spec.signal_params(
        "forecast")}, n_boot=200)
    assert edge.loc["forecast", "occurrences"] > 0
    assert ms.cache_stats()["passes"] == 1  # every threshold, fold and the edge table: one pass
    assert spec.with_params({"signals.forecast.threshold": 0.004}).signal_params(
        "forecast")["threshold"] == 0.004


def test_shipped_example_validates():
    spec = load_strategy("strategies/forecast_trend.toml")
    assert "forecast" in spec.entry.signals
    assert spec.exit.stop_atr is not None


def test_registered_beside_the_rules():
    assert "forecast" in MODEL_SIGNALS and "forecast" not in SIGNALS  # rules stay cheap
    assert known_signal("forecast") and "forecast" in signal_names()


# ---------------------------------------------------------------- (d) bad parameters


@pytest.mark.parametrize("extra, message", [
    ("horizn = 5", ("signals.forecast: unknown parameter horizn (known: horizon, threshold, "
                    "raw, step, initial_train)")),
    ("threshold = -0.01", "signals.forecast: threshold must be a finite log return >= 0"),
    ("horizon = 2.5", "signals.forecast: horizon must be a whole number from 1 to 250"),
    ("raw = 2", "signals.forecast: raw must be 0"),
    ("initial_train = 100", "signals.forecast: initial_train must be a whole number from 205"),
])
def test_bad_parameters_rejected_with_the_field_named(extra, message):
    text = 'name = "x"\n[entry]\nsignals = ["forecast"]\n[signals.forecast]\n' + extra + "\n"
    with pytest.raises(StrategySpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_strategy(text, where="f.toml")


def test_bad_tune_values_and_paths_rejected():
    base = 'name = "x"\n[entry]\nsignals = ["forecast"]\n[tune]\n'
    with pytest.raises(StrategySpecError, match="tune.signals.forecast.nope: not a tunable"):
        parse_strategy(base + '"signals.forecast.nope" = [1]\n')
    with pytest.raises(StrategySpecError, match="tune.signals.forecast.horizon: horizon must"):
        parse_strategy(base + '"signals.forecast.horizon" = [5, 0]\n')


def test_compute_signal_rejects_unknown_and_bad_parameters(short):
    with pytest.raises(ValueError, match="signal 'forecast' has no parameter horizn; it takes "
                                         "horizon, threshold, raw, step, initial_train"):
        compute_signal(short, "forecast", {"horizn": 5})
    with pytest.raises(ValueError, match="signal 'forecast': threshold must be"):
        compute_signal(short, "forecast", {"threshold": -1})
    with pytest.raises(ValueError, match="horizon must be a whole number of bars"):
        compute_signal(short, "forecast", {"horizon": 2.5})
