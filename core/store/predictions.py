"""Prediction logging and outcome backfill.

``log_predictions`` stores :class:`core.predictions.Prediction` records once per
(model_name, model_version, symbol, interval, kind, horizon, origin_ts): a duplicate is
skipped silently, so the panel can log on every refresh. ``backfill_outcomes`` fills each
prediction's realised value once its target bar exists; running it again changes nothing.

Realised values by kind (``horizon`` = h bars; origin bar o, target bar o+h in the symbol's
bars):

* ``log_return``: ``log(close[o+h] / close[o])``.
* ``variance``: ``sum(log(close[i]/close[i-1])**2 for i in o+1..o+h)`` (per-bar variance
  units summed over the horizon, not annualised; Andersen & Bollerslev 1998 realised variance).
* ``probability`` with ``output["event"] == "up"``: 1.0 if the forward log return > 0 else
  0.0 (``"down"``: the reverse).

Domains add others with :func:`register_realiser` (keyed by kind, or by ``output["event"]``
for probabilities).

While the database is unavailable (restarted, unreachable, read-only), a long-running
process logs through :func:`log_or_queue`: what cannot be written is held in a bounded
in-process retry queue (:class:`PredictionQueue`, at most :data:`PENDING_MAX` distinct
predictions) and written with the next call that reaches the store. Predictions that do not
fit are dropped oldest first and *reported* (``LogOutcome.dropped`` and its message, and a
log warning), never silently; a process that exits with a non-empty queue loses it (the
queue is memory only) and says so in its log.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from core.errors import DataValidationError, QuantdeskError
from core.predictions import Prediction
from core.store.db import session_scope, store_error_message, to_utc, utcnow
from core.store.tables import Outcome, PredictionRow

log = logging.getLogger(__name__)

RETURN_KINDS = {"log_return"}
#: The unique key of a logged prediction (``uq_predictions_key``).
PREDICTION_KEY = ("model_name", "model_version", "symbol", "interval", "kind", "horizon",
                  "origin_ts")
#: Rows per INSERT statement (12 bound values a row; SQLite allows 32766 per statement).
INSERT_CHUNK = 500
#: Most distinct predictions :data:`PENDING` holds while the store is unavailable.
PENDING_MAX = 5000


@dataclass(frozen=True)
class RealiseContext:
    """What a realiser sees: the symbol's bars (validated OHLCV, UTC index), the origin and
    target positions in them (``target_pos = origin_pos + horizon``), and the prediction row
    (attribute access as on :class:`PredictionRow`: ``kind, horizon, value, output``...)."""

    frame: pd.DataFrame
    origin_pos: int
    target_pos: int
    prediction: object


Realiser = Callable[[RealiseContext], "float | None"]
_REALISERS: dict[str, Realiser] = {}


def register_realiser(kind_or_event: str, fn: Realiser) -> None:
    """Register how to compute the realised value for a prediction kind (``"log_return"``)
    or a probability event (``output["event"]``, e.g. ``"breakout_up"``).

    ``fn(ctx: RealiseContext) -> float | None``; return None when it cannot be realised
    (the prediction then stays pending). It must only read bars ``<= ctx.target_pos``.
    """
    _REALISERS[kind_or_event] = fn


def _log_return(ctx: RealiseContext) -> float:
    c = ctx.frame["close"].to_numpy()
    return float(np.log(c[ctx.target_pos] / c[ctx.origin_pos]))


def _variance(ctx: RealiseContext) -> float:
    c = ctx.frame["close"].to_numpy()[ctx.origin_pos:ctx.target_pos + 1]
    return float(np.sum(np.diff(np.log(c)) ** 2))


register_realiser("log_return", _log_return)
register_realiser("variance", _variance)
register_realiser("up", lambda ctx: 1.0 if _log_return(ctx) > 0 else 0.0)
register_realiser("down", lambda ctx: 1.0 if _log_return(ctx) < 0 else 0.0)


def _opt_float(x, name: str) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        raise DataValidationError(f"Prediction field {name} is {x}; use None when unknown.")
    return x


def _row(p: Prediction) -> dict:
    value = _opt_float(p.value, "value")
    if value is None:
        raise DataValidationError("Prediction value is None; nothing to log.")
    if int(p.horizon) < 1:
        raise DataValidationError(f"Prediction horizon must be >= 1 bar, got {p.horizon}.")
    origin_ts = to_utc(p.origin_ts)
    if origin_ts is None:
        raise DataValidationError("Prediction origin_ts is missing; nothing to log.")
    return dict(
        model_name=str(p.model_name), model_version=str(p.model_version),
        symbol=str(p.symbol).upper(), interval=str(p.interval), kind=str(p.kind),
        horizon=int(p.horizon), origin_ts=origin_ts, target_ts=to_utc(p.target_ts),
        inputs_hash=p.inputs_hash or "", value=value, lower=_opt_float(p.lower, "lower"),
        upper=_opt_float(p.upper, "upper"), confidence=_opt_float(p.confidence, "confidence"),
        output=dict(p.output or {}), latency_ms=_opt_float(p.latency_ms, "latency_ms"),
    )


def log_predictions(records: Iterable[Prediction], *, session: Session) -> int:
    """Insert predictions; duplicates of an already logged key are skipped silently.

    Args:
        records: :class:`core.predictions.Prediction` objects (any number, any models).
        session: an open session (the caller commits, e.g. via ``session_scope()``).

    Returns:
        Number of rows actually inserted (0 when all were logged before).

    Raises:
        DataValidationError: a record has a non-finite value/bound, no value, horizon < 1 or
            an unreadable or missing origin timestamp (nothing of the batch is inserted then).
    """
    return _insert_rows([_row(p) for p in records], session=session)


def _insert_rows(rows: list[dict], *, session: Session) -> int:
    """Insert validated rows (:func:`_row`), skipping keys already logged; rows inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table = PredictionRow.__table__
    inserted = 0
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert

        # One row per key, in key order: two processes logging overlapping batches then take
        # the unique index's row locks in the same order (PostgreSQL: no deadlock).
        unique = {tuple(r[k] for k in PREDICTION_KEY): r for r in reversed(rows)}
        ordered = [unique[k] for k in sorted(unique)]
        now = utcnow()
        # one statement, rows as parameters (executemany): SQLAlchemy compiles it once per
        # process and sends the rows in multi-row batches ("insertmanyvalues"); rows inlined
        # with .values() made a new statement to compile on every call (~20 ms for a panel)
        stmt = (insert(table).on_conflict_do_nothing(index_elements=list(PREDICTION_KEY))
                .returning(table.c.id))
        for start in range(0, len(ordered), INSERT_CHUNK):
            chunk = [{**r, "created_at": now} for r in ordered[start:start + INSERT_CHUNK]]
            # count RETURNING rows: rowcount is -1 for INSERT .. RETURNING (SQLAlchemy 2.1)
            inserted += len(session.execute(stmt, chunk).all())
    else:  # portable path: savepoint per row
        for r in rows:
            try:
                with session.begin_nested():
                    session.add(PredictionRow(**r))
                inserted += 1
            except sa.exc.IntegrityError:
                pass
    session.flush()
    return inserted


