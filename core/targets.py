"""Targets: the only code allowed to look ahead in time.

A target at bar t describes what happens after t; it is never a model input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def forward_log_return(close: pd.Series, horizon: int) -> pd.Series:
    """``log(close[t+horizon] / close[t])``; NaN for the last ``horizon`` bars.

    Args:
        close: positive prices, time-ordered. horizon: bars ahead (>= 1).
    """
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    lc = np.log(close.astype("float64"))
    return (lc.shift(-horizon) - lc).rename(f"fwd_log_return_{horizon}")


def forward_realized_var(close: pd.Series, horizon: int) -> pd.Series:
    """Realised variance over the next ``horizon`` bars: ``sum_{i=1..h} log_return[t+i]**2``.

    The primary volatility target (fraction², per horizon, not annualised); NaN for the last
    ``horizon`` bars. Source: Andersen & Bollerslev (1998), Patton (2011) use squared returns
    as the (noisy, unbiased) variance proxy.
    """
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    r2 = np.log(close.astype("float64")).diff().pow(2)
    out = r2[::-1].rolling(horizon, min_periods=horizon).sum()[::-1].shift(-1)
    return out.rename(f"fwd_realized_var_{horizon}")


def forward_range_var(frame: pd.DataFrame, horizon: int) -> pd.Series:
    """Range-based secondary target: sum of Parkinson (1980) per-bar variances
    ``log(H/L)**2 / (4 log 2)`` over bars ``t+1..t+horizon`` (fraction²; NaN at the end).

    Runs at roughly 0.6-0.7 of the squared-return level on daily index data (no overnight gap).
    """
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    pk = np.log(frame["high"].astype("float64") / frame["low"].astype("float64")) ** 2
    pk = pk / (4.0 * np.log(2.0))
    out = pk[::-1].rolling(horizon, min_periods=horizon).sum()[::-1].shift(-1)
    return out.rename(f"fwd_range_var_{horizon}")
