"""Chart indicators: overlays (on the price axis) and sub-panels, one tidy frame each.

Every function takes a validated OHLCV frame (:mod:`core.data.validate`: lowercase
``open high low close volume``, sorted UTC ``timestamp`` index) and returns a float64
DataFrame on the same index, NaN during the warm-up. The arithmetic is TA-Lib's (ta-lib-python
0.6+; Wilder's smoothing for RSI and ATR, TA-Lib's EMA seeded with the SMA of the first
``period`` values), except VWAP and the volume profile, which TA-Lib lacks and which are
written out below. Each value at bar t uses bars <= t only (tests alter later bars).

==============  =========  ====================================  ==========================
indicator       placement  columns                               unit
==============  =========  ====================================  ==========================
sma             overlay    ``sma_<n>``                           price
ema             overlay    ``ema_<n>``                           price
bollinger       overlay    ``bb_upper bb_mid bb_lower``,          price; %B fraction
                           ``bb_pctb``
vwap            overlay    ``vwap``                              price
rsi             panel      ``rsi_<n>``                           0-100
macd            panel      ``macd macd_signal macd_hist``        price
stochastic      panel      ``stoch_k stoch_d``                   0-100
atr             panel      ``atr_<n>``                           price
obv             panel      ``obv``                               volume units (shares)
==============  =========  ====================================  ==========================

The volume profile is not a per-bar series: :func:`volume_profile` returns one row per price
bin over the bars it is given.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError

OVERLAYS = ("sma", "ema", "bollinger", "vwap")
PANELS = ("rsi", "macd", "stochastic", "atr", "obv")


def _ta():
    import talib  # deferred: talib is slow to import (the CLI loads this module at start)

    return talib


def _f64(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        raise DataValidationError(f"The bars have no '{col}' column; load them with "
                                  "core.data.load_ohlcv or validate them with validate_ohlcv.")
    return np.ascontiguousarray(frame[col].to_numpy(dtype="float64"))


def _period(n: int, what: str = "period") -> int:
    if int(n) != n or n < 1:
        raise ValueError(f"{what} must be a whole number of bars >= 1, got {n}")
    return int(n)


def _out(frame: pd.DataFrame, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(cols, index=frame.index, dtype="float64")


def sma(frame: pd.DataFrame, period: int = 20) -> pd.DataFrame:
    """Simple moving average of the close, ``talib.SMA``.

    Returns: column ``sma_<period>`` [price]; NaN for the first ``period - 1`` bars.
    Raises: ValueError for a period < 1; DataValidationError without a close column.
    """
    p = _period(period)
    return _out(frame, {f"sma_{p}": _ta().SMA(_f64(frame, "close"), p)})


def ema(frame: pd.DataFrame, period: int = 20) -> pd.DataFrame:
    """Exponential moving average of the close, ``talib.EMA`` (alpha ``2/(period+1)``,
    seeded with the SMA of the first ``period`` closes).

    Returns: column ``ema_<period>`` [price]; NaN for the first ``period - 1`` bars.
    Raises: ValueError for a period < 1.
    """
    p = _period(period)
    return _out(frame, {f"ema_{p}": _ta().EMA(_f64(frame, "close"), p)})


def bollinger(frame: pd.DataFrame, period: int = 20, k: float = 2.0) -> pd.DataFrame:
    """Bollinger bands (Bollinger 2001): ``mid = SMA(close, period)``, ``mid +- k * sd``
    with the population standard deviation of the last ``period`` closes, ``talib.BBANDS``.

    Returns: columns ``bb_upper bb_mid bb_lower`` [price] and ``bb_pctb`` =
    ``(close - lower) / (upper - lower)`` [fraction; 0 at the lower band, 1 at the upper].
    Raises: ValueError for a period < 2 or k <= 0.
    """
    p = _period(period)
    if p < 2 or not k > 0:
        raise ValueError("Bollinger bands need period >= 2 bars and k > 0 standard deviations")
    c = _f64(frame, "close")
    up, mid, lo = _ta().BBANDS(c, p, float(k), float(k), 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pctb = np.where(up > lo, (c - lo) / (up - lo), 0.5)
    pctb[~np.isfinite(up)] = np.nan
    return _out(frame, {"bb_upper": up, "bb_mid": mid, "bb_lower": lo, "bb_pctb": pctb})


def rsi(frame: pd.DataFrame, period: int = 14) -> pd.DataFrame:
    """Relative strength index (Wilder 1978), ``talib.RSI``.

    Returns: column ``rsi_<period>`` in [0, 100]; NaN for the first ``period`` bars.
    Raises: ValueError for a period < 2.
    """
    p = _period(period)
    if p < 2:
        raise ValueError("RSI needs period >= 2 bars")
    return _out(frame, {f"rsi_{p}": _ta().RSI(_f64(frame, "close"), p)})


def macd(frame: pd.DataFrame, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD (Appel 1979): ``macd = EMA(fast) - EMA(slow)`` of the close, ``macd_signal =
    EMA(signal)`` of ``macd``, ``macd_hist = macd - macd_signal``; ``talib.MACD``.

    Returns: columns ``macd macd_signal macd_hist`` [price]; NaN for the first
    ``slow + signal - 2`` bars.
    Raises: ValueError unless 1 <= fast < slow and signal >= 1.
    """
    f, s, g = _period(fast, "fast"), _period(slow, "slow"), _period(signal, "signal")
    if f >= s:
        raise ValueError(f"MACD needs fast < slow, got fast={f}, slow={s}")
    m, sig, hist = _ta().MACD(_f64(frame, "close"), f, s, g)
    return _out(frame, {"macd": m, "macd_signal": sig, "macd_hist": hist})


