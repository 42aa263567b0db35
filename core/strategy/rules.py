"""Rule signals: per-bar events in {-1, 0, +1} from bars <= t, and their measured edge.

A signal fires on the bar its condition *becomes* true (an event, not a state), so that each
occurrence is counted once and a strategy acts on it once. With the indicators of
:mod:`core.strategy.indicators`:

===================  ======================================  ===============================
signal               +1 (long) on the bar where               -1 (short) on the bar where
===================  ======================================  ===============================
``rsi``              RSI falls below ``lower`` (oversold)     RSI rises above ``upper``
                     (default 30)                             (overbought, default 70)
``macd``             MACD crosses above its signal line       MACD crosses below it
``bollinger``        the low touches the lower band           the high touches the upper band
                     (first bar of a touch)                   (first bar of a touch)
``ma_cross``         SMA(fast) crosses above SMA(slow)        ... crosses below
                     (golden cross; default 50/200)           (death cross)
``ma_cross_20_50``   the same with fast=20, slow=50
``pattern:<name>``   a bullish candlestick pattern of         a bearish one; neutral hits
                     :mod:`core.patterns.rules`               (doji) give 0
``forecast``         the out-of-sample walk-forward forecast  ... crosses below -threshold
                     of the ``horizon``-bar log return
                     crosses above +threshold
===================  ======================================  ===============================

``forecast`` is a *model* signal (:data:`MODEL_SIGNALS`, :mod:`core.strategy.model_signals`):
computed from walk-forward predictions on bars the model never trained on, 0 before the first
one, and costly (one walk-forward pass, cached). It sits beside the rule table
:data:`SIGNALS`, not in it, so what iterates over the rules (the default edge table, the
chart's signal marks, the count of rules for the multiple-testing caution) stays cheap;
:func:`compute_signal`, :func:`known_signal`, :func:`signal_names`, :func:`param_signal`
and :func:`signal_edge_table` (by name) take both.

RSI 70/30 and Bollinger touches are read as mean reversion (buy oversold), MACD and moving
average crosses as trend following, as traders usually read them (Wilder 1978; Appel 1979;
Bollinger 2001). A cross at t compares values at t and t-1 only; nothing looks ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.evaluation.event_edge import MIN_CASES, N_BOOT, event_edge
from core.patterns.rules import PATTERNS, detect
from core.strategy import indicators as ind
from core.strategy.model_signals import FORECAST_DEFAULTS, check_forecast_params, forecast_signal
from core.targets import forward_log_return

HORIZONS = (1, 5, 20)
PATTERN_PREFIX = "pattern:"


def _cross_up(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a crosses above b at t: a[t] > b[t] and a[t-1] <= b[t-1] (False where NaN)."""
    out = np.zeros(len(a), dtype=bool)
    if len(a) > 1:
        with np.errstate(invalid="ignore"):
            out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out


def _events(frame: pd.DataFrame, up: np.ndarray, down: np.ndarray, name: str) -> pd.Series:
    sig = np.where(up & ~down, 1, np.where(down & ~up, -1, 0)).astype("int8")
    return pd.Series(sig, index=frame.index, name=name)


def rsi_signal(frame: pd.DataFrame, period: int = 14, lower: float = 30.0,
               upper: float = 70.0) -> pd.Series:
    """+1 where RSI(period) falls below ``lower``, -1 where it rises above ``upper``.

    Returns: int8 Series named ``rsi`` on ``frame.index``.
    Raises: ValueError unless 0 < lower < upper < 100.
    """
    if not 0 < lower < upper < 100:
        raise ValueError(f"RSI thresholds need 0 < lower < upper < 100, got {lower}/{upper}")
    r = ind.rsi(frame, period).iloc[:, 0].to_numpy()
    lo, hi = np.full(len(r), float(lower)), np.full(len(r), float(upper))
    return _events(frame, _cross_up(lo, r), _cross_up(r, hi), "rsi")


def macd_signal(frame: pd.DataFrame, fast: int = 12, slow: int = 26, signal: int = 9
                ) -> pd.Series:
    """+1 where MACD crosses above its signal line, -1 where it crosses below.

    Returns: int8 Series named ``macd``. Raises: ValueError for bad periods.
    """
    m = ind.macd(frame, fast, slow, signal)
    a, b = m["macd"].to_numpy(), m["macd_signal"].to_numpy()
    return _events(frame, _cross_up(a, b), _cross_up(b, a), "macd")


