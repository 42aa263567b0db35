"""Technical indicator features: one row per bar, scale-free, causal.

``build_features(frame)`` turns a validated OHLCV frame into a float64 matrix of
``len(FEATURE_COLUMNS)`` columns (128) aligned to ``frame.index``. A value at bar t uses bars
<= t only (TA-Lib's EMA-seeded indicators also depend on where the series starts, never on
later bars). Every column is expressed relative to price or volume (ratios, fractions,
bounded oscillators), never as a raw price level, so models can pool symbols across price
regimes. Definitions and units: ``docs/features.md``.

Sources: TA-Lib function reference (https://ta-lib.github.io/ta-lib-python/) for the
indicators; Parkinson (1980) and Garman & Klass (1980) for range-based volatility.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.features._ops import div, f64, lag, rolling_kurt, rolling_skew

FEATURE_VERSION = "1"

#: Bars per year used to annualise ``realized_vol_*`` and range-based volatility (daily bars).
BARS_PER_YEAR = 252.0

RETURN_WINDOWS = (1, 2, 3, 5, 10, 20)
MA_WINDOWS = (5, 10, 20, 50, 100, 200)
STD_WINDOWS = (5, 10, 20, 60)
LAGS = (1, 2, 3, 5, 10)
#: Features whose past values are repeated as ``<name>_lag_<k>`` columns.
LAGGED = ("log_return", "rsi_14", "range_pct", "volume_ratio_20")

FEATURE_COLUMNS: list[str] = [
    # returns (fraction) and log returns over 1..20 bars
    *(f"return_{n}" for n in RETURN_WINDOWS),
    "log_return", *(f"log_return_{n}" for n in RETURN_WINDOWS[1:]),
    # candle geometry
    "range_pct", "body_pct", "upper_shadow_pct", "lower_shadow_pct",
    "range_atr", "body_atr", "upper_shadow_atr", "lower_shadow_atr",
    "body_to_range", "close_location", "gap_pct",
    # moving averages as ratios to close
    *(f"sma_ratio_{n}" for n in MA_WINDOWS),
    *(f"ema_ratio_{n}" for n in MA_WINDOWS),
    "sma_cross_5_20", "sma_cross_20_50", "sma_cross_50_200", "sma_slope_20", "sma_slope_50",
    # ATR
    "atr_pct_14", "atr_ratio_5_20",
    # volatility
    *(f"log_ret_std_{n}" for n in STD_WINDOWS),
    "realized_vol_20", "realized_vol_60", "parkinson_vol_20", "garman_klass_vol_20",
    "vol_ratio_5_60",
    # high/low
    "hl_ratio", "hl_ratio_mean_20",
    # volume
    "volume_ratio_5", "volume_ratio_20", "volume_sma_ratio_5_20", "volume_change",
    "volume_zscore_20", "obv_flow_10", "obv_flow_20", "mfi_14",
    # oscillators
    "rsi_7", "rsi_14", "rsi_28", "macd_line", "macd_signal", "macd_hist",
    "stoch_k_14", "stoch_d_14", "willr_14", "cci_14", "cci_20", "ultosc", "roc_60", "roc_120",
    "adx_14", "adxr_14", "plus_di_14", "minus_di_14", "di_diff_14",
    # Bollinger
    "bb_pctb_20", "bb_bandwidth_20", "bb_pctb_50", "bb_bandwidth_50",
    # support / resistance / drawdown
    "dist_support_20", "dist_resistance_20", "channel_pos_20",
    "dist_support_50", "dist_resistance_50", "channel_pos_50", "drawdown_60", "drawdown_200",
    # momentum and trend strength
    "mom_10", "mom_20", "mom_sharpe_20", "mom_sharpe_60",
    "linreg_slope_20", "linreg_slope_50", "linreg_r2_20", "linreg_r2_50",
    "trend_strength_14", "aroon_osc_25",
    # lags
    *(f"{name}_lag_{k}" for name in LAGGED for k in LAGS),
    # rolling moments of log returns (std: log_ret_std_*)
    "ret_mean_20", "ret_mean_60", "ret_skew_20", "ret_skew_60", "ret_kurt_20", "ret_kurt_60",
]

#: Bars before every column is defined on gap-free data (longest look-back: SMA/EMA 200).
WARMUP_BARS = 199

_REQUIRED = ("open", "high", "low", "close", "volume")


def feature_names() -> list[str]:
    """Column names of :func:`build_features`, in order (a copy; safe to mutate)."""
    return list(FEATURE_COLUMNS)


def _check(frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(
            f"build_features needs a pandas DataFrame of OHLCV bars, got {type(frame).__name__}.")
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"build_features needs columns {', '.join(_REQUIRED)}; missing: {', '.join(missing)}. "
            "Load bars with core.data.load_ohlcv or validate them with validate_ohlcv.")
    if len(frame) and not frame.index.is_monotonic_increasing:
        raise DataValidationError(
            "Bars are not in time order; sort them (validate_ohlcv does) before building features.")


def atr(frame: pd.DataFrame, period: int = 14) -> pd.Series:
    """Average True Range in PRICE units (Wilder smoothing, ``talib.ATR``).

    Not part of the feature matrix (a raw price level; the matrix carries ``atr_pct_14``).
    Intended for stop distances and risk sizing.

    Args:
        frame: OHLCV frame. period: smoothing window in bars (>= 1).
    Returns:
        float64 Series named ``atr_<period>`` aligned to ``frame.index``; NaN for the first
        ``period`` bars.
    Raises:
        DataValidationError: missing columns or unsorted index.
    """
    import talib  # deferred: talib is slow to import

    _check(frame)
    values = talib.ATR(f64(frame["high"]), f64(frame["low"]), f64(frame["close"]), period) \
        if len(frame) else np.empty(0)
    return pd.Series(values, index=frame.index, name=f"atr_{period}", dtype="float64")


def build_features(frame: pd.DataFrame, bars_per_year: float = BARS_PER_YEAR) -> pd.DataFrame:
    """Feature matrix, one row per bar: ``len(FEATURE_COLUMNS)`` float64 columns.

    Args:
        frame: OHLCV bars (``open high low close volume``, time-ordered; a validated
            :class:`core.data.MarketData` ``.frame``). Prices must be positive and finite.
        bars_per_year: annualisation factor for ``realized_vol_*``, ``parkinson_vol_20``,
            ``garman_klass_vol_20`` (252 for daily bars).
    Returns:
        DataFrame indexed like ``frame`` with columns ``FEATURE_COLUMNS`` (float64). Values
        are NaN during the warm-up (at most ``WARMUP_BARS`` bars on gap-free data) and
        never +-inf. Frames shorter than the warm-up give the columns, mostly NaN. Units per
        column: ``docs/features.md`` (fractions unless named otherwise; oscillators keep
        TA-Lib's 0-100 / +-100 scales).
    Raises:
        DataValidationError: not a DataFrame, missing OHLCV columns, unsorted index,
            non-finite or non-positive prices.
    """
    _check(frame)
    n_bars = len(frame)
    if n_bars == 0:
        return pd.DataFrame(np.empty((0, len(FEATURE_COLUMNS))), index=frame.index,
                            columns=FEATURE_COLUMNS, dtype="float64")
    o, h, l, c = (f64(frame[k]) for k in ("open", "high", "low", "close"))
    v = f64(frame["volume"])
    prices = np.stack([o, h, l, c])
    if not np.isfinite(prices).all() or (prices <= 0).any():
        raise DataValidationError(
            "Prices must be positive and finite to build features; run validate_ohlcv first.")
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)

    cols = _compute(o, h, l, c, v, float(bars_per_year))
    out = np.column_stack([cols[k] for k in FEATURE_COLUMNS])
    out[~np.isfinite(out)] = np.nan
    return pd.DataFrame(out, index=frame.index, columns=FEATURE_COLUMNS, dtype="float64")


def _compute(o, h, l, c, v, bars_per_year: float) -> dict[str, np.ndarray]:
    import talib  # deferred: talib is slow to import

    f: dict[str, np.ndarray] = {}
    logc = np.log(c)
    lr = logc - lag(logc, 1)
    ann = np.sqrt(bars_per_year)

    # returns
    for n in RETURN_WINDOWS:
        f[f"return_{n}"] = c / lag(c, n) - 1
        f["log_return" if n == 1 else f"log_return_{n}"] = logc - lag(logc, n)

    # candle geometry
    atr14 = talib.ATR(h, l, c, 14)
    rng = h - l
    body = c - o
    upper = h - np.maximum(o, c)
    lower = np.minimum(o, c) - l
    for name, x in (("range", rng), ("body", body), ("upper_shadow", upper),
                    ("lower_shadow", lower)):
        f[f"{name}_pct"] = x / c
        f[f"{name}_atr"] = div(x, atr14, 0.0)
    f["body_to_range"] = div(body, rng, 0.0)
    f["close_location"] = div(c - l, rng, 0.5)
    f["gap_pct"] = o / lag(c, 1) - 1

    # moving averages
    sma = {n: talib.SMA(c, n) for n in MA_WINDOWS}
    for n in MA_WINDOWS:
        f[f"sma_ratio_{n}"] = c / sma[n] - 1
        f[f"ema_ratio_{n}"] = c / talib.EMA(c, n) - 1
    f["sma_cross_5_20"] = sma[5] / sma[20] - 1
    f["sma_cross_20_50"] = sma[20] / sma[50] - 1
    f["sma_cross_50_200"] = sma[50] / sma[200] - 1
    f["sma_slope_20"] = sma[20] / lag(sma[20], 5) - 1
    f["sma_slope_50"] = sma[50] / lag(sma[50], 10) - 1

    # ATR
    f["atr_pct_14"] = atr14 / c
    f["atr_ratio_5_20"] = div(talib.ATR(h, l, c, 5), talib.ATR(h, l, c, 20), 1.0) - 1

    # volatility of log returns (population std, talib.STDDEV) and range estimators
    std = {n: talib.STDDEV(lr, n) for n in STD_WINDOWS}
    for n in STD_WINDOWS:
        f[f"log_ret_std_{n}"] = std[n]
    f["realized_vol_20"] = std[20] * ann
    f["realized_vol_60"] = std[60] * ann
    hl2 = np.log(h / l) ** 2
    co2 = np.log(c / o) ** 2
    f["parkinson_vol_20"] = np.sqrt(talib.SMA(hl2, 20) / (4 * np.log(2))) * ann
    gk = talib.SMA(0.5 * hl2 - (2 * np.log(2) - 1) * co2, 20)
    f["garman_klass_vol_20"] = np.sqrt(np.maximum(gk, 0.0)) * ann
    f["vol_ratio_5_60"] = div(std[5], std[60], 1.0) - 1

    # high / low
    f["hl_ratio"] = h / l - 1
    f["hl_ratio_mean_20"] = talib.SMA(f["hl_ratio"], 20)

    # volume (zero volume -> neutral 0, not NaN)
    vsma5, vsma20 = talib.SMA(v, 5), talib.SMA(v, 20)
    f["volume_ratio_5"] = div(v, vsma5, 1.0) - 1
    f["volume_ratio_20"] = div(v, vsma20, 1.0) - 1
    f["volume_sma_ratio_5_20"] = div(vsma5, vsma20, 1.0) - 1
    # log volume change; a zero-volume bar (missing print) on either side gives a neutral 0
    logv = np.log(np.where(v > 0, v, np.nan))
    change = logv - lag(logv, 1)
    change[1:][np.isnan(change[1:])] = 0.0
    f["volume_change"] = change
    f["volume_zscore_20"] = div(v - vsma20, talib.STDDEV(v, 20), 0.0)
    obv = talib.OBV(c, v)
    for n in (10, 20):
        f[f"obv_flow_{n}"] = div(obv - lag(obv, n), talib.SUM(v, n), 0.0)
    f["mfi_14"] = talib.MFI(h, l, c, v, 14)

    # oscillators
    for n in (7, 14, 28):
        f[f"rsi_{n}"] = talib.RSI(c, n)
    macd, signal, hist = talib.MACD(c, 12, 26, 9)
    f["macd_line"], f["macd_signal"], f["macd_hist"] = macd / c, signal / c, hist / c
    f["stoch_k_14"], f["stoch_d_14"] = talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
    f["willr_14"] = talib.WILLR(h, l, c, 14)
    f["cci_14"] = talib.CCI(h, l, c, 14)
    f["cci_20"] = talib.CCI(h, l, c, 20)
    f["ultosc"] = talib.ULTOSC(h, l, c, 7, 14, 28)
    f["roc_60"] = talib.ROC(c, 60) / 100
    f["roc_120"] = talib.ROC(c, 120) / 100
    adx = talib.ADX(h, l, c, 14)
    pdi, mdi = talib.PLUS_DI(h, l, c, 14), talib.MINUS_DI(h, l, c, 14)
    f["adx_14"], f["adxr_14"] = adx, talib.ADXR(h, l, c, 14)
    f["plus_di_14"], f["minus_di_14"], f["di_diff_14"] = pdi, mdi, pdi - mdi

    # Bollinger bands (2 standard deviations)
    for n in (20, 50):
        up, mid, lo = talib.BBANDS(c, n, 2.0, 2.0, 0)
        f[f"bb_pctb_{n}"] = div(c - lo, up - lo, 0.5)
        f[f"bb_bandwidth_{n}"] = (up - lo) / mid

    # support / resistance (rolling extremes of low / high) and drawdown
    for n in (20, 50):
        support, resistance = talib.MIN(l, n), talib.MAX(h, n)
        f[f"dist_support_{n}"] = (c - support) / c
        f[f"dist_resistance_{n}"] = (resistance - c) / c
        f[f"channel_pos_{n}"] = div(c - support, resistance - support, 0.5)
    for n in (60, 200):
        f[f"drawdown_{n}"] = c / talib.MAX(c, n) - 1

    # momentum and trend strength
    f["mom_10"] = talib.MOM(c, 10) / c
    f["mom_20"] = talib.MOM(c, 20) / c
    f["mom_sharpe_20"] = div(f["log_return_20"], std[20] * np.sqrt(20), 0.0)
    f["mom_sharpe_60"] = div(logc - lag(logc, 60), std[60] * np.sqrt(60), 0.0)
    for n in (20, 50):
        slope = talib.LINEARREG_SLOPE(logc, n)
        f[f"linreg_slope_{n}"] = slope
        # R^2 of the least-squares line: slope^2 var(t) / var(log close), var(t) = (n^2-1)/12
        r2 = div(slope ** 2 * (n * n - 1) / 12.0, talib.VAR(logc, n), 0.0)
        f[f"linreg_r2_{n}"] = np.clip(r2, 0.0, 1.0)
    f["trend_strength_14"] = adx / 100 * np.sign(pdi - mdi)
    f["aroon_osc_25"] = talib.AROONOSC(h, l, 25)

    # lags of key features
    for name in LAGGED:
        for k in LAGS:
            f[f"{name}_lag_{k}"] = lag(f[name], k)

    # rolling moments of log returns
    for n in (20, 60):
        f[f"ret_mean_{n}"] = talib.SMA(lr, n)
        f[f"ret_skew_{n}"] = rolling_skew(lr, n)
        f[f"ret_kurt_{n}"] = rolling_kurt(lr, n)
    return f