def stochastic(frame: pd.DataFrame, k_period: int = 14, smooth_k: int = 3,
               d_period: int = 3) -> pd.DataFrame:
    """Slow stochastic oscillator (Lane), ``talib.STOCH`` with SMA smoothing:
    ``fast_k = 100 (close - min(low, k)) / (max(high, k) - min(low, k))``, ``stoch_k =
    SMA(fast_k, smooth_k)``, ``stoch_d = SMA(stoch_k, d_period)``.

    Returns: columns ``stoch_k stoch_d`` in [0, 100].
    Raises: ValueError for a period < 1.
    """
    k, sk, d = _period(k_period, "k_period"), _period(smooth_k, "smooth_k"), \
        _period(d_period, "d_period")
    sk_, sd_ = _ta().STOCH(_f64(frame, "high"), _f64(frame, "low"), _f64(frame, "close"),
                           k, sk, 0, d, 0)
    return _out(frame, {"stoch_k": sk_, "stoch_d": sd_})


def atr(frame: pd.DataFrame, period: int = 14) -> pd.DataFrame:
    """Average true range (Wilder 1978), ``talib.ATR``: Wilder-smoothed
    ``max(high, prev close) - min(low, prev close)``.

    Returns: column ``atr_<period>`` [price]; NaN for the first ``period`` bars.
    Raises: ValueError for a period < 1.
    """
    p = _period(period)
    return _out(frame, {f"atr_{p}": _ta().ATR(_f64(frame, "high"), _f64(frame, "low"),
                                              _f64(frame, "close"), p)})


def obv(frame: pd.DataFrame) -> pd.DataFrame:
    """On-balance volume (Granville 1963), ``talib.OBV``: the running sum of volume signed
    by the direction of the close-to-close change (TA-Lib starts at the first bar's volume).

    Returns: column ``obv`` [volume units, e.g. shares].
    """
    return _out(frame, {"obv": _ta().OBV(_f64(frame, "close"), _f64(frame, "volume"))})


