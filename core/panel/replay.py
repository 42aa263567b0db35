"""Replay: walk any real history forward one bar at a time, so the live loop (predictions
logged -> bars arrive -> outcomes filled -> accuracy updates) runs offline and in tests.

* :class:`ReplaySource` holds a full history and a cursor; ``.frame`` is only the visible
  history (bars <= cursor), so nothing after the cursor can leak into a prediction or an
  outcome.
* Predictors are plain functions ``(MarketData) -> list[Prediction]``; by default the naive
  baseline (:func:`core.baseline.naive.naive_predictor`) and every panel domain
  (:func:`core.panel.predictors.domain_predictor`), so the replay logs what the panel shows.
* :func:`run_replay` (``quantdesk replay``) advances ``steps`` bars, logging predictions
  and backfilling outcomes at each step, and keeps the cursor in the ``replay_cursors``
  table so successive calls continue where the last one stopped; :func:`replay_tick` is
  the panel's one-bar step on the same cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from core.baseline.naive import naive_predictor
from core.data import MarketData, load_ohlcv
from core.errors import DataSourceError, InsufficientDataError, QuantdeskError
from core.family import Predictor
from core.monitoring.figures import summary_rows
from core.panel.predictors import domain_predictor
from core.predictions import Prediction
from core.store import (
    backfill_outcomes, log_predictions, record_metric, session_scope, to_utc, utcnow,
)
from core.store.tables import ReplayCursor

DEFAULT_START_BARS = 250
#: panel replays start here when no cursor is stored (volatility needs >= 300 bars)
PANEL_START_BARS = max(DEFAULT_START_BARS, 300)
#: what the replay predicts with unless told otherwise
DEFAULT_PREDICTORS: tuple[Predictor, ...] = (naive_predictor, domain_predictor)


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


def predict_all(md: MarketData, predictors: Sequence[Predictor] | None = None
                ) -> tuple[list[Prediction], dict[str, list[str]]]:
    """Run every predictor (in order; default :data:`DEFAULT_PREDICTORS`) on the bars of ``md``.

    Returns:
        ``(predictions, errors)`` where ``errors`` maps a predictor's name to the messages of
        the :class:`QuantdeskError` it raised (a failing predictor never stops the others).
    """
    preds: list[Prediction] = []
    errors: dict[str, list[str]] = {}
    for fn in predictors if predictors is not None else DEFAULT_PREDICTORS:
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
               with_figures: bool = True,
               predictors: Sequence[Predictor] | None = None) -> ReplayResult:
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
        predictors: what predicts each visible bar (default :data:`DEFAULT_PREDICTORS`).

    Raises:
        DataSourceError / DataValidationError: the history cannot be loaded.
        InsufficientDataError: bad ``start_bars`` or ``steps``.
    """
    predictors = tuple(predictors if predictors is not None else DEFAULT_PREDICTORS)
    if steps < 0:
        raise InsufficientDataError("steps must be >= 0.")
    if session is None:
        with session_scope() as s:
            return run_replay(symbol, steps=steps, start_bars=start_bars, interval=interval,
                              frame=frame, session=s, with_figures=with_figures,
                              predictors=predictors)

    symbol = symbol.strip().upper()
    if frame is None:
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

    logged = outcomes = done = 0
    errors: list[str] = []
    calls: dict[str, int] = {}
    failures: dict[str, int] = {}
    for _ in range(steps):
        md = src.market_data(symbol, interval)
        preds, errs = predict_all(md, predictors)
        for fn in predictors:
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


def replay_position(symbol: str, interval: str, *, session) -> int | None:
    """Stored replay cursor (index of the last visible bar) or None."""
    row = session.get(ReplayCursor, cursor_key(symbol, interval))
    return None if row is None else int(row.position)


def replay_tick(symbol: str, frame: pd.DataFrame, *, session, interval: str = "1d",
                steps: int = 1, start_bars: int | None = None) -> MarketData:
    """Advance the stored replay of ``symbol`` by ``steps`` bars and return the visible bars.

    Shares the cursor of ``quantdesk replay`` (``replay_cursors``), so the panel and the
    CLI continue one another. Without a stored cursor it starts at ``start_bars`` (default
    :data:`PANEL_START_BARS`, capped to the history). ``steps=0`` only reads.

    Raises:
        InsufficientDataError: empty history.
    """
    key = cursor_key(symbol, interval)
    row = session.get(ReplayCursor, key)
    if start_bars is not None or row is None or row.position >= len(frame):
        src = ReplaySource(frame, min(start_bars or PANEL_START_BARS, len(frame)))
    else:
        src = ReplaySource(frame, row.position + 1)
    for _ in range(max(0, steps)):
        if not src.step():
            break
    row = row or ReplayCursor(key=key, position=src.position)
    row.position, row.cursor_ts, row.updated_at = src.position, to_utc(src.cursor_ts), utcnow()
    session.add(row)
    session.flush()
    md = src.market_data(symbol, interval)
    if src.done:
        md.notes.append("Replay reached the end of the history.")
    return md