def bollinger_signal(frame: pd.DataFrame, period: int = 20, k: float = 2.0) -> pd.Series:
    """+1 on the first bar whose low touches the lower band (``low <= bb_lower``), -1 on the
    first bar whose high touches the upper band; bands from closes <= t.

    Returns: int8 Series named ``bollinger``. Raises: ValueError for bad parameters.
    """
    bb = ind.bollinger(frame, period, k)
    with np.errstate(invalid="ignore"):
        lo_touch = frame["low"].to_numpy(dtype="float64") <= bb["bb_lower"].to_numpy()
        hi_touch = frame["high"].to_numpy(dtype="float64") >= bb["bb_upper"].to_numpy()
    first_lo = lo_touch & ~np.concatenate([[False], lo_touch[:-1]])
    first_hi = hi_touch & ~np.concatenate([[False], hi_touch[:-1]])
    return _events(frame, first_lo, first_hi, "bollinger")


def ma_cross_signal(frame: pd.DataFrame, fast: int = 50, slow: int = 200) -> pd.Series:
    """+1 where SMA(fast) of the close crosses above SMA(slow), -1 where it crosses below.

    Returns: int8 Series named ``ma_cross``. Raises: ValueError unless 1 <= fast < slow.
    """
    if not 1 <= fast < slow:
        raise ValueError(f"a moving-average cross needs 1 <= fast < slow, got {fast}/{slow}")
    a = ind.sma(frame, fast).iloc[:, 0].to_numpy()
    b = ind.sma(frame, slow).iloc[:, 0].to_numpy()
    return _events(frame, _cross_up(a, b), _cross_up(b, a), "ma_cross")


