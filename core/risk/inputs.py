"""Market inputs the risk code needs, computed from bars <= t only.

Volatility comes from :mod:`core.volatility` (never re-estimated here): its
``forecast_variance`` when that function exists, else the RiskMetrics EWMA
``ewma_variance`` (lambda 0.94). ATR is Wilder's average true range from TA-Lib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, QuantdeskError
from core.features import atr as feature_atr
from core.market import EWMA_LAMBDA, ewma_variance, log_returns
from core.volatility import forecast_variance



def ewma_sigma2(frame: pd.DataFrame, lam: float = EWMA_LAMBDA) -> pd.Series:
    """RiskMetrics EWMA one-bar-ahead variance of log returns at every bar (bars <= t)."""
    return ewma_variance(log_returns(frame["close"]), lam=lam)


def forecast_sigma2(frame: pd.DataFrame, horizon: int = 1) -> tuple[float, str]:
    """Per-bar variance forecast for the next ``horizon`` bars at the last bar.

    Uses :func:`core.volatility.forecast_variance` (its default model), else EWMA(0.94) on
    the log returns when that model cannot forecast these bars.

    Returns:
        (sigma2 per bar [fraction^2, not annualised], source label for display).
    Raises:
        InsufficientDataError: too few bars for any forecast.
    """
    try:
        val = _last_value(forecast_variance(frame, horizon))
        if np.isfinite(val) and val > 0:
            # forecast_variance gives the variance summed over the horizon
            return float(val) / max(horizon, 1), "core.volatility.forecast_variance"
    except (QuantdeskError, TypeError, ValueError, KeyError, AttributeError):
        pass
    s2 = ewma_sigma2(frame).dropna()
    if s2.empty:
        raise InsufficientDataError("Need at least 21 bars to forecast volatility (EWMA).")
    return float(s2.iloc[-1]), "EWMA(0.94) RiskMetrics"


def _last_value(fc) -> float:
    if isinstance(fc, (int, float, np.floating)):
        return float(fc)
    if isinstance(fc, pd.DataFrame):
        for col in ("sigma2", "variance", "value"):
            if col in fc.columns:
                return float(fc[col].iloc[-1])
        return float(fc.iloc[-1, 0])
    if isinstance(fc, pd.Series):
        return float(fc.iloc[-1])
    for attr in ("sigma2", "variance", "value"):
        if hasattr(fc, attr):
            return float(getattr(fc, attr))
    raise TypeError("unrecognised forecast_variance result")


def atr(frame: pd.DataFrame, window: int = 14) -> pd.Series:
    """Wilder's average true range [price units] (:func:`core.features.atr`, TA-Lib ``ATR``);
    NaN during warm-up. Raises InsufficientDataError with ``window`` bars or fewer."""
    if len(frame) <= window:
        raise InsufficientDataError(f"ATR({window}) needs more than {window} bars, got {len(frame)}.")
    return feature_atr(frame, window)
