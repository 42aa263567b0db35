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


def triple_barrier_outcome(frame: pd.DataFrame, stop_distance, take_distance, horizon: int,
                           side: int = 1) -> pd.Series:
    """Return of a trade entered at ``close[t]`` under the triple-barrier rule.

    López de Prado (2018), *Advances in Financial Machine Learning*, ch. 3.4. For bar t the
    trade enters at ``close[t]`` on ``side`` (+1 long, -1 short); over bars t+1..t+horizon the
    first bar whose range touches the stop (``stop_distance`` from entry) or the take profit
    (``take_distance``) closes it at that barrier (stop first when both are touched in one bar;
    fills at the barrier, no gap slippage); otherwise it exits at ``close[t+horizon]``.

    Args:
        frame: OHLCV (uses ``high low close``). stop_distance, take_distance: price
            distances (> 0), scalars or Series aligned to ``frame`` (NaN -> NaN outcome).
        horizon: bars (vertical barrier). side: +1 long, -1 short.
    Returns:
        Series [fraction of entry price] of the trade's return; NaN where the outcome is not
        known yet (last bars) or distances are missing. Looks ahead by design: target only.
    """
    if horizon < 1 or side not in (1, -1):
        raise ValueError("horizon must be >= 1 bar and side +1 or -1")
    c = frame["close"].to_numpy("float64")
    hi = frame["high"].to_numpy("float64")
    lo = frame["low"].to_numpy("float64")
    n = len(c)
    sd = np.broadcast_to(np.asarray(stop_distance, dtype="float64"), (n,)).copy()
    td = np.broadcast_to(np.asarray(take_distance, dtype="float64"), (n,)).copy()
    ok = np.isfinite(sd) & np.isfinite(td) & (sd > 0) & (td > 0)
    res = np.full(n, np.nan)
    done = ~ok
    for k in range(1, min(horizon, n - 1) + 1):
        m = n - k
        entry = c[:m]
        if side == 1:
            stop_hit = lo[k:] <= entry - sd[:m]
            take_hit = hi[k:] >= entry + td[:m]
        else:
            stop_hit = hi[k:] >= entry + sd[:m]
            take_hit = lo[k:] <= entry - td[:m]
        active = ~done[:m]
        s = active & stop_hit
        t = active & ~stop_hit & take_hit
        res[:m][s] = -sd[:m][s] / entry[s]
        res[:m][t] = td[:m][t] / entry[t]
        done[:m] |= s | t
    if horizon < n:
        m = n - horizon
        rem = ~done[:m]
        res[:m][rem] = side * (c[horizon:][rem] / c[:m][rem] - 1.0)
    return pd.Series(res, index=frame.index, name=f"triple_barrier_{horizon}")
