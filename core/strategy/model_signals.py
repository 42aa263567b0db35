"""Model-output signals: events in {-1, 0, +1} from **out-of-sample** model predictions only.

The committed model artifacts were fitted on (almost) the whole bundled history, so their
predictions over that history are in-sample and would flatter any backtest. A model signal
is therefore computed from an expanding walk-forward instead
(:func:`core.forecasting.evaluate.walk_forward_predictions`): the forecaster is refitted every
``step`` bars on the rows before each test block, minus an embargo of ``horizon`` rows, so a
training target is realised before the block starts, and it predicts only bars it never saw.
The prediction at bar t uses bars <= t only (features at t; training targets that end
before the block's first bar).

``forecast``
    +1 on the bar where the predicted ``horizon``-bar log return crosses above
    ``+threshold`` (``p[t] > threshold >= p[t-1]``), -1 where it crosses below
    ``-threshold`` (``p[t] < -threshold <= p[t-1]``), else 0. An event, like the rule signals
    of :mod:`core.strategy.rules`: the first bar the condition becomes true. ``p`` is the
    forecaster's shipped point forecast, column ``ensemble`` (the member average times the
    validated shrinkage ``shrink_``); ``raw = 1`` reads ``ensemble_raw`` (the member average
    without the shrinkage; still out of sample).

    ``threshold`` is in **log-return units over ``horizon`` bars** (0.002 = 0.2%). Note the
    shrinkage: at horizons above 1 the forecaster never ships more than its floor of 1e-4
    (:mod:`core.forecasting.model`), so ``ensemble`` is about 1e-4 x the member average and,
    on the bundled MSFT history, ``|ensemble|`` stays below 1e-5 at ``horizon = 5``: any
    positive threshold then never fires. ``threshold = 0`` (a sign change) gives the same
    events on either column, because ``shrink_ > 0``; use ``raw = 1`` for a threshold on the
    member average's scale.

Bars with no out-of-sample prediction give 0: the indicator warm-up (about 200 bars on
daily data, until every feature is defined) plus the first training window
(``initial_train`` rows), and a whole history shorter than warm-up + ``initial_train`` +
``horizon`` + 20 bars (where the walk-forward fits no fold). The first predicted bar never
fires either (a cross needs the previous bar's prediction).

Cost and cache: one walk-forward pass refits the three-member ensemble three times per fold
(two inner-validation fits and the final one); on the bundled MSFT daily history (3,270
bars, 10 folds at the defaults) it takes about 15 s of CPU (17-22 s wall on a shared
2-core machine). The predictions are kept in a small in-process LRU cache
(:data:`CACHE_SIZE` entries) keyed by the frame's content (index and every numeric column,
compared exactly), ``horizon``, ``step``, ``initial_train`` and the model keyword arguments,
so the backtester and the tuners, which compute the same signal with other thresholds or on
leading slices of the same history, pay for one pass. A leading slice
``frame.iloc[:m]`` of a cached frame is served from its predictions: a walk-forward on the
slice would refit the same folds on the same rows (the models are seeded, single-threaded)
and give the same predictions for its bars, because the prediction at t uses bars <= t only.
The threshold is applied after the cache. ``tests/strategy/test_model_signals.py`` checks
that altering bars after t changes no signal at or before t, and that a slice served from the
cache equals a fresh walk-forward on the slice.

No walk-forward predictor exists for a single symbol's breakout probability:
:func:`core.patterns.breakout_model.walk_forward` pools every bundled symbol's events and
scores only events whose outcome is already known, so whether a bar has a probability would
depend on later bars. It is not offered as a signal.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.forecasting.evaluate import INITIAL_TRAIN, STEP, walk_forward_predictions

#: defaults of the ``forecast`` signal (what a strategy file may set under ``[signals.forecast]``)
FORECAST_DEFAULTS = {"horizon": 5, "threshold": 0.0, "raw": 0, "step": STEP,
                     "initial_train": INITIAL_TRAIN}
#: most walk-forward prediction sets kept in memory (each holds a copy of its frame's numbers)
CACHE_SIZE = 8
#: the forecaster needs this many training rows (:meth:`HorizonForecaster.fit`)
MIN_TRAIN_ROWS = 200
MAX_HORIZON = 250


@dataclass(frozen=True)
class _Entry:
    index: np.ndarray      # (n,) int64 bar times [ns] (or hashes of a non-datetime index)
    values: np.ndarray     # (n, k) float64, the frame's numeric columns
    ensemble: np.ndarray   # (n,) shipped point forecast [log return over horizon], NaN = none
    raw: np.ndarray        # (n,) member average without shrinkage, NaN = none
    first: int | None      # position of the first predicted bar; None: no fold fitted


_cache: list[tuple[tuple, _Entry]] = []  # most recently used first
_lock = threading.Lock()
_stats = {"passes": 0, "hits": 0}


def clear_cache() -> None:
    """Forget every cached walk-forward (tests use it to force a fresh computation)."""
    with _lock:
        _cache.clear()
        _stats.update(passes=0, hits=0)


def cache_stats() -> dict:
    """``{"passes": walk-forward passes run, "hits": requests served from the cache,
    "entries": prediction sets held}`` since the last :func:`clear_cache`."""
    with _lock:
        return {**_stats, "entries": len(_cache)}


def _content(frame: pd.DataFrame) -> tuple[tuple, np.ndarray, np.ndarray]:
    num = frame.select_dtypes("number")
    if isinstance(frame.index, pd.DatetimeIndex):
        idx = np.asarray(frame.index.asi8, dtype="int64")
    else:
        idx = pd.util.hash_pandas_object(frame.index, index=False).to_numpy().view("int64")
    return tuple(num.columns), idx, num.to_numpy(dtype="float64", copy=True)


def _serve(e: _Entry, n: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The entry's predictions for its first ``n`` bars, as a walk-forward on those bars
    alone would give them (none when they are too few for one fold)."""
    if e.first is None or n < e.first + horizon + 20:  # walk_forward_design's length rule
        nan = np.full(n, np.nan)
        return nan, nan.copy()
    return e.ensemble[:n].copy(), e.raw[:n].copy()