@dataclass
class LogOutcome:
    """What :func:`log_or_queue` did.

    Attributes:
        inserted: rows written now (held ones included; duplicates of logged keys are not).
        flushed: predictions from the retry queue written now.
        queued: predictions held in memory now, waiting for the store.
        dropped: predictions that will not be logged (the queue was full; oldest first).
        message: a plain sentence when the store was unavailable, when held predictions
            were written, or when any were dropped; None otherwise.
    """

    inserted: int = 0
    flushed: int = 0
    queued: int = 0
    dropped: int = 0
    message: str | None = None


def _key(row: dict) -> tuple:
    return tuple(row[k] for k in PREDICTION_KEY)


class PredictionQueue:
    """A bounded in-process retry queue in front of :func:`log_predictions` (see the module
    docstring). Thread-safe; one store transaction per call."""

    def __init__(self, maxlen: int = PENDING_MAX, url: str | None = None):
        self.maxlen = int(maxlen)
        self.url = url
        self.dropped_total = 0
        self._pending: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def log(self, records: Iterable[Prediction] = ()) -> LogOutcome:
        """Write the held predictions and ``records`` in one transaction; when the store
        cannot be written, hold ``records`` too (bounded) and say so.

        Raises:
            DataValidationError: a record is invalid (nothing of ``records`` is held or
                written then; held predictions stay held).
        """
        rows = [_row(p) for p in records]
        with self._lock:
            held = len(self._pending)
            batch = list(self._pending.values()) + rows
            if not batch:
                return LogOutcome()
            try:
                with session_scope(self.url) as s:
                    inserted = _insert_rows(batch, session=s)
            except sa.exc.SQLAlchemyError as err:
                return self._hold(rows, err)
            self._pending.clear()
        out = LogOutcome(inserted=inserted, flushed=held)
        if held:
            out.message = (f"database back: logged the {held} prediction(s) held while it "
                           "was unavailable")
            log.info("Prediction store back: %d held prediction(s) written.", held)
        return out

    def flush(self) -> LogOutcome:
        """Write the held predictions now (:meth:`log` with nothing new)."""
        return self.log(())

    def _hold(self, rows: list[dict], err: Exception) -> LogOutcome:
        for r in rows:
            self._pending.setdefault(_key(r), r)
        dropped = 0
        while len(self._pending) > self.maxlen:
            self._pending.popitem(last=False)
            dropped += 1
        self.dropped_total += dropped
        reason = store_error_message(err).split(". Check")[0]
        msg = (f"database unavailable, retrying: {len(self._pending)} prediction(s) held in "
               f"memory are logged when it is back ({reason})")
        if dropped:
            msg += (f"; {dropped} prediction(s) were NOT logged (more than {self.maxlen} "
                    "waiting)")
            log.warning("Prediction store unavailable: %d prediction(s) not logged (queue "
                        "full at %d).", dropped, self.maxlen)
        else:
            log.warning("Prediction store unavailable (%s); %d prediction(s) held for retry.",
                        type(err).__name__, len(self._pending))
        return LogOutcome(queued=len(self._pending), dropped=dropped, message=msg)