def pattern_signal(frame: pd.DataFrame, pattern: str) -> pd.Series:
    """+1 / -1 on bars where the candlestick ``pattern`` (:data:`core.patterns.rules.PATTERNS`)
    fires bullish / bearish (with its trend context); neutral hits (doji) give 0.

    Raises: ValueError for an unknown pattern.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern '{pattern}'; known: {', '.join(PATTERNS)}")
    d = detect(frame).direction[pattern].to_numpy()
    return pd.Series(np.sign(d).astype("int8"), index=frame.index, name=PATTERN_PREFIX + pattern)


@dataclass(frozen=True)
class SignalDef:
    """A named rule: its function and default parameters (what a strategy file may set);
    ``check`` (optional) raises ValueError for a bad full parameter set (defaults merged)."""

    fn: Callable[..., pd.Series]
    defaults: dict = field(default_factory=dict)
    label: str = ""
    check: Callable[[dict], None] | None = None


SIGNALS: dict[str, SignalDef] = {
    "rsi": SignalDef(rsi_signal, {"period": 14, "lower": 30.0, "upper": 70.0},
                     "RSI 70/30"),
    "macd": SignalDef(macd_signal, {"fast": 12, "slow": 26, "signal": 9},
                      "MACD signal-line cross"),
    "bollinger": SignalDef(bollinger_signal, {"period": 20, "k": 2.0},
                           "Bollinger band touch"),
    "ma_cross": SignalDef(ma_cross_signal, {"fast": 50, "slow": 200},
                          "SMA 50/200 cross"),
    "ma_cross_20_50": SignalDef(ma_cross_signal, {"fast": 20, "slow": 50},
                                "SMA 20/50 cross"),
}


#: signals computed from out-of-sample model predictions (module doc); not in :data:`SIGNALS`
MODEL_SIGNALS: dict[str, SignalDef] = {
    "forecast": SignalDef(forecast_signal, dict(FORECAST_DEFAULTS),
                          "Forecast crosses ±threshold (out of sample)", check_forecast_params),
}


def param_signal(name: str) -> SignalDef | None:
    """The :class:`SignalDef` of a rule or model signal (those with parameters); None for a
    pattern or an unknown name."""
    return SIGNALS.get(name) or MODEL_SIGNALS.get(name)


def known_signal(name: str) -> bool:
    """True for a key of :data:`SIGNALS` or :data:`MODEL_SIGNALS`, or ``pattern:<one of
    PATTERNS>``."""
    if name.startswith(PATTERN_PREFIX):
        return name[len(PATTERN_PREFIX):] in PATTERNS
    return name in SIGNALS or name in MODEL_SIGNALS


def signal_names() -> list[str]:
    """Every signal a strategy may name (rules, model signals, then ``pattern:<name>``)."""
    return list(SIGNALS) + list(MODEL_SIGNALS) + [PATTERN_PREFIX + p for p in PATTERNS]


def compute_signal(frame: pd.DataFrame, name: str, params: dict | None = None) -> pd.Series:
    """The signal ``name`` with its defaults overridden by ``params``.

    Returns: int8 Series in {-1, 0, +1} named ``name`` on ``frame.index``.
    Raises: ValueError for an unknown signal or parameter (the message lists the known ones).
    """
    params = dict(params or {})
    if name.startswith(PATTERN_PREFIX):
        if params:
            raise ValueError(f"signal '{name}' takes no parameters")
        if not known_signal(name):
            raise ValueError(f"unknown signal '{name}'; known: {', '.join(signal_names())}")
        return pattern_signal(frame, name[len(PATTERN_PREFIX):]).rename(name)
    sd = param_signal(name)
    if sd is None:
        raise ValueError(f"unknown signal '{name}'; known: {', '.join(signal_names())}")
    bad = sorted(set(params) - set(sd.defaults))
    if bad:
        raise ValueError(f"signal '{name}' has no parameter {', '.join(bad)}; it takes "
                         f"{', '.join(sd.defaults)}")
    kw = {**sd.defaults, **params}
    for k, v in kw.items():  # whole-number parameters (periods) arrive as floats from files
        if isinstance(sd.defaults[k], int):
            if float(v) != int(v):
                raise ValueError(f"signal '{name}': {k} must be a whole number of bars, got {v}")
            kw[k] = int(v)
    if sd.check is not None:
        try:
            sd.check(kw)
        except ValueError as err:
            raise ValueError(f"signal '{name}': {err}") from None
    return sd.fn(frame, **kw).rename(name)


def signal_edge_table(frame: pd.DataFrame, signals=None, *, params: dict | None = None,
                      horizons=HORIZONS, n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """One row per signal: occurrences and forward return in the signal's direction against
    the unconditional base, with bootstrap CIs and a verdict
    (:func:`core.evaluation.event_edge.event_edge`, the statistics of the pattern edge table).

    Args:
        frame: validated OHLCV frame. signals: names (default: every key of :data:`SIGNALS`;
            name ``forecast`` explicitly for the model signal, which costs a walk-forward).
        params: ``{signal: {param: value}}`` overrides. horizons: forward bars (default
            1/5/20). n_boot: bootstrap resamples. seed: RNG seed (reproducible).
    Returns:
        DataFrame indexed by ``signal`` with ``label, occurrences, long, short`` and per h
        ``ret_h ret_lo_h ret_hi_h base_ret_h`` [log return, fraction], ``hit_h hit_lo_h
        hit_hi_h base_hit_h`` [fraction], ``edge_h`` (bool), then ``verdict`` ("too few
        cases" / "no measurable edge" where every CI straddles its base / "better|worse than
        base at h bars (...)").
    Raises:
        ValueError: unknown signal or parameter.
    """
    names = list(signals) if signals is not None else list(SIGNALS)
    params = params or {}
    rng = np.random.default_rng(seed)
    fwd = {h: forward_log_return(frame["close"], h).to_numpy() for h in horizons}
    rows = []
    for name in names:
        s = compute_signal(frame, name, params.get(name)).to_numpy().astype(float)
        mask = s != 0
        stats, verdict = event_edge(mask, s, fwd, rng, n_boot=n_boot, min_cases=MIN_CASES)
        sd = param_signal(name)
        label = sd.label if sd is not None else name
        rows.append({"signal": name, "label": label, "occurrences": int(mask.sum()),
                     "long": int((s > 0).sum()), "short": int((s < 0).sum()), **stats,
                     "verdict": verdict})
    return pd.DataFrame(rows).set_index("signal")
