"""core.features: shape, warm-up, robustness and TA-Lib parity (real bundled data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from scipy import stats

from core.data.bundled import load_bundled
from core.errors import DataValidationError
from core.features import (FEATURE_COLUMNS, FEATURE_VERSION, WARMUP_BARS, atr, build_features,
                           feature_names)
from core.features._ops import div, lag


def synthetic_ohlcv(n: int, seed: int = 0) -> pd.DataFrame:
    """A SYNTHETIC random-walk OHLCV frame (tests only)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * np.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.004, n)))
    idx = pd.bdate_range("2020-01-01", periods=n, tz="UTC", name="timestamp")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.integers(1_000, 10_000, n).astype(float)}, index=idx)


@pytest.fixture(scope="module")
def msft() -> pd.DataFrame:
    return load_bundled("MSFT")


@pytest.fixture(scope="module")
def msft_features(msft) -> pd.DataFrame:
    return build_features(msft)


def test_columns_index_and_dtype(msft, msft_features):
    f = msft_features
    assert FEATURE_VERSION == "1"
    assert len(FEATURE_COLUMNS) >= 100 and len(set(FEATURE_COLUMNS)) == len(FEATURE_COLUMNS)
    assert list(f.columns) == FEATURE_COLUMNS == feature_names()
    assert f.index.equals(msft.index)
    assert (f.dtypes == "float64").all()
    names = feature_names()
    names.append("x")
    assert "x" not in FEATURE_COLUMNS, "feature_names() must return a copy"


@pytest.mark.parametrize("symbol", ["MSFT", "^GSPC"])
def test_nan_only_in_warmup_and_no_inf(symbol):
    f = build_features(load_bundled(symbol))
    assert not np.isinf(f.to_numpy()).any()
    assert not f.iloc[WARMUP_BARS:].isna().any().any(), "NaN after the warm-up"
    assert f.iloc[WARMUP_BARS - 1].isna().any(), "WARMUP_BARS overstates the warm-up"


def test_no_raw_price_levels(msft, msft_features):
    # Scale-free: multiplying every price by 100 leaves every column unchanged.
    scaled = msft.copy()
    scaled[["open", "high", "low", "close"]] *= 100
    g = build_features(scaled)
    np.testing.assert_allclose(g.to_numpy(), msft_features.to_numpy(), rtol=1e-6, atol=1e-9,
                               equal_nan=True)


def test_values_match_definitions(msft, msft_features):
    f, c = msft_features, msft["close"]
    t = 1000
    assert f["return_5"].iloc[t] == pytest.approx(c.iloc[t] / c.iloc[t - 5] - 1)
    assert f["log_return"].iloc[t] == pytest.approx(np.log(c.iloc[t] / c.iloc[t - 1]))
    assert f["sma_ratio_20"].iloc[t] == pytest.approx(c.iloc[t] / c.iloc[t - 19:t + 1].mean() - 1)
    lr = np.log(c).diff()
    assert f["realized_vol_20"].iloc[t] == pytest.approx(
        lr.iloc[t - 19:t + 1].std(ddof=0) * np.sqrt(252))
    assert f["log_return_lag_3"].iloc[t] == pytest.approx(f["log_return"].iloc[t - 3])
    assert f["dist_support_20"].iloc[t] == pytest.approx(
        (c.iloc[t] - msft["low"].iloc[t - 19:t + 1].min()) / c.iloc[t])
    hl = np.log(msft["high"] / msft["low"]).iloc[t - 19:t + 1]
    assert f["parkinson_vol_20"].iloc[t] == pytest.approx(
        np.sqrt((hl ** 2).mean() / (4 * np.log(2)) * 252))
    g = build_features(msft, bars_per_year=52)
    assert g["realized_vol_20"].iloc[t] == pytest.approx(f["log_ret_std_20"].iloc[t] * np.sqrt(52))


