"""RiskMetrics EWMA variance (J.P. Morgan/Reuters, RiskMetrics Technical Document, 1996)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def ewma_variance(log_return: pd.Series, lam: float = 0.94, warmup: int = 20) -> pd.Series:
    """One-bar-ahead variance forecast ``sigma2[t]`` for bar t+1 from returns <= t.

    ``sigma2[t] = lam * sigma2[t-1] + (1 - lam) * r[t]**2``, seeded with the mean of the first
    ``warmup`` squared returns; values before the seed are NaN. Unit: per-bar variance of log
    returns (not annualised; multiply by periods per year to annualise).

    Args:
        log_return: per-bar log returns (NaN first value allowed). lam: decay in (0, 1).
    """
    if not 0 < lam < 1:
        raise ValueError("lam must be in (0, 1)")
    r2 = log_return.astype("float64").pow(2).to_numpy()
    out = np.full(len(r2), np.nan)
    valid = np.flatnonzero(np.isfinite(r2))
    if len(valid) < warmup:
        return pd.Series(out, index=log_return.index, name="sigma2")
    start = valid[warmup - 1]
    s = float(np.nanmean(r2[valid[:warmup]]))
    out[start] = s
    for i in range(start + 1, len(r2)):
        x = r2[i]
        if np.isfinite(x):
            s = lam * s + (1 - lam) * x
        out[i] = s
    return pd.Series(out, index=log_return.index, name="sigma2")