def _compute(frame: pd.DataFrame, idx: np.ndarray, vals: np.ndarray, horizon: int, step: int,
             initial_train: int, model_kwargs: dict) -> _Entry:
    n = len(frame)
    ens, raw = np.full(n, np.nan), np.full(n, np.nan)
    first = None
    try:
        pred = walk_forward_predictions(frame, horizon, step=step, initial_train=initial_train,
                                        **model_kwargs)
    except InsufficientDataError:
        pred = None
    if pred is not None and len(pred):
        pos = frame.index.get_indexer(pred.index)
        if (pos < 0).any():  # the predictions are indexed by the frame's own bars
            raise RuntimeError("walk-forward predictions not on the frame's bars")
        ens[pos] = pred["ensemble"].to_numpy(dtype="float64")
        raw[pos] = pred["ensemble_raw"].to_numpy(dtype="float64")
        first = int(pos.min())
    return _Entry(idx, vals, ens, raw, first)


def oos_forecasts(frame: pd.DataFrame, horizon: int = 5, *, step: int = STEP,
                  initial_train: int = INITIAL_TRAIN, **model_kwargs) -> pd.DataFrame:
    """Out-of-sample walk-forward forecasts on every bar of ``frame``, cached (module doc).

    Args:
        frame: OHLCV frame, time-ordered, unique index (n bars).
        horizon: forecast horizon [bars]. step: refit period / test-block length [bars].
        initial_train: rows (after the indicator warm-up) before the first test block.
        model_kwargs: passed to :class:`core.forecasting.model.HorizonForecaster` (e.g.
            ``params`` with smaller members in tests); part of the cache key (by ``repr``).
    Returns:
        DataFrame on ``frame.index`` with float64 columns ``ensemble`` (shipped point forecast)
        and ``ensemble_raw`` (member average before shrinkage), both the predicted log return
        over ``horizon`` bars from each bar's close; NaN where no out-of-sample prediction
        exists (warm-up, first training window, or a history too short for one fold).
    Raises:
        ValueError: horizon/step/initial_train out of range (:func:`check_forecast_params`).
    Source: :func:`core.forecasting.evaluate.walk_forward_predictions`.
    """
    check_forecast_params({**FORECAST_DEFAULTS, "horizon": horizon, "step": step,
                           "initial_train": initial_train})
    cols, idx, vals = _content(frame)
    key = (int(horizon), int(step), int(initial_train), cols, repr(sorted(model_kwargs.items())))
    n = len(idx)
    hit = None
    with _lock:
        for i, (k, e) in enumerate(_cache):
            if k == key and len(e.index) >= n and np.array_equal(e.index[:n], idx) \
                    and np.array_equal(e.values[:n], vals, equal_nan=True):
                hit = e
                _cache.insert(0, _cache.pop(i))  # most recently used first
                _stats["hits"] += 1
                break
    if hit is None:
        hit = _compute(frame, idx, vals, int(horizon), int(step), int(initial_train),
                       model_kwargs)
        with _lock:
            _stats["passes"] += 1
            _cache.insert(0, (key, hit))
            del _cache[CACHE_SIZE:]  # drop the least recently used
    ens, raw = _serve(hit, n, int(horizon))
    return pd.DataFrame({"ensemble": ens, "ensemble_raw": raw}, index=frame.index)