def test_talib_parity_of_own_computations(msft, msft_features):
    """Columns computed outside a single TA-Lib call agree with TA-Lib (or scipy)."""
    f = msft_features
    c = msft["close"].to_numpy()
    ok = slice(WARMUP_BARS, None)
    for n in (1, 5, 20):
        np.testing.assert_allclose(f[f"return_{n}"].to_numpy()[ok], talib.ROCP(c, n)[ok],
                                   rtol=1e-9, atol=1e-12)
        key = "log_return" if n == 1 else f"log_return_{n}"
        np.testing.assert_allclose(f[key].to_numpy()[ok], np.log(talib.ROCR(c, n))[ok],
                                   rtol=1e-9, atol=1e-12)
    # R^2 from slope and variance == squared correlation of log close with time
    logc = np.log(c)
    r = talib.CORREL(np.arange(len(c), dtype=float), logc, 20)
    np.testing.assert_allclose(f["linreg_r2_20"].to_numpy()[ok], (r ** 2)[ok], atol=1e-6)
    # ATR helper and the ATR-relative geometry
    a = atr(msft).to_numpy()
    np.testing.assert_allclose(a[20:], talib.ATR(msft["high"].to_numpy(), msft["low"].to_numpy(),
                                                 c, 14)[20:])
    np.testing.assert_allclose(f["atr_pct_14"].to_numpy()[20:], (a / c)[20:])
    # pandas rolling moments (no TA-Lib equivalent) vs scipy on one window
    lr = f["log_return"].to_numpy()
    w = lr[1500 - 59:1501]
    assert f["ret_skew_60"].iloc[1500] == pytest.approx(stats.skew(w, bias=False), rel=1e-6)
    assert f["ret_kurt_60"].iloc[1500] == pytest.approx(stats.kurtosis(w, bias=False), rel=1e-6)
    # rolling std of log returns == pandas population std
    np.testing.assert_allclose(
        f["log_ret_std_60"].to_numpy()[ok],
        pd.Series(lr).rolling(60).std(ddof=0).to_numpy()[ok], rtol=1e-6)


def test_flat_prices_and_zero_volume_give_no_inf():
    # SYNTHETIC flat series: every bar identical, no volume
    idx = pd.bdate_range("2020-01-01", periods=260, tz="UTC", name="timestamp")
    flat = pd.DataFrame({"open": 10.0, "high": 10.0, "low": 10.0, "close": 10.0,
                         "volume": 0.0}, index=idx)
    f = build_features(flat)
    assert f.shape == (260, len(FEATURE_COLUMNS))
    assert not np.isinf(f.to_numpy()).any()
    last = f.iloc[-1]
    assert last["range_atr"] == 0 and last["close_location"] == 0.5
    assert last["volume_ratio_20"] == 0 and last["obv_flow_20"] == 0
    assert last["realized_vol_20"] == 0 and last["linreg_r2_20"] == 0


def test_zero_volume_on_moving_prices_keeps_volume_features_defined():
    frame = synthetic_ohlcv(n=300, seed=3)  # SYNTHETIC
    frame["volume"] = 0.0
    f = build_features(frame)
    vol_cols = ["volume_ratio_5", "volume_ratio_20", "volume_sma_ratio_5_20", "volume_zscore_20",
                "obv_flow_10", "obv_flow_20"]
    assert not f[vol_cols].iloc[WARMUP_BARS:].isna().any().any()
    assert (f[vol_cols].iloc[WARMUP_BARS:] == 0).all().all()


def test_single_zero_volume_bar_is_neutral_not_extreme():
    frame = synthetic_ohlcv(n=260, seed=4)  # SYNTHETIC
    frame.iloc[230, frame.columns.get_loc("volume")] = 0.0
    f = build_features(frame)
    assert f["volume_change"].iloc[230] == 0 and f["volume_change"].iloc[231] == 0
    assert f["volume_ratio_20"].iloc[230] == -1.0
    assert f["volume_change"].iloc[1:].abs().max() < 5


@pytest.mark.parametrize("n", [0, 1, 5, 50, 150])
def test_short_frames(n):
    frame = synthetic_ohlcv(n=max(n, 1), seed=1).iloc[:n]  # SYNTHETIC
    f = build_features(frame)
    assert list(f.columns) == FEATURE_COLUMNS and len(f) == n
    if n:
        assert f.iloc[-1][["sma_ratio_200", "ema_ratio_200", "drawdown_200"]].isna().all()
    if n >= 10:
        assert np.isfinite(f["return_5"].iloc[-1])


def test_bad_input_raises_clear_errors(msft):
    with pytest.raises(DataValidationError, match="missing: volume"):
        build_features(msft.drop(columns="volume"))
    bad = msft.iloc[:50].copy()
    bad.iloc[10, bad.columns.get_loc("close")] = -1.0
    with pytest.raises(DataValidationError, match="positive"):
        build_features(bad)
    with pytest.raises(DataValidationError, match="time order"):
        build_features(msft.iloc[:50].iloc[::-1])
    with pytest.raises(DataValidationError, match="DataFrame"):
        build_features([1, 2, 3])


def test_ops_helpers():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(lag(x, 1), [np.nan, 1.0, 2.0])
    assert np.isnan(lag(x, 5)).all()
    with pytest.raises(ValueError):
        lag(x, 0)
    out = div(np.array([1.0, 0.0, np.nan, 1.0]), np.array([2.0, 0.0, 0.0, 0.0]), fill=7.0)
    np.testing.assert_array_equal(out, [0.5, 7.0, np.nan, 7.0])
