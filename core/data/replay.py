"""Replay: walk any real history forward one bar at a time, so the live loop (predictions
logged -> bars arrive -> outcomes filled -> accuracy updates) runs offline and in tests.

* :class:`ReplaySource` holds a full history and a cursor; ``.frame`` is only the visible
  history (bars <= cursor), so nothing after the cursor can leak into a prediction or an
  outcome.
* Predictors are plain functions ``(MarketData) -> list[Prediction]`` registered with
  :func:`register_predictor`; the built-in :func:`naive_predictor` (zero-return forecast,
  the naive baseline every model is compared with) is always first.
* :func:`run_replay` (``quantdesk replay``) advances ``steps`` bars, logging predictions
  and backfilling outcomes at each step, and keeps the cursor in the ``replay_cursors``
  table so successive calls continue where the last one stopped.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from core.data import MarketData
from core.errors import DataSourceError, InsufficientDataError, QuantdeskError
from core.predictions import Prediction, hash_inputs

Predictor = Callable[[MarketData], "list[Prediction]"]

NAIVE_HORIZONS = (1, 5)
NAIVE_STD_WINDOW = 20  # bars of 1-bar log returns behind the naive interval
Z80 = 1.2815515655446004  # standard normal 0.90 quantile: two-sided 80% interval
DEFAULT_START_BARS = 250


class ReplaySource:
    """A history revealed one bar per :meth:`step`.

    Args:
        frame: validated OHLCV frame (UTC ``timestamp`` index), the whole history.
        start: bars visible at the start (int >= 1), or a timestamp: the last visible bar is
            the last one <= it.

    Attributes:
        position: index (0-based) of the last visible bar in the full history.

    Raises:
        InsufficientDataError: empty frame or ``start`` outside the history.
    """

    def __init__(self, frame: pd.DataFrame, start: int | str | pd.Timestamp = DEFAULT_START_BARS):
        if frame is None or frame.empty:
            raise InsufficientDataError("Replay needs a non-empty history.")
        self._full = frame
        if isinstance(start, (int, np.integer)):
            if not 1 <= int(start) <= len(frame):
                raise InsufficientDataError(
                    f"Replay start must be between 1 and {len(frame)} bars, got {start}.")
            self.position = int(start) - 1
        else:
            ts = pd.Timestamp(start)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            pos = int(frame.index.searchsorted(ts, side="right")) - 1
            if pos < 0:
                raise InsufficientDataError(f"Replay start {ts} is before the first bar "
                                            f"{frame.index[0]}.")
            self.position = pos

    @property
    def frame(self) -> pd.DataFrame:
        """Visible history: bars 0..position (a view; do not modify)."""
        return self._full.iloc[: self.position + 1]

    @property
    def cursor_ts(self) -> pd.Timestamp:
        """Time of the last visible bar."""
        return self._full.index[self.position]

    @property
    def done(self) -> bool:
        """True when every bar is visible."""
        return self.position >= len(self._full) - 1

    def step(self) -> bool:
        """Reveal the next bar; False (and no change) at the end of the history."""
        if self.done:
            return False
        self.position += 1
        return True

    def market_data(self, symbol: str, interval: str = "1d") -> MarketData:
        """The visible history as :class:`MarketData` (source ``replay``)."""
        f = self.frame
        return MarketData(f, symbol.upper(), interval, "replay", f.index[-1],
                          notes=[f"Replay: {len(f)} of {len(self._full)} bars visible."])


# ---------------------------------------------------------------- predictors

_PREDICTORS: list[Predictor] = []


def register_predictor(fn: Predictor) -> Predictor:
    """Add a predictor ``(MarketData) -> list[Prediction]`` used by the replay (and the live
    panel). Idempotent; usable as a decorator. Each must only use ``md.frame`` (bars <= now)."""
    if fn not in _PREDICTORS:
        _PREDICTORS.append(fn)
    return fn


def unregister_predictor(fn: Predictor) -> None:
    """Remove a predictor added with :func:`register_predictor` (tests)."""
    if fn in _PREDICTORS:
        _PREDICTORS.remove(fn)


def predictors() -> list[Predictor]:
    """The naive baseline followed by every registered predictor."""
    return [naive_predictor, *_PREDICTORS]


def naive_predictor(md: MarketData, horizons: tuple[int, ...] = NAIVE_HORIZONS,
                    window: int = NAIVE_STD_WINDOW) -> list[Prediction]:
    """Zero-return forecast (random walk) with an 80% normal interval.

    For each horizon h: ``value = 0`` (log return over h bars), ``lower/upper = -/+ z * s *
    sqrt(h)`` with ``s`` the sample std of the last ``window`` 1-bar log returns and ``z`` the
    N(0,1) 0.90 quantile (random-walk interval, Hyndman & Athanasopoulos, *Forecasting:
    Principles and Practice*, 3rd ed., section 5.5). model_name/version ``naive``.
    Returns [] with fewer than ``window + 1`` bars.
    """
    f = md.frame
    if len(f) < window + 1:
        return []
    t0 = time.perf_counter()
    tail = f["close"].iloc[-(window + 1):]
    s = float(np.std(np.diff(np.log(tail.to_numpy())), ddof=1))
    digest = hash_inputs(f.iloc[-(window + 1):])
    origin = f.index[-1]
    latency = (time.perf_counter() - t0) * 1000.0
    out = []
    for h in horizons:
        half = Z80 * s * math.sqrt(h)
        out.append(Prediction(
            model_name="naive", model_version="naive", symbol=md.symbol, interval=md.interval,
            kind="log_return", horizon=int(h), origin_ts=origin, value=0.0, lower=-half,
            upper=half, confidence=None, latency_ms=latency, inputs_hash=digest,
            output={"method": "zero-return random walk", "std_window": window}))
    return out


def predict_all(md: MarketData) -> tuple[list[Prediction], dict[str, list[str]]]:
    """Run every predictor (naive first) on the bars of ``md``.

    Returns:
        ``(predictions, errors)`` where ``errors`` maps a predictor's name to the messages of
        the :class:`QuantdeskError` it raised (a failing predictor never stops the others).
    """
    preds: list[Prediction] = []
    errors: dict[str, list[str]] = {}
    for fn in predictors():
        name = getattr(fn, "__name__", repr(fn))
        try:
            preds.extend(fn(md))
        except QuantdeskError as err:
            errors.setdefault(name, []).append(str(err))
    return preds, errors


# ---------------------------------------------------------------- replay loop

@dataclass
class ReplayResult:
    """What one ``run_replay`` call did (JSON-friendly via :meth:`to_dict`)."""

    symbol: str
    interval: str
    steps_done: int
    position: int
    bars_total: int
    cursor_ts: pd.Timestamp
    logged: int
    outcomes: int
    errors: list[str]
    at_end: bool
    figures: list[dict]

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["cursor_ts"] = self.cursor_ts.isoformat()
        return d


def cursor_key(symbol: str, interval: str) -> str:
    return f"{symbol.upper()}|{interval}"


def run_replay(symbol: str, *, steps: int, start_bars: int | None = None, interval: str = "1d",
               frame: pd.DataFrame | None = None, session=None,
               with_figures: bool = True) -> ReplayResult:
    """Advance the replay of ``symbol`` by ``steps`` bars.

    Each step: every predictor sees the visible bars and its predictions are logged; then the
    next bar is revealed and outcomes are backfilled from the visible bars only.

    Args:
        steps: bars to advance (>= 0).
        start_bars: restart with this many visible bars (default: continue from the cursor
            stored in the database, or start at 250 bars, capped to the history).
        frame: history to replay (default ``core.data.load_ohlcv(symbol, interval)``).
        session: store session (default: a new ``session_scope()``).
        with_figures: add the monitoring summary of ``symbol`` to the result (costs a query
            over all its predictions; the live panel turns it off).

    Raises:
        DataSourceError / DataValidationError: the history cannot be loaded.
        InsufficientDataError: bad ``start_bars`` or ``steps``.
    """
    from core.store.db import session_scope

    if steps < 0:
        raise InsufficientDataError("steps must be >= 0.")
    if session is None:
        with session_scope() as s:
            return run_replay(symbol, steps=steps, start_bars=start_bars, interval=interval,
                              frame=frame, session=s, with_figures=with_figures)
    from core.monitoring.figures import summary_rows
    from core.store import backfill_outcomes, log_predictions
    from core.store.db import to_utc, utcnow
    from core.store.tables import ReplayCursor

    symbol = symbol.strip().upper()
    if frame is None:
        from core.data import load_ohlcv

        frame = load_ohlcv(symbol, interval).frame
    key = cursor_key(symbol, interval)
    saved = session.get(ReplayCursor, key)
    if start_bars is not None:
        src = ReplaySource(frame, int(start_bars))
    elif saved is not None and saved.position < len(frame):
        src = ReplaySource(frame, saved.position + 1)
    else:
        src = ReplaySource(frame, min(DEFAULT_START_BARS, len(frame)))

    def visible(sym: str, iv: str):
        if sym.upper() == symbol and iv == interval:
            return src.frame
        raise DataSourceError("not part of this replay")

    from core.store.ops import record_metric

    logged = outcomes = done = 0
    errors: list[str] = []
    calls: dict[str, int] = {}
    failures: dict[str, int] = {}
    for _ in range(steps):
        md = src.market_data(symbol, interval)
        preds, errs = predict_all(md)
        for fn in predictors():
            name = getattr(fn, "__name__", repr(fn))
            calls[name] = calls.get(name, 0) + 1
        for name, msgs in errs.items():
            failures[name] = failures.get(name, 0) + len(msgs)
            errors.extend(f"{name}: {m}" for m in msgs)
        try:
            logged += log_predictions(preds, session=session)
        except QuantdeskError as err:
            errors.append(f"log: {err}")
        if not src.step():
            break
        done += 1
        outcomes += backfill_outcomes(session=session, load_bars=visible)
    for name, n in calls.items():  # counters for the monitoring error rate
        record_metric("requests", n, session=session, detail={"predictor": name, "source": "replay"})
        if failures.get(name):
            record_metric("errors", failures[name], session=session,
                          detail={"predictor": name, "source": "replay"})
    row = saved or ReplayCursor(key=key, position=src.position)
    row.position, row.cursor_ts, row.updated_at = src.position, to_utc(src.cursor_ts), utcnow()
    session.add(row)
    session.flush()
    return ReplayResult(symbol, interval, done, src.position, len(frame), src.cursor_ts, logged,
                        outcomes, errors, src.done,
                        summary_rows(session=session, symbol=symbol) if with_figures else [])
