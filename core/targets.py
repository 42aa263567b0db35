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
