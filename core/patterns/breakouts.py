"""Support/resistance from pivots, breakout events, their features and outcome labels.

Levels (documented method):

* A *pivot high* at bar i is a bar whose high is the maximum of highs over bars
  ``i-k .. i+k`` (``k = PIVOT_K = 5``); a pivot low likewise with lows (Bulkowski-style swing
  points). A pivot is only *known* at bar ``i+k`` (confirmation), so a level enters the set
  of active resistance/support levels at bar ``i+k`` — never earlier (no lookahead).
* A level stays active until a close goes through it, or until it is older than
  ``MAX_AGE = 250`` bars.
* A *breakout up* at bar t: ``close[t-1] <= L < close[t]`` for an active resistance L (the
  highest such L is recorded); *breakout down* symmetric with support. All levels crossed
  by the close are then retired.

Outcome (label, :func:`core.targets.barrier_outcome`): success when price reaches
``k_target x ATR(14)`` in the breakout direction within ``horizon`` bars before the stop at
``k_stop x ATR`` against it (defaults 2 / 1 / 10 bars, as in the issue's context numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.features import atr as feature_atr
from core.targets import barrier_outcome

PIVOT_K = 5
MAX_AGE = 250
ATR_BARS = 14
K_TARGET = 2.0
K_STOP = 1.0
HORIZON = 10
MIN_BARS = 60

FEATURES: tuple[str, ...] = (
    "direction", "penetration_atr", "body_frac", "range_atr", "log_volume_ratio", "atr_pct",
    "momentum5_atr", "momentum20_atr", "rsi_dev", "log_level_age", "room_atr", "sma50_dev_atr",
    "levels_crossed",
)


@dataclass
class Levels:
    """Pivot levels and breakout events of one series.

    Attributes:
        events: int8 series (+1 up, -1 down, 0 none) aligned to the bars.
        level: float series, the level broken at each event bar (NaN elsewhere).
        level_age: bars between the pivot and the event (NaN elsewhere).
        crossed: number of levels the close went through at that bar.
        room: distance [price units] from the close to the next active level in the
            breakout direction (NaN when none).
        active_resistance / active_support: levels active after the last bar (sorted).
        pivots: DataFrame ``timestamp, kind (high|low), price, confirmed_at``.
    """
    events: pd.Series
    level: pd.Series
    level_age: pd.Series
    crossed: pd.Series
    room: pd.Series
    active_resistance: list[float] = field(default_factory=list)
    active_support: list[float] = field(default_factory=list)
    pivots: pd.DataFrame | None = None


def find_levels(frame: pd.DataFrame, k: int = PIVOT_K, max_age: int = MAX_AGE) -> Levels:
    """Scan bars in time order, keeping only levels confirmed by bar t when judging bar t.

    Args:
        frame: validated OHLCV frame. k: pivot half-width [bars]. max_age: level lifetime [bars].

    Raises:
        InsufficientDataError: fewer than ``2k + 2`` bars.
    """
    n = len(frame)
    if n < 2 * k + 2:
        raise InsufficientDataError(f"Support/resistance needs at least {2 * k + 2} bars; got {n}.")
    hi = frame["high"].to_numpy(dtype="float64")
    lo = frame["low"].to_numpy(dtype="float64")
    c = frame["close"].to_numpy(dtype="float64")
    win = 2 * k + 1
    roll_max = pd.Series(hi).rolling(win, center=True).max().to_numpy()
    roll_min = pd.Series(lo).rolling(win, center=True).min().to_numpy()
    is_ph = hi == roll_max
    is_pl = lo == roll_min
    res: list[tuple[float, int]] = []  # (price, pivot bar)
    sup: list[tuple[float, int]] = []
    events = np.zeros(n, dtype="int8")
    level = np.full(n, np.nan)
    age = np.full(n, np.nan)
    crossed = np.zeros(n)
    room = np.full(n, np.nan)
    piv_rows = []
    for t in range(n):
        i = t - k  # pivot bar confirmed at t
        if i >= k:
            if is_ph[i]:
                piv_rows.append((i, "high", hi[i], t))
                if hi[i] > c[t]:
                    res.append((hi[i], i))
            if is_pl[i]:
                piv_rows.append((i, "low", lo[i], t))
                if lo[i] < c[t]:
                    sup.append((lo[i], i))
        res = [(p, j) for p, j in res if t - j <= max_age]
        sup = [(p, j) for p, j in sup if t - j <= max_age]
        if t == 0:
            continue
        up = [(p, j) for p, j in res if c[t - 1] <= p < c[t]]
        down = [(p, j) for p, j in sup if c[t - 1] >= p > c[t]]
        if up and not down:
            p, j = max(up)
            events[t], level[t], age[t], crossed[t] = 1, p, t - j, len(up)
            above = [q for q, _ in res if q > c[t]]
            room[t] = min(above) - c[t] if above else np.nan
        elif down and not up:
            p, j = min(down)
            events[t], level[t], age[t], crossed[t] = -1, p, t - j, len(down)
            below = [q for q, _ in sup if q < c[t]]
            room[t] = c[t] - max(below) if below else np.nan
        res = [(p, j) for p, j in res if p >= c[t]]
        sup = [(p, j) for p, j in sup if p <= c[t]]
    idx = frame.index
    piv = pd.DataFrame(piv_rows, columns=["bar", "kind", "price", "confirmed_bar"])
    piv.insert(0, "timestamp", idx[piv["bar"].to_numpy()] if len(piv) else pd.DatetimeIndex([]))
    piv["confirmed_at"] = idx[piv["confirmed_bar"].to_numpy()] if len(piv) else []
    return Levels(
        events=pd.Series(events, index=idx, name="breakout"),
        level=pd.Series(level, index=idx, name="level"),
        level_age=pd.Series(age, index=idx, name="level_age"),
        crossed=pd.Series(crossed, index=idx, name="crossed"),
        room=pd.Series(room, index=idx, name="room"),
        active_resistance=sorted(p for p, _ in res),
        active_support=sorted(p for p, _ in sup),
        pivots=piv.drop(columns=["bar", "confirmed_bar"]),
    )


def could_break_out(frame: pd.DataFrame, k: int = PIVOT_K, max_age: int = MAX_AGE) -> bool:
    """A cheap necessary condition for :func:`find_levels` to mark the LAST bar ``t`` a
    breakout, from the rules of its scan: an up-break needs a pivot high ``p = high[j]``
    (``high[j]`` the highest of bars ``j-k .. j+k``, ``t - max_age <= j <= t - k``) with
    ``close[t-1] <= p < close[t]`` that no close from its confirmation (bar ``j+k``) to
    ``t-1`` exceeded (a level is dropped once a close goes above it); a down-break the
    mirror image with lows. False means "no breakout on the last bar" without the O(n)
    scan; True means "run it". ``tests/patterns/test_breakouts.py`` checks it never says
    False where :func:`find_levels` finds a breakout."""
    n = len(frame)
    t = n - 1
    if t < 2 * k + 1:
        return True  # short frames: let find_levels decide (and raise)
    c = frame["close"].to_numpy(dtype="float64")
    prev, last = c[t - 1], c[t]
    if last == prev:
        return False
    up = last > prev
    x = frame["high" if up else "low"].to_numpy(dtype="float64")
    j = np.arange(max(k, t - max_age), t - k + 1)
    if len(j) == 0:
        return False
    win = np.lib.stride_tricks.sliding_window_view(x, 2 * k + 1)[j - k]  # bars j-k .. j+k
    p = x[j]
    pivot = p == (win.max(axis=1) if up else win.min(axis=1))
    closes = c[:t]  # closes up to t-1; suffix extreme from each confirmation bar j+k
    if up:
        worst = np.maximum.accumulate(closes[::-1])[::-1]
        alive = p >= worst[np.minimum(j + k, t - 1)]
        hit = (p >= prev) & (p < last)
    else:
        worst = np.minimum.accumulate(closes[::-1])[::-1]
        alive = p <= worst[np.minimum(j + k, t - 1)]
        hit = (p <= prev) & (p > last)
    return bool((pivot & alive & hit).any())


def active_levels(frame: pd.DataFrame, k: int = PIVOT_K, max_age: int = MAX_AGE
                  ) -> tuple[list[float], list[float]]:
    """``(active_resistance, active_support)`` after the last bar, as :func:`find_levels`
    gives them (sorted), without its bar-by-bar scan: the pivot highs ``j`` (highest of bars
    ``j-k .. j+k``) with ``t - max_age <= j <= t - k`` above the close of their confirmation
    bar ``j+k`` and not below any close since; the pivot lows mirrored. Equality with
    :func:`find_levels` is tested on real and synthetic histories.

    Raises:
        InsufficientDataError: fewer than ``2k + 2`` bars (as :func:`find_levels`).
    """
    n = len(frame)
    if n < 2 * k + 2:
        raise InsufficientDataError(f"Support/resistance needs at least {2 * k + 2} bars; got {n}.")
    t = n - 1
    c = frame["close"].to_numpy(dtype="float64")
    j = np.arange(max(k, t - max_age), t - k + 1)
    out = []
    for col, sign in (("high", 1.0), ("low", -1.0)):
        x = sign * frame[col].to_numpy(dtype="float64")  # lows as negated highs
        cs = sign * c
        win = np.lib.stride_tricks.sliding_window_view(x, 2 * k + 1)[j - k]
        p = x[j]
        pivot = p == win.max(axis=1)
        since = np.maximum.accumulate(cs[::-1])[::-1]  # highest close from bar i to t
        alive = pivot & (p > cs[j + k]) & (p >= since[j + k])
        out.append(sorted(float(sign * v) for v in p[alive]))
    return out[0], out[1]


def atr(frame: pd.DataFrame, bars: int = ATR_BARS) -> pd.Series:
    """Wilder's average true range [price units], :func:`core.features.atr` named ``atr``
    (NaN in warm-up)."""
    return feature_atr(frame, bars).rename("atr")


def breakout_features(frame: pd.DataFrame, levels: Levels | None = None) -> pd.DataFrame:
    """One row per breakout event with ``FEATURES`` (float64), using bars <= the event bar.

    Direction-adjusted: every signed feature is multiplied by the breakout direction, so
    "in the breakout's favour" is positive for both UP and DOWN breakouts. Units: ``*_atr``
    in ATR(14) multiples; ``atr_pct`` fraction of price; ``rsi_dev`` RSI(14) - 50 (signed);
    ``log_volume_ratio`` log(volume / mean volume of the 20 prior bars) (0 when no volume);
    ``room_atr`` distance to the next active level, capped at 10 ATR.
    """
    import talib  # deferred: talib is slow to import

    if len(frame) < MIN_BARS:
        raise InsufficientDataError(f"Breakout analysis needs at least {MIN_BARS} bars; "
                                    f"got {len(frame)}. Choose a longer range.")
    levels = levels or find_levels(frame)
    c = frame["close"]
    a = atr(frame)
    d = levels.events.astype("float64")
    vol = frame["volume"].astype("float64")
    vmean = vol.rolling(20).mean().shift(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lvr = np.log(vol / vmean).replace([np.inf, -np.inf], np.nan).fillna(0.0)
    rsi = pd.Series(talib.RSI(c.to_numpy("float64"), 14), index=frame.index)
    sma50 = c.rolling(50).mean()
    rng = (frame["high"] - frame["low"]).replace(0, np.nan)
    feat = pd.DataFrame({
        "direction": d,
        "penetration_atr": d * (c - levels.level) / a,
        "body_frac": (d * (c - frame["open"]) / rng).fillna(0.0),
        "range_atr": (frame["high"] - frame["low"]) / a,
        "log_volume_ratio": lvr,
        "atr_pct": a / c,
        "momentum5_atr": d * (c - c.shift(5)) / a,
        "momentum20_atr": d * (c - c.shift(20)) / a,
        "rsi_dev": d * (rsi - 50),
        "log_level_age": np.log1p(levels.level_age),
        "room_atr": (levels.room / a).fillna(10.0).clip(upper=10.0),
        "sma50_dev_atr": d * (c - sma50) / a,
        "levels_crossed": levels.crossed,
    }, index=frame.index)
    ev = feat[levels.events != 0].dropna()
    return ev[list(FEATURES)].astype("float64")


def breakout_dataset(frame: pd.DataFrame, *, k_target: float = K_TARGET, k_stop: float = K_STOP,
                     horizon: int = HORIZON) -> pd.DataFrame:
    """Features plus ``level``, ``close``, ``atr`` and the label ``success`` (NaN when the
    outcome is not known yet) for every breakout event of ``frame``."""
    levels = find_levels(frame)
    feats = breakout_features(frame, levels)
    a = atr(frame)
    y = barrier_outcome(frame, levels.events, a, k_target=k_target, k_stop=k_stop,
                        horizon=horizon)
    out = feats.copy()
    out["level"] = levels.level.reindex(out.index)
    out["close"] = frame["close"].reindex(out.index)
    out["atr"] = a.reindex(out.index)
    out["success"] = y.reindex(out.index)
    return out


def random_entry_rate(frame: pd.DataFrame, *, k_target: float = K_TARGET,
                      k_stop: float = K_STOP, horizon: int = HORIZON) -> dict[str, float]:
    """Success rate of entering long (and short) at *every* bar with the same barriers: the
    'random entry' reference for breakouts. Returns ``{"up": rate, "down": rate, "n": bars}``."""
    a = atr(frame)
    ok = a.notna()
    longs = barrier_outcome(frame, pd.Series(np.where(ok, 1, 0), index=frame.index), a,
                            k_target=k_target, k_stop=k_stop, horizon=horizon)
    shorts = barrier_outcome(frame, pd.Series(np.where(ok, -1, 0), index=frame.index), a,
                             k_target=k_target, k_stop=k_stop, horizon=horizon)
    return {"up": float(longs.mean()), "down": float(shorts.mean()),
            "n": int(longs.notna().sum())}
