"""The screener's technical columns of one symbol's last bar, from bars <= that bar only.

Every value is computed from the OHLCV frame up to and including its last row; nothing
reads a later bar (``tests/screener/test_no_lookahead.py`` alters later bars and checks).

Columns (keys of :func:`technical_columns`; NaN-free: ``None`` where the history is too
short):

* ``close`` [price]; ``chg_1_pct``, ``chg_5_pct``, ``chg_20_pct``: simple close-to-close
  change over 1/5/20 bars [%].
* ``volume_ratio``: the last bar's volume over the mean volume of the 20 bars before it
  (TradingView's "relative volume"); None without volume.
* ``rsi_14``: Wilder's RSI over 14 bars (TA-Lib ``RSI``; Wilder, *New Concepts in Technical
  Trading Systems*, 1978) in [0, 100].
* ``from_high_52w_pct`` (<= 0) and ``from_low_52w_pct`` (>= 0): the close against the
  highest high / lowest low of the last 52 weeks of bars (:func:`core.market.periods_per_year`
  bars; all bars when fewer) [%].
* ``sma_50``, ``sma_200`` [price] and ``trend``: ``up`` when close > SMA50 > SMA200,
  ``down`` when close < SMA50 < SMA200, ``mixed`` otherwise, ``n/a`` under 200 bars.
* ``support``, ``resistance``: the nearest active pivot level below / above the close
  (:func:`core.patterns.breakouts.active_levels`, levels confirmed by the last bar) [price].
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import talib

from core.errors import InsufficientDataError
from core.market import periods_per_year
from core.patterns.breakouts import active_levels

#: bars averaged for the relative volume
VOLUME_BARS = 20
RSI_BARS = 14
TREND_FAST, TREND_SLOW = 50, 200


def finite(x) -> float | None:
    """``x`` as a finite float, else None (None, NaN, inf, or not a number)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _change(close: np.ndarray, bars: int) -> float | None:
    if len(close) <= bars or close[-1 - bars] <= 0:
        return None
    return finite(100.0 * (close[-1] / close[-1 - bars] - 1.0))


def trend_state(close: float, sma_fast: float | None, sma_slow: float | None) -> str:
    """``up`` / ``down`` / ``mixed`` from the close and its 50/200-bar averages; ``n/a``
    when either average is missing."""
    if sma_fast is None or sma_slow is None:
        return "n/a"
    if close > sma_fast > sma_slow:
        return "up"
    if close < sma_fast < sma_slow:
        return "down"
    return "mixed"


def technical_columns(frame: pd.DataFrame, interval: str = "1d") -> dict:
    """The technical columns of the last bar of ``frame`` (see the module docstring).

    Args:
        frame: validated OHLCV frame (``open high low close volume``, float, UTC index),
            at least one bar.
        interval: bar interval, for the 52-week window in bars.
    Returns:
        dict of the columns above (floats or None; ``trend`` a string).
    Raises:
        InsufficientDataError: ``frame`` has no bars.
    """
    if frame is None or len(frame) == 0:
        raise InsufficientDataError("No bars to screen.")
    close = frame["close"].to_numpy(dtype="float64")
    out: dict = {"close": finite(close[-1])}
    for bars in (1, 5, 20):
        out[f"chg_{bars}_pct"] = _change(close, bars)
    vol = frame["volume"].to_numpy(dtype="float64") if "volume" in frame else np.array([])
    prior = vol[-1 - VOLUME_BARS:-1] if len(vol) > VOLUME_BARS else np.array([])
    out["volume_ratio"] = (finite(vol[-1] / prior.mean())
                           if len(prior) and prior.mean() > 0 else None)
    out["rsi_14"] = (finite(talib.RSI(close, timeperiod=RSI_BARS)[-1])
                     if len(close) > RSI_BARS else None)
    year = max(1, int(round(periods_per_year(interval))))
    hi = float(frame["high"].to_numpy(dtype="float64")[-year:].max())
    lo = float(frame["low"].to_numpy(dtype="float64")[-year:].min())
    out["from_high_52w_pct"] = finite(100.0 * (close[-1] / hi - 1.0)) if hi > 0 else None
    out["from_low_52w_pct"] = finite(100.0 * (close[-1] / lo - 1.0)) if lo > 0 else None
    fast = finite(close[-TREND_FAST:].mean()) if len(close) >= TREND_FAST else None
    slow = finite(close[-TREND_SLOW:].mean()) if len(close) >= TREND_SLOW else None
    out["sma_50"], out["sma_200"] = fast, slow
    out["trend"] = trend_state(close[-1], fast, slow)
    out["support"] = out["resistance"] = None
    try:
        resistance, support = active_levels(frame)
    except InsufficientDataError:
        return out
    below = [s for s in support if s < close[-1]]
    above = [r for r in resistance if r > close[-1]]
    out["support"] = finite(below[-1]) if below else None
    out["resistance"] = finite(above[0]) if above else None
    return out