def vwap(frame: pd.DataFrame, tz: str = "America/New_York") -> pd.DataFrame:
    """Session-anchored volume-weighted average price (TA-Lib has none):

    ``vwap[t] = sum_{s in session(t), s <= t} tp[s] * volume[s] / sum_{same s} volume[s]``,
    ``tp = (high + low + close) / 3`` (the typical price), where a session is a calendar day
    in ``tz`` (the exchange's time zone). Meant for intraday bars; on daily bars each bar is
    its own session and VWAP equals the typical price. Where a session has had no volume
    yet, VWAP is the typical price of the bar.

    Returns: column ``vwap`` [price].
    """
    h, lo, c, v = (_f64(frame, k) for k in ("high", "low", "close", "volume"))
    tp = (h + lo + c) / 3.0
    idx = frame.index
    day = (idx.tz_convert(tz) if getattr(idx, "tz", None) is not None else idx).normalize()
    key = pd.Series(np.asarray(day), index=idx)
    pv = pd.Series(tp * v, index=idx).groupby(key.values).cumsum().to_numpy()
    cv = pd.Series(v, index=idx).groupby(key.values).cumsum().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(cv > 0, pv / cv, tp)
    return _out(frame, {"vwap": out})


def volume_profile(frame: pd.DataFrame, bins: int = 24) -> pd.DataFrame:
    """Volume traded at each price level over the given bars (the "volume profile").

    Each bar's volume is spread uniformly over its high-low range and added to the price bins
    that range overlaps (a bar with high == low puts all its volume in its bin). Bins are
    ``bins`` equal slices of ``[min(low), max(high)]``. Pass ``frame.loc[:t]`` for the
    profile as known at bar t.

    Returns:
        DataFrame with ``bins`` rows: ``price_lo price_hi price_mid`` [price], ``volume``
        [volume units; sums to the bars' total volume], ``share`` [fraction of that total],
        ``poc`` (bool, True on the point of control: the bin with the most volume).
    Raises:
        ValueError: bins < 1. DataValidationError: no bars.
    """
    b = _period(bins, "bins")
    if frame.empty:
        raise DataValidationError("A volume profile needs at least one bar.")
    h, lo, v = _f64(frame, "high"), _f64(frame, "low"), _f64(frame, "volume")
    pmin, pmax = float(np.nanmin(lo)), float(np.nanmax(h))
    if pmax <= pmin:
        pmax = pmin + max(abs(pmin), 1.0) * 1e-9
    edges = np.linspace(pmin, pmax, b + 1)
    # overlap of [low, high] with each bin, as a share of the bar's range
    width = np.maximum(h - lo, 0.0)
    ov = np.clip(np.minimum(h[:, None], edges[None, 1:]) - np.maximum(lo[:, None], edges[None, :-1]),
                 0.0, None)
    share = np.divide(ov, width[:, None], out=np.zeros_like(ov), where=width[:, None] > 0)
    point = width <= 0
    if point.any():  # zero-range bars: all volume in the bin holding the price
        j = np.clip(np.searchsorted(edges, h[point], side="right") - 1, 0, b - 1)
        share[np.flatnonzero(point), j] = 1.0
    vol = np.nansum(share * v[:, None], axis=0)
    total = vol.sum()
    out = pd.DataFrame({"price_lo": edges[:-1], "price_hi": edges[1:],
                        "price_mid": (edges[:-1] + edges[1:]) / 2, "volume": vol,
                        "share": vol / total if total > 0 else np.zeros(b)})
    out["poc"] = False
    out.loc[int(np.argmax(vol)), "poc"] = True
    return out


#: name -> per-bar indicator function (the volume profile is separate: one row per price bin)
INDICATORS: dict[str, Callable[..., pd.DataFrame]] = {
    "sma": sma, "ema": ema, "bollinger": bollinger, "vwap": vwap, "rsi": rsi, "macd": macd,
    "stochastic": stochastic, "atr": atr, "obv": obv,
}


def compute(frame: pd.DataFrame, name: str, **params) -> pd.DataFrame:
    """Dispatch to the indicator ``name`` (a key of :data:`INDICATORS`) with ``params``.

    Raises: ValueError naming the known indicators for an unknown name, or a bad parameter.
    """
    fn = INDICATORS.get(name)
    if fn is None:
        raise ValueError(f"unknown indicator '{name}'; known: {', '.join(INDICATORS)}")
    try:
        return fn(frame, **params)
    except TypeError as err:
        raise ValueError(f"bad parameters for indicator '{name}': {err}") from None
