"""Rule detectors for 15 candlestick patterns, with trend context.

Geometry follows TA-Lib's candle settings (``TA_SetCandleSettings`` defaults, TA-Lib
``ta_global.c``): every threshold is relative to an average over the bars *before* the
pattern, so a detection at bar ``t`` uses bars ``<= t`` only.

=================  ==========  ======  =======================================================
setting            measured on  period  condition
=================  ==========  ======  =======================================================
BodyDoji           high-low     10      body <= 0.1 x average range
BodyShort          body         10      body < 1.0 x average body
BodyLong           body         10      body > 1.0 x average body
ShadowLong         body         0       shadow > 1.0 x body
ShadowVeryLong     body         0       shadow > 2.0 x body
ShadowVeryShort    high-low     10      shadow < 0.1 x average range
Near / Equal       high-low     5       |difference| <= 0.2 / 0.05 x average range
=================  ==========  ======  =======================================================

Where TA-Lib has the pattern and its definition fits daily bars, the geometry *is* TA-Lib's
``CDL*`` function (Nison-style definitions as coded by TA-Lib 0.6+/ta-lib-python 0.8):
doji (CDLDOJI), hammer (CDLHAMMER), shooting_star (CDLSHOOTINGSTAR), engulfing
(CDLENGULFING, sign = direction), morning/evening star (CDLMORNINGSTAR/CDLEVENINGSTAR,
penetration 0.3), harami (CDLHARAMI, sign = direction), piercing_line (CDLPIERCING),
dark_cloud_cover (CDLDARKCLOUDCOVER, penetration 0.5), marubozu (CDLMARUBOZU).

Own geometry (documented deliberate differences, agreement rates in docs/patterns.md):

* three_white_soldiers / three_black_crows: TA-Lib's versions (which also demand very short
  upper shadows, "not far" opens and non-shrinking bodies) fire almost never on daily stock
  bars (0 times on 13 years of MSFT). Ours: three consecutive candles of the same colour, each
  body > 0.5 x average range (10 bars before the pattern), each close beyond the previous
  close, each open inside the previous body (inclusive), and each close within 0.25 x its own
  range of the extreme (high for soldiers, low for crows).
* tweezer_top / tweezer_bottom: no TA-Lib function. Two candles whose highs (top) or lows
  (bottom) are equal within 0.05 x average range (TA-Lib "Equal", 5 bars), the first candle
  in the trend's direction (white for a top, black for a bottom) with body > 0.3 x average
  range, the second of the opposite colour.

Trend context (TA-Lib omits it): with ``trend[t] = (close[t] - close[t-5]) /
avg_range10[t]`` (move over 5 bars in units of the mean high-low range of the 10 bars ending
at t), a pattern of ``n`` bars ending at ``t`` needs a *prior decline* ``trend[t-n] <= -1``
(bullish reversals: hammer, engulfing_bullish, morning_star, three_white_soldiers,
bullish harami, piercing_line, tweezer_bottom) or a *prior rise* ``trend[t-n] >= +1``
(bearish reversals: shooting_star, engulfing_bearish, evening_star, three_black_crows,
bearish harami, dark_cloud_cover, tweezer_top). doji and marubozu carry no trend condition
(indecision / momentum candles); their direction is neutral / the candle's colour.
References: S. Nison, *Japanese Candlestick Charting Techniques* (2nd ed., 2001); TA-Lib
candle-settings documentation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.errors import InsufficientDataError

PATTERNS: tuple[str, ...] = (
    "doji", "hammer", "shooting_star", "engulfing_bullish", "engulfing_bearish",
    "morning_star", "evening_star", "three_white_soldiers", "three_black_crows", "harami",
    "piercing_line", "dark_cloud_cover", "tweezer_top", "tweezer_bottom", "marubozu",
)
#: +1 bullish, -1 bearish, 0 depends on the candle (harami, marubozu) or neutral (doji)
DIRECTION: dict[str, int] = {
    "doji": 0, "hammer": 1, "shooting_star": -1, "engulfing_bullish": 1,
    "engulfing_bearish": -1, "morning_star": 1, "evening_star": -1,
    "three_white_soldiers": 1, "three_black_crows": -1, "harami": 0, "piercing_line": 1,
    "dark_cloud_cover": -1, "tweezer_top": -1, "tweezer_bottom": 1, "marubozu": 0,
}
#: bars the pattern spans (the trend context is read on the bar before its first bar)
SPAN: dict[str, int] = {
    "doji": 1, "hammer": 1, "shooting_star": 1, "engulfing_bullish": 2,
    "engulfing_bearish": 2, "morning_star": 3, "evening_star": 3, "three_white_soldiers": 3,
    "three_black_crows": 3, "harami": 2, "piercing_line": 2, "dark_cloud_cover": 2,
    "tweezer_top": 2, "tweezer_bottom": 2, "marubozu": 1,
}
TREND_BARS = 5
RANGE_BARS = 10
TREND_THRESHOLD = 1.0
MIN_BARS = 20


@dataclass(frozen=True)
class Detections:
    """Rule output aligned to the input bars.

    Attributes:
        hits: bool DataFrame (bars x 15 patterns), True where the rule fires on that bar
            (the pattern's last candle).
        direction: int8 DataFrame, +1 bullish / -1 bearish / 0 neutral where hit, else 0.
        strength: float64 DataFrame in [0, 1]: TA-Lib's magnitude / 100 (1.0 full, 0.8
            partial engulfing/harami) for TA-Lib-based patterns, 1.0 for own rules, 0 no hit.
    """
    hits: pd.DataFrame
    direction: pd.DataFrame
    strength: pd.DataFrame


def _arrays(frame: pd.DataFrame):
    o, h, l, c = (frame[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close"))
    return o, h, l, c


def _prior_mean(x: np.ndarray, period: int, shift: int = 1) -> np.ndarray:
    """Mean of x over the ``period`` bars ending ``shift`` bars before each bar."""
    s = pd.Series(x).rolling(period, min_periods=period).mean().shift(shift)
    return s.to_numpy()


def trend_strength(frame: pd.DataFrame) -> pd.Series:
    """``(close[t] - close[t-5]) / mean(high - low over bars t-9..t)`` (dimensionless).

    Negative = decline, positive = rise, in units of the average bar range. NaN in warm-up.
    """
    o, h, l, c = _arrays(frame)
    rng = pd.Series(h - l).rolling(RANGE_BARS, min_periods=RANGE_BARS).mean().to_numpy()
    move = c - np.r_[np.full(TREND_BARS, np.nan), c[:-TREND_BARS]]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(rng > 0, move / rng, 0.0)
    t[np.isnan(move) | np.isnan(rng)] = np.nan
    return pd.Series(t, index=frame.index, name="trend")


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(x, np.nan, dtype="float64")
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


def _talib_raw(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """TA-Lib CDL outputs (int, +-100/80) for the patterns TA-Lib covers."""
    import talib  # deferred: talib is slow to import

    o, h, l, c = _arrays(frame)
    return {
        "doji": talib.CDLDOJI(o, h, l, c),
        "hammer": talib.CDLHAMMER(o, h, l, c),
        "shooting_star": talib.CDLSHOOTINGSTAR(o, h, l, c),
        "engulfing": talib.CDLENGULFING(o, h, l, c),
        "morning_star": talib.CDLMORNINGSTAR(o, h, l, c, penetration=0.3),
        "evening_star": talib.CDLEVENINGSTAR(o, h, l, c, penetration=0.3),
        "three_white_soldiers": talib.CDL3WHITESOLDIERS(o, h, l, c),
        "three_black_crows": talib.CDL3BLACKCROWS(o, h, l, c),
        "harami": talib.CDLHARAMI(o, h, l, c),
        "piercing_line": talib.CDLPIERCING(o, h, l, c),
        "dark_cloud_cover": talib.CDLDARKCLOUDCOVER(o, h, l, c, penetration=0.5),
        "marubozu": talib.CDLMARUBOZU(o, h, l, c),
    }


def talib_hits(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain TA-Lib detections (no trend context), as bool columns named like ``PATTERNS``.

    Tweezers have no TA-Lib function (columns absent). Used for the agreement table.
    """
    raw = _talib_raw(frame)
    cols = {}
    for p in PATTERNS:
        if p == "engulfing_bullish":
            cols[p] = raw["engulfing"] > 0
        elif p == "engulfing_bearish":
            cols[p] = raw["engulfing"] < 0
        elif p in raw:
            cols[p] = raw[p] != 0
    return pd.DataFrame(cols, index=frame.index)