#: The process-wide retry queue of :func:`log_or_queue`.
PENDING = PredictionQueue()


def log_or_queue(records: Iterable[Prediction], *, queue: PredictionQueue | None = None
                 ) -> LogOutcome:
    """Log ``records`` in a transaction of their own (default store), first writing what
    :data:`PENDING` holds; while the store is unavailable, hold them for the next call
    (bounded, drops reported). Never raises for a store fault (see :class:`LogOutcome`).

    Raises:
        DataValidationError: a record is invalid (as :func:`log_predictions`).
    """
    return (PENDING if queue is None else queue).log(records)


@atexit.register
def _report_unlogged() -> None:
    """A process exiting with held predictions loses them: say so in its log."""
    n = len(PENDING)
    if n:
        log.warning("%d prediction(s) held while the store was unavailable were not logged "
                    "(the process is exiting).", n)


def _bars_frame(loaded) -> pd.DataFrame:
    return loaded.frame if hasattr(loaded, "frame") else loaded


class _Positions:
    """Bar time -> position in ``frame.index`` (the last one when a time repeats), ``None``
    when absent. Uses pandas' hash table of the index: a dict of every bar built one Timestamp
    per bar, ~7 ms per symbol on every Overview refresh (issue 15)."""

    def __init__(self, index: pd.Index):
        self._index = index

    def get(self, ts) -> int | None:
        try:
            pos = self._index.get_loc(ts)
        except (KeyError, TypeError):  # absent, or tz-aware against a naive index
            return None
        if isinstance(pos, slice):  # a repeated time on a sorted index
            return pos.stop - 1
        if isinstance(pos, np.ndarray):  # a repeated time on an unsorted index
            return int(np.flatnonzero(pos)[-1])
        return int(pos)


def _positions(frame: pd.DataFrame) -> _Positions:
    return _Positions(frame.index)


