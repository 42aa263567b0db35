"""Realised volatility estimators over rolling windows.

Every estimator first produces a *per-bar variance* (unit: variance of log returns per bar,
a fraction squared, not annualised) averaged over a rolling window of ``window`` bars; the
volatility is ``sqrt(periods_per_year * variance)`` (annualised, a fraction: 0.20 = 20 %).

Sources:
    * close-to-close: sample variance of log returns (e.g. Sinclair, *Volatility Trading*,
      2nd ed., 2013, ch. 2).
    * Parkinson, M. (1980) "The extreme value method for estimating the variance of the rate
      of return", *Journal of Business* 53(1), 61-65.
    * Garman, M. B. & Klass, M. J. (1980) "On the estimation of security price volatilities
      from historical data", *Journal of Business* 53(1), 67-78 (the practical estimator).
    * Rogers, L. C. G. & Satchell, S. E. (1991) "Estimating variance from high, low and
      closing prices", *Annals of Applied Probability* 1(4), 504-512.
    * Yang, D. & Zhang, Q. (2000) "Drift-independent volatility estimation based on high,
      low, open, and close prices", *Journal of Business* 73(3), 477-491.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.errors import DataValidationError, InsufficientDataError
from core.market import log_returns

ESTIMATORS: tuple[str, ...] = ("close_to_close", "parkinson", "garman_klass",
                               "rogers_satchell", "yang_zhang")
ESTIMATOR_LABELS = {
    "close_to_close": "Close-to-close",
    "parkinson": "Parkinson (1980)",
    "garman_klass": "Garman-Klass (1980)",
    "rogers_satchell": "Rogers-Satchell (1991)",
    "yang_zhang": "Yang-Zhang (2000)",
}
_NEEDS = {"close_to_close": ("close",), "parkinson": ("high", "low"),
          "garman_klass": ("open", "high", "low", "close"),
          "rogers_satchell": ("open", "high", "low", "close"),
          "yang_zhang": ("open", "high", "low", "close")}
def _check(frame: pd.DataFrame, estimator: str, window: int) -> None:
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    if window < 2:
        raise ValueError("window must be >= 2 bars")
    missing = [c for c in _NEEDS[estimator] if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"The {ESTIMATOR_LABELS[estimator]} estimator needs columns {', '.join(missing)}; "
            "load full OHLC bars or use the close-to-close estimator.")
    if len(frame) < window + 1:
        raise InsufficientDataError(
            f"{ESTIMATOR_LABELS[estimator]} over {window} bars needs at least {window + 1} "
            f"bars; got {len(frame)}. Choose a longer date range or a shorter window.")


def bar_variance(frame: pd.DataFrame, estimator: str) -> pd.Series:
    """Per-bar variance contribution of the range estimators (no window, not annualised).

    ``parkinson``: ``log(H/L)**2 / (4 log 2)``; ``garman_klass``:
    ``0.5 log(H/L)**2 - (2 log 2 - 1) log(C/O)**2``; ``rogers_satchell``:
    ``log(H/C) log(H/O) + log(L/C) log(L/O)``; ``close_to_close``: ``log_return**2``.
    Shape: one value per bar (float64), index of ``frame``.
    """
    f = frame.astype("float64")
    if estimator == "close_to_close":
        out = log_returns(f["close"]) ** 2
    elif estimator == "parkinson":
        out = np.log(f["high"] / f["low"]) ** 2 / (4.0 * math.log(2.0))
    elif estimator == "garman_klass":
        out = (0.5 * np.log(f["high"] / f["low"]) ** 2
               - (2.0 * math.log(2.0) - 1.0) * np.log(f["close"] / f["open"]) ** 2)
    elif estimator == "rogers_satchell":
        hc, ho = np.log(f["high"] / f["close"]), np.log(f["high"] / f["open"])
        lc, lo = np.log(f["low"] / f["close"]), np.log(f["low"] / f["open"])
        out = hc * ho + lc * lo
    else:
        raise ValueError(f"bar_variance has no per-bar form for {estimator!r}")
    return out.rename(f"{estimator}_var")


def realized_var(frame: pd.DataFrame, window: int = 21, estimator: str = "close_to_close"
                 ) -> pd.Series:
    """Rolling realised variance per bar (not annualised) over the last ``window`` bars.

    The value at bar t uses bars ``t-window+1 .. t`` only (plus ``close[t-window]`` for the
    close-to-close and Yang-Zhang overnight returns), so it is known at the close of t.

    * ``close_to_close``: sample variance (ddof=1) of the last ``window`` log returns.
    * ``parkinson``, ``garman_klass``, ``rogers_satchell``: mean of :func:`bar_variance`.
    * ``yang_zhang``: ``s2_overnight + k s2_open_to_close + (1-k) s2_rogers_satchell`` with
      ``k = 0.34 / (1.34 + (window+1)/(window-1))`` and sample variances (ddof=1).

    Args:
        frame: OHLCV frame (``core.data`` contract). window: bars (>= 2).
        estimator: one of :data:`ESTIMATORS`.
    Returns:
        float64 Series named ``realized_var`` (NaN until a full window exists).
    Raises:
        ValueError: unknown estimator or window < 2. DataValidationError: missing columns.
        InsufficientDataError: fewer than ``window + 1`` bars.
    """
    _check(frame, estimator, window)
    f = frame.astype("float64")
    if estimator == "close_to_close":
        out = log_returns(f["close"]).rolling(window, min_periods=window).var(ddof=1)
    elif estimator == "yang_zhang":
        overnight = np.log(f["open"] / f["close"].shift(1))
        open_close = np.log(f["close"] / f["open"])
        rs = bar_variance(f, "rogers_satchell").rolling(window, min_periods=window).mean()
        k = 0.34 / (1.34 + (window + 1) / (window - 1))
        out = (overnight.rolling(window, min_periods=window).var(ddof=1)
               + k * open_close.rolling(window, min_periods=window).var(ddof=1)
               + (1.0 - k) * rs)
    else:
        out = bar_variance(f, estimator).rolling(window, min_periods=window).mean()
    return out.rename("realized_var")


def realized_vol(frame: pd.DataFrame, window: int = 21, estimator: str = "close_to_close",
                 periods_per_year: float = 252.0) -> pd.Series:
    """Annualised rolling realised volatility: ``sqrt(periods_per_year * realized_var)``.

    Unit: annualised fraction (0.20 = 20 % a year); multiply by 100 for "% ann.".
    ``periods_per_year`` is explicit: 252 for daily bars, 52 weekly, 12 monthly.
    Raises like :func:`realized_var`; ValueError when ``periods_per_year <= 0``.
    """
    if periods_per_year <= 0:
        raise ValueError("periods_per_year must be > 0")
    var = realized_var(frame, window, estimator)
    return np.sqrt(var.clip(lower=0.0) * periods_per_year).rename("realized_vol")


def all_estimators(frame: pd.DataFrame, window: int = 21, periods_per_year: float = 252.0
                   ) -> pd.DataFrame:
    """Every estimator's annualised realised vol side by side (columns = :data:`ESTIMATORS`)."""
    return pd.DataFrame({e: realized_vol(frame, window, e, periods_per_year) for e in ESTIMATORS})


def volatility_cone(frame: pd.DataFrame, windows=(5, 10, 21, 63, 126, 252),
                    quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), estimator: str = "close_to_close",
                    periods_per_year: float = 252.0) -> pd.DataFrame:
    """Volatility cone (Burghardt & Lane 1990, "How to tell if options are cheap", *Journal of
    Portfolio Management* 16(2)): for each window, quantiles of the rolling annualised realised
    vol over the history, and today's value.

    Returns a frame indexed by ``window`` [bars] with columns ``q05 q25 q50 q75 q95`` (per the
    quantiles given) and ``today`` (annualised fraction). Windows longer than the history are
    skipped; InsufficientDataError when none fits.
    """
    rows = {}
    for w in windows:
        if len(frame) < w + 2:
            continue
        rv = realized_vol(frame, w, estimator, periods_per_year).dropna()
        if rv.empty:
            continue
        row = {f"q{round(q * 100):02d}": float(rv.quantile(q)) for q in quantiles}
        row["today"] = float(rv.iloc[-1])
        rows[w] = row
    if not rows:
        raise InsufficientDataError(
            f"The volatility cone needs at least {min(windows) + 2} bars; got {len(frame)}.")
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "window"
    return out