def _own_soldiers(o, h, l, c, avg_rng3, white: bool) -> np.ndarray:
    ok = np.ones(len(c), dtype=bool)
    for k in range(3):  # k = 0 is the last candle
        ok_k = (c > o) if white else (c < o)
        body = np.abs(c - o)
        ok_k = ok_k & (body > 0.5 * avg_rng3)
        rng = h - l
        if white:
            ok_k = ok_k & (h - c <= 0.25 * rng)
        else:
            ok_k = ok_k & (c - l <= 0.25 * rng)
        ok &= np.nan_to_num(_shift(ok_k.astype(float), k), nan=0).astype(bool) if k else ok_k
    for k in range(2):  # each candle vs. the one before it
        cur_o, cur_c = _shift(o, k) if k else o, _shift(c, k) if k else c
        prev_o, prev_c = _shift(o, k + 1), _shift(c, k + 1)
        lo, hi = np.minimum(prev_o, prev_c), np.maximum(prev_o, prev_c)
        with np.errstate(invalid="ignore"):
            step = (cur_c > prev_c) if white else (cur_c < prev_c)
            inside = (cur_o >= lo) & (cur_o <= hi)
        ok &= step & inside
    return ok


def detect(frame: pd.DataFrame, *, trend_context: bool = True) -> Detections:
    """Run the 15 rule detectors on every bar (vectorised).

    Args:
        frame: validated OHLCV frame (float64 ``open high low close``), time-ordered.
        trend_context: apply the prior-decline/prior-rise conditions (default True; False
            gives geometry only, used for cross-checks).

    Returns:
        :class:`Detections` with three frames of shape (len(frame), 15).

    Raises:
        InsufficientDataError: fewer than 20 bars (averages need 10 prior bars + a trend).
    """
    n = len(frame)
    if n < MIN_BARS:
        raise InsufficientDataError(
            f"Pattern detection needs at least {MIN_BARS} bars; got {n}. Choose a longer range.")
    o, h, l, c = _arrays(frame)
    raw = _talib_raw(frame)
    rng = h - l
    trend = trend_strength(frame).to_numpy()
    avg_rng5 = _prior_mean(rng, 5)

    def ctx(span: int, sign: int) -> np.ndarray:
        if not trend_context:
            return np.ones(n, dtype=bool)
        t = _shift(trend, span)
        with np.errstate(invalid="ignore"):
            return (t <= -TREND_THRESHOLD) if sign > 0 else (t >= TREND_THRESHOLD)

    hits: dict[str, np.ndarray] = {}
    dirs: dict[str, np.ndarray] = {}
    strength: dict[str, np.ndarray] = {}

    def put(name, mask, direction, s):
        mask = np.asarray(mask, dtype=bool)
        hits[name] = mask
        dirs[name] = np.where(mask, direction, 0).astype("int8")
        strength[name] = np.where(mask, s, 0.0)

    put("doji", raw["doji"] != 0, 0, np.abs(raw["doji"]) / 100)
    put("hammer", (raw["hammer"] != 0) & ctx(1, 1), 1, np.abs(raw["hammer"]) / 100)
    put("shooting_star", (raw["shooting_star"] != 0) & ctx(1, -1), -1,
        np.abs(raw["shooting_star"]) / 100)
    eng = raw["engulfing"]
    put("engulfing_bullish", (eng > 0) & ctx(2, 1), 1, np.abs(eng) / 100)
    put("engulfing_bearish", (eng < 0) & ctx(2, -1), -1, np.abs(eng) / 100)
    put("morning_star", (raw["morning_star"] != 0) & ctx(3, 1), 1,
        np.abs(raw["morning_star"]) / 100)
    put("evening_star", (raw["evening_star"] != 0) & ctx(3, -1), -1,
        np.abs(raw["evening_star"]) / 100)
    avg_rng_before3 = _prior_mean(rng, RANGE_BARS, shift=3)
    put("three_white_soldiers", _own_soldiers(o, h, l, c, avg_rng_before3, True) & ctx(3, 1),
        1, 1.0)
    put("three_black_crows", _own_soldiers(o, h, l, c, avg_rng_before3, False) & ctx(3, -1),
        -1, 1.0)
    har = raw["harami"]
    har_mask = ((har > 0) & ctx(2, 1)) | ((har < 0) & ctx(2, -1))
    put("harami", har_mask, np.sign(har), np.abs(har) / 100)
    put("piercing_line", (raw["piercing_line"] != 0) & ctx(2, 1), 1, 1.0)
    put("dark_cloud_cover", (raw["dark_cloud_cover"] != 0) & ctx(2, -1), -1, 1.0)
    # tweezers (own): equal extremes within 0.05 x avg range of the 5 bars before bar t-1
    avg_eq = _shift(avg_rng5, 1)
    prev_o, prev_c, prev_h, prev_l = _shift(o, 1), _shift(c, 1), _shift(h, 1), _shift(l, 1)
    prev_body = np.abs(prev_c - prev_o)
    avg_rng_before2 = _prior_mean(rng, RANGE_BARS, shift=2)
    with np.errstate(invalid="ignore"):
        top = ((np.abs(h - prev_h) <= 0.05 * avg_eq) & (prev_c > prev_o) & (c < o)
               & (prev_body > 0.3 * avg_rng_before2))
        bottom = ((np.abs(l - prev_l) <= 0.05 * avg_eq) & (prev_c < prev_o) & (c > o)
                  & (prev_body > 0.3 * avg_rng_before2))
    put("tweezer_top", top & ctx(2, -1), -1, 1.0)
    put("tweezer_bottom", bottom & ctx(2, 1), 1, 1.0)
    put("marubozu", raw["marubozu"] != 0, np.sign(raw["marubozu"]), np.abs(raw["marubozu"]) / 100)
    idx = frame.index
    return Detections(
        hits=pd.DataFrame({p: hits[p] for p in PATTERNS}, index=idx),
        direction=pd.DataFrame({p: dirs[p] for p in PATTERNS}, index=idx),
        strength=pd.DataFrame({p: strength[p] for p in PATTERNS}, index=idx).clip(0, 1),
    )


