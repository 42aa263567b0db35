"""Targets: the only code allowed to look ahead in time.

A target at bar t describes what happens after t; it is never a model input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.market import log_returns


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
    r2 = log_returns(close).pow(2)
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


def barrier_outcome(
    frame: pd.DataFrame,
    events: pd.Series,
    atr: pd.Series,
    *,
    k_target: float = 2.0,
    k_stop: float = 1.0,
    horizon: int = 10,
) -> pd.Series:
    """Triple-barrier outcome of entries at the close of event bars (looks ahead by design).

    For an event at bar t with direction d (+1 long / -1 short), entry = close[t], target =
    entry + d * k_target * atr[t], stop = entry - d * k_stop * atr[t]. Bars t+1 .. t+horizon
    are scanned in order: the first bar whose high (d=+1) / low (d=-1) reaches the target is
    a success (1.0) unless the same bar also reaches the stop, which counts as a failure
    (conservative: intrabar order is unknown); reaching the stop first, or neither within the
    horizon, is a failure (0.0). NaN when fewer than ``horizon`` future bars exist and neither
    barrier was hit yet. Method: López de Prado (2018), *Advances in Financial ML*, ch. 3.

    Args:
        frame: OHLCV frame. events: int series aligned to ``frame`` (+1, -1, 0 = no event).
        atr: average true range [price units] aligned to ``frame``. horizon: bars.

    Returns:
        float64 series (1.0 / 0.0 / NaN) aligned to ``frame``; NaN on non-event bars.
    """
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    if k_target <= 0 or k_stop <= 0:
        raise ValueError("k_target and k_stop must be positive multiples of the ATR")
    hi = frame["high"].to_numpy(dtype="float64")
    lo = frame["low"].to_numpy(dtype="float64")
    close = frame["close"].to_numpy(dtype="float64")
    a = atr.reindex(frame.index).to_numpy(dtype="float64")
    ev = events.reindex(frame.index).fillna(0).to_numpy()
    out = np.full(len(frame), np.nan)
    n = len(frame)
    for t in np.flatnonzero(ev != 0):
        d = 1.0 if ev[t] > 0 else -1.0
        if not np.isfinite(a[t]) or a[t] <= 0:
            continue
        target = close[t] + d * k_target * a[t]
        stop = close[t] - d * k_stop * a[t]
        result = np.nan
        for j in range(t + 1, min(t + horizon, n - 1) + 1):
            hit_t = hi[j] >= target if d > 0 else lo[j] <= target
            hit_s = lo[j] <= stop if d > 0 else hi[j] >= stop
            if hit_s:
                result = 0.0
                break
            if hit_t:
                result = 1.0
                break
        else:
            if t + horizon <= n - 1:
                result = 0.0
        out[t] = result
    return pd.Series(out, index=frame.index, name=f"barrier_{k_target:g}_{k_stop:g}_{horizon}")
