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