def detections_table(frame: pd.DataFrame, det: Detections | None = None) -> pd.DataFrame:
    """Long table of rule hits: ``timestamp, pattern, direction (bullish|bearish|neutral),
    strength`` sorted by time."""
    det = det or detect(frame)
    rows = []
    names = {1: "bullish", -1: "bearish", 0: "neutral"}
    stacked = det.hits.stack()
    for (ts, pat), hit in stacked[stacked].items():
        rows.append({"timestamp": ts, "pattern": pat,
                     "direction": names[int(det.direction.at[ts, pat])],
                     "strength": float(det.strength.at[ts, pat])})
    return pd.DataFrame(rows, columns=["timestamp", "pattern", "direction", "strength"])


def agreement_with_talib(frame: pd.DataFrame) -> pd.DataFrame:
    """Per pattern: our hits, TA-Lib hits, both, share of TA-Lib hits we keep, share of ours
    TA-Lib also flags, and Jaccard overlap (bars where either fires).

    Rows for tweezers carry NaN TA-Lib figures (TA-Lib has no tweezer function).
    """
    ours = detect(frame).hits
    ta = talib_hits(frame)
    rows = []
    for p in PATTERNS:
        a = ours[p].to_numpy()
        if p in ta:
            b = ta[p].to_numpy()
            both, either = int((a & b).sum()), int((a | b).sum())
            rows.append({"pattern": p, "ours": int(a.sum()), "talib": int(b.sum()), "both": both,
                         "talib_kept": both / b.sum() if b.sum() else np.nan,
                         "ours_in_talib": both / a.sum() if a.sum() else np.nan,
                         "jaccard": both / either if either else np.nan})
        else:
            rows.append({"pattern": p, "ours": int(a.sum()), "talib": np.nan, "both": np.nan,
                         "talib_kept": np.nan, "ours_in_talib": np.nan, "jaccard": np.nan})
    return pd.DataFrame(rows).set_index("pattern")


def pooled_agreement(symbols=None) -> pd.DataFrame:
    """:func:`agreement_with_talib` summed over bundled ``symbols`` (default all six)."""
    tot = None
    for s in symbols if symbols is not None else BUNDLED_SYMBOLS:
        a = agreement_with_talib(load_ohlcv(s).frame)[["ours", "talib", "both"]]
        tot = a if tot is None else tot + a
    ours_only = tot["ours"] - tot["both"]
    tot["talib_kept"] = tot["both"] / tot["talib"]
    tot["ours_in_talib"] = tot["both"] / tot["ours"].where(tot["ours"] > 0)
    tot["jaccard"] = tot["both"] / (tot["talib"] + ours_only)
    return tot