def _whole(name: str, v, lo: int, hi: int) -> int:
    if not isinstance(v, (int, float)) or not math.isfinite(v) or float(v) != int(v) \
            or not lo <= int(v) <= hi:
        raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {v}")
    return int(v)


def check_forecast_params(params: dict) -> None:
    """Check a full ``forecast`` parameter set (defaults merged in).

    Rules: ``horizon`` whole, 1..250 [bars]; ``threshold`` finite, >= 0 [log return over
    ``horizon`` bars]; ``raw`` 0 or 1; ``step`` whole >= 1 [bars]; ``initial_train`` whole,
    at least ``horizon`` + 200 [rows] (the forecaster fits on >= 200 rows after the embargo).
    Raises: ValueError naming the parameter.
    """
    h = _whole("horizon", params["horizon"], 1, MAX_HORIZON)
    thr = params["threshold"]
    if not isinstance(thr, (int, float)) or not math.isfinite(thr) or thr < 0:
        raise ValueError(f"threshold must be a finite log return >= 0 (it is applied as "
                         f"+threshold and -threshold), got {thr}")
    if params["raw"] not in (0, 1):
        raise ValueError(f"raw must be 0 (the shipped, shrunk forecast) or 1 (the member "
                         f"average), got {params['raw']}")
    _whole("step", params["step"], 1, 100_000)
    _whole("initial_train", params["initial_train"], h + MIN_TRAIN_ROWS, 1_000_000)


def forecast_signal(frame: pd.DataFrame, horizon: int = 5, threshold: float = 0.0,
                    raw: int = 0, step: int = STEP, initial_train: int = INITIAL_TRAIN,
                    **model_kwargs) -> pd.Series:
    """+1 where the out-of-sample forecast of the ``horizon``-bar log return crosses above
    ``+threshold``, -1 where it crosses below ``-threshold`` (module doc).

    Args:
        frame: OHLCV frame (n bars). horizon [bars]. threshold [log return over ``horizon``
            bars, >= 0]. raw: 0 reads the shipped ``ensemble``, 1 ``ensemble_raw``.
        step, initial_train: the walk-forward's refit period and first training window
            [bars]. model_kwargs: see :func:`oos_forecasts`.
    Returns:
        int8 Series named ``forecast`` on ``frame.index``, in {-1, 0, +1}; 0 wherever no
        out-of-sample prediction exists (and on the first predicted bar).
    Raises:
        ValueError: a parameter out of range (:func:`check_forecast_params`).
    """
    check_forecast_params({"horizon": horizon, "threshold": threshold, "raw": raw,
                           "step": step, "initial_train": initial_train})
    pred = oos_forecasts(frame, horizon, step=step, initial_train=initial_train, **model_kwargs)
    p = pred["ensemble_raw" if raw else "ensemble"].to_numpy()
    thr = float(threshold)
    out = np.zeros(len(p), dtype="int8")
    if len(p) > 1:
        with np.errstate(invalid="ignore"):  # NaN (no prediction) compares False
            up = (p[1:] > thr) & (p[:-1] <= thr)
            down = (p[1:] < -thr) & (p[:-1] >= -thr)
        out[1:] = np.where(up, 1, np.where(down, -1, 0))
    return pd.Series(out, index=frame.index, name="forecast")
