"""Market facts every domain shares, defined once: bars per year per interval, returns,
the RiskMetrics EWMA variance and the normal quantiles behind the 80% / 95% intervals.

Annualisation counts *bars*, not hours: a US equity session (09:30-16:00 ET) gives Yahoo
7 hourly bars a day (the last one half an hour), so ``1h`` is 252 * 7 bars a year, and a
per-bar variance times that count is the annual variance (square-root-of-time rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

#: trading days per year (US equities, NYSE calendar average)
TRADING_DAYS = 252

#: bars per year by yfinance interval; intraday counts are bars per regular session
#: (390 minutes; a final partial bar counts as a bar) times 252 sessions
PERIODS_PER_YEAR: dict[str, float] = {
    "1m": TRADING_DAYS * 390, "2m": TRADING_DAYS * 195, "5m": TRADING_DAYS * 78,
    "15m": TRADING_DAYS * 26, "30m": TRADING_DAYS * 13, "60m": TRADING_DAYS * 7,
    "90m": TRADING_DAYS * 5, "1h": TRADING_DAYS * 7, "1d": TRADING_DAYS, "5d": TRADING_DAYS / 5,
    "1wk": 52, "1mo": 12, "3mo": 4,
}

#: two-sided 80% and 95% normal quantiles, N(0,1).ppf(0.90) and .ppf(0.975)
Z80 = 1.2815515655446004
Z95 = 1.959963984540054

#: RiskMetrics decay for daily data (J.P. Morgan/Reuters, RiskMetrics Technical Document, 1996)
EWMA_LAMBDA = 0.94


def periods_per_year(interval: str = "1d") -> float:
    """Bars per year used to annualise a per-bar variance or mean for ``interval``.

    Args:
        interval: yfinance-style interval (``1d``, ``1h``, ``5m`` ...). ``csv`` (an upload
            whose spacing is unknown) and unknown strings are treated as daily.

    Returns:
        Bars per year (float, > 0), e.g. 252 for ``1d`` and 1,764 for ``1h``.
    """
    return float(PERIODS_PER_YEAR.get(interval, TRADING_DAYS))


def is_intraday(interval: str) -> bool:
    """True for minute and hour intervals (``1m`` .. ``90m``, ``1h``)."""
    return interval.endswith(("m", "h")) and not interval.endswith("mo")


def log_returns(close: pd.Series) -> pd.Series:
    """``log_return[t] = log(close[t] / close[t-1])`` per bar, float64, named ``log_return``;
    the first value is NaN."""
    return np.log(close.astype("float64")).diff().rename("log_return")


def simple_returns(close: pd.Series) -> pd.Series:
    """``close[t] / close[t-1] - 1`` per bar [fraction], float64; the first value is NaN."""
    return close.astype("float64").pct_change()


def ewma_variance(log_return: pd.Series, lam: float = EWMA_LAMBDA, warmup: int = 20
                  ) -> pd.Series:
    """RiskMetrics EWMA one-bar-ahead variance ``sigma2[t]`` for bar t+1 from returns <= t.

    ``sigma2[t] = lam * sigma2[t-1] + (1 - lam) * r[t]**2``, seeded with the mean of the first
    ``warmup`` finite squared returns; values before the seed are NaN, and a NaN return
    carries the previous value forward. Unit: per-bar variance of log returns (multiply by
    :func:`periods_per_year` to annualise). Source: RiskMetrics Technical Document (1996),
    section 5.2.1.

    Args:
        log_return: per-bar log returns, shape (n,); NaN allowed.
        lam: decay in (0, 1). warmup: returns averaged for the seed (>= 1).

    Returns:
        Series ``sigma2`` on ``log_return.index``, float64.

    Raises:
        ValueError: ``lam`` outside (0, 1).
    """
    if not 0 < lam < 1:
        raise ValueError("lam must be in (0, 1)")
    r2 = log_return.astype("float64").pow(2).to_numpy()
    out = np.full(len(r2), np.nan)
    valid = np.flatnonzero(np.isfinite(r2))
    if len(valid) < warmup:
        return pd.Series(out, index=log_return.index, name="sigma2")
    start = valid[warmup - 1]
    seed = float(np.mean(r2[valid[:warmup]]))
    out[start] = seed
    rest = r2[start + 1:]
    if np.isfinite(rest).all():  # the usual case: one linear filter instead of a loop
        out[start + 1:] = lfilter([1 - lam], [1, -lam], rest, zi=[lam * seed])[0]
    else:
        s = seed
        for i in range(start + 1, len(r2)):
            if np.isfinite(r2[i]):
                s = lam * s + (1 - lam) * r2[i]
            out[i] = s
    return pd.Series(out, index=log_return.index, name="sigma2")
