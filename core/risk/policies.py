"""Sizing policies: exposure (fraction of equity held long) decided at bar t from bars <= t.

- fixed exposure: always ``level`` (default 100%).
- volatility targeting: ``min(cap, target_vol / forecast_vol_t)`` with the RiskMetrics EWMA
  forecast (Moreira & Muir 2017, "Volatility-Managed Portfolios", J. Finance 72(4);
  Harvey et al. 2018 "The impact of volatility targeting").
- DQN: :mod:`core.risk.dqn` (buckets 0/0.25/0.5/0.75/1).

Each returns a Series aligned to ``frame.index``; the backtest applies ``exposure[t]`` to the
return of bar t+1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.market import EWMA_LAMBDA, periods_per_year
from core.risk.inputs import ewma_sigma2


def fixed_exposure(frame: pd.DataFrame, level: float = 1.0) -> pd.Series:
    """Constant exposure ``level`` [fraction of equity] at every bar."""
    return pd.Series(float(level), index=frame.index, name="fixed")


def vol_target_exposure(frame: pd.DataFrame, target_vol: float = 0.15, cap: float = 1.0,
                        lam: float = EWMA_LAMBDA, interval: str = "1d") -> pd.Series:
    """Volatility targeting ``min(cap, target_vol / vol_ann_t)`` [fraction of equity].

    Args:
        target_vol: annualised target [fraction], e.g. 0.15. cap: max leverage (1 or 2).
        lam: EWMA decay (RiskMetrics 0.94).
    Returns:
        Series; NaN during the EWMA warm-up (first 21 bars).
    """
    if target_vol <= 0 or cap <= 0:
        raise ValueError("target_vol and cap must be positive")
    vol = np.sqrt(ewma_sigma2(frame, lam) * periods_per_year(interval))
    return (target_vol / vol).clip(upper=cap).rename(f"vol_target_{target_vol:g}_cap{cap:g}")