def _realise_at(pred, frame: pd.DataFrame, positions: dict):
    origin = pd.Timestamp(pred.origin_ts)
    origin = origin.tz_localize("UTC") if origin.tzinfo is None else origin.tz_convert("UTC")
    pos = positions.get(origin)
    if pos is None:
        return None
    target_pos = pos + int(pred.horizon)
    if target_pos >= len(frame):
        return None
    key = (pred.output or {}).get("event") if pred.kind == "probability" else pred.kind
    fn = _REALISERS.get(key) if key is not None else None
    if fn is None:
        return None
    value = fn(RealiseContext(frame, int(pos), int(target_pos), pred))
    if value is None or not math.isfinite(value):
        return None
    return float(value), frame.index[target_pos]


def realise(pred, frame: pd.DataFrame) -> tuple[float, pd.Timestamp] | None:
    """The realised value and target bar time for ``pred`` in ``frame``, or None when the
    target bar is not there yet, the origin bar is unknown, or no realiser fits the kind."""
    if frame is None or frame.empty:
        return None
    return _realise_at(pred, frame, _positions(frame))


def score(pred: PredictionRow, realized: float) -> dict:
    """error, hit and covered for a prediction against its realised value (see Outcome)."""
    hit = None
    if pred.kind in RETURN_KINDS or (pred.output or {}).get("directional"):
        if pred.value != 0:
            hit = bool(np.sign(pred.value) == np.sign(realized))
    elif pred.kind == "probability":
        hit = bool((pred.value >= 0.5) == (realized >= 0.5))
    covered = None
    if pred.lower is not None and pred.upper is not None:
        covered = bool(pred.lower <= realized <= pred.upper)
    return {"error": float(pred.value - realized), "hit": hit, "covered": covered}


def pending_predictions(*, session: Session) -> list[PredictionRow]:
    """Predictions that have no outcome yet (oldest origin first)."""
    stmt = (select(PredictionRow).outerjoin(Outcome, Outcome.prediction_id == PredictionRow.id)
            .where(Outcome.id.is_(None)).order_by(PredictionRow.origin_ts, PredictionRow.id))
    return list(session.exec(stmt).all())


def backfill_outcomes(
    *, session: Session, load_bars: Callable,
) -> int:
    """Write the outcome of every pending prediction whose target bar now exists.

    Args:
        session: open session (the caller commits).
        load_bars: ``(symbol, interval) -> MarketData | DataFrame`` returning the bars known
            now. The store knows no market data: the caller passes its loader (the CLI
            ``core.data.load_ohlcv``; the replay its visible history, so no outcome is read
            from bars after the replay cursor). A loader that raises ``QuantdeskError``
            leaves that symbol's predictions pending.

    Returns:
        Number of outcomes written. Predictions whose bars cannot be loaded (unknown symbol,
        source down) or whose target bar is not there yet stay pending. Idempotent: only
        predictions without an outcome are considered and ``outcomes.prediction_id`` is unique.
    """
    P, O = PredictionRow.__table__, Outcome.__table__
    stmt = (sa.select(P).outerjoin(O, O.c.prediction_id == P.c.id).where(O.c.id.is_(None))
            .order_by(P.c.origin_ts, P.c.id))
    pending = session.execute(stmt).all()
    groups: dict[tuple[str, str], list] = {}
    for p in pending:
        groups.setdefault((p.symbol, p.interval), []).append(p)
    outcomes, targets = [], []
    now = utcnow()
    for (symbol, interval), preds in groups.items():
        try:
            frame = _bars_frame(load_bars(symbol, interval))
        except QuantdeskError:
            continue
        if frame is None or frame.empty:
            continue
        positions = _positions(frame)
        for p in preds:
            got = _realise_at(p, frame, positions)
            if got is None:
                continue
            realized, ts = got
            ts = ts.to_pydatetime()
            if p.target_ts is None:
                targets.append({"pid": p.id, "tts": ts})
            outcomes.append({"prediction_id": p.id, "realized": realized, "realized_ts": ts,
                             "created_at": now, **score(p, realized)})
    if outcomes:
        session.execute(sa.insert(Outcome), outcomes)
    if targets:
        session.execute(sa.update(P).where(P.c.id == sa.bindparam("pid"))
                        .values(target_ts=sa.bindparam("tts")), targets)
        session.expire_all()  # ORM copies of those predictions now have a stale target_ts
    return len(outcomes)
