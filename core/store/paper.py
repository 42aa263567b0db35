"""The paper book in the store: accounts, simulated orders, positions (with the book's bar
clock), marks and followed strategies. The store checks shapes (owner, ticker, side,
quantity, costs); the bookkeeping is :mod:`core.paper.book`. Every action a user or the desk
takes on a book (order, cancel, reset, follow or stop following a strategy) is written to
the audit log with its owner. Nothing here is ever sent to a broker.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from sqlmodel import Session, select

from core.errors import DataValidationError
from core.store.db import to_utc, utcnow
from core.store.ops import audit
from core.store.tables import (
    PENDING,
    REASON_CLICK,
    REASON_SIGNAL,
    REASON_STRATEGY,
    PaperAccount,
    PaperMark,
    PaperOrder,
    PaperPosition,
    PaperStrategy,
    PredictionRow,
)
from core.store.watchlists import TICKER

#: starting cash of a new book [currency]
DEFAULT_CASH = 100_000.0
MAX_CASH = 1e12
MAX_BP = 500.0
REASONS = (REASON_SIGNAL, REASON_CLICK, REASON_STRATEGY)
#: the audit actions of the book (who = the owner; never anything secret in the detail)
A_ORDER, A_CANCEL, A_RESET = "paper.order", "paper.cancel", "paper.reset"
A_FOLLOW, A_UNFOLLOW = "paper.follow_strategy", "paper.unfollow_strategy"


def _symbol(symbol: str) -> str:
    sym = str(symbol or "").strip().upper()
    if not TICKER.match(sym):
        raise DataValidationError(f"{sym[:20]!r} is not a ticker: use letters, digits and "
                                  "^ . - = only, at most 15 characters (e.g. MSFT, ^GSPC).")
    return sym


def _number(name: str, value, lo: float, hi: float, *, open_lo: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DataValidationError(f"{name} must be a number, not {str(value)[:20]!r}.") from None
    if not math.isfinite(v) or v < lo or v > hi or (open_lo and v <= lo):
        raise DataValidationError(f"{name} must be {'above' if open_lo else 'at least'} {lo:g} "
                                  f"and at most {hi:g}, got {v:g}.")
    return v


def get_account(owner: str, *, session: Session) -> PaperAccount | None:
    """``owner``'s paper account, or None when it has none."""
    return session.get(PaperAccount, owner)


def open_account(owner: str, *, session: Session, cash: float = DEFAULT_CASH,
                 commission_bp: float = 1.0, spread_bp: float = 2.0, slippage_bp: float = 1.0,
                 fraction: float = 0.5, allow_short: bool = False) -> PaperAccount:
    """``owner``'s account, created with these settings when it has none (an existing one is
    returned unchanged: use :func:`reset_account` to start over).

    Raises:
        DataValidationError: cash not in (0, 1e12], a cost outside [0, 500] bp, fraction
            not in (0, 1].
    """
    row = session.get(PaperAccount, owner)
    if row is not None:
        return row
    row = PaperAccount(owner=owner, **_settings(cash, commission_bp, spread_bp, slippage_bp,
                                                fraction, allow_short))
    session.add(row)
    session.flush()
    return row


def _settings(cash, commission_bp, spread_bp, slippage_bp, fraction, allow_short) -> dict:
    c = _number("Cash", cash, 0, MAX_CASH, open_lo=True)
    return {"cash": c, "initial_cash": c,
            "commission_bp": _number("Commission [bp]", commission_bp, 0, MAX_BP),
            "spread_bp": _number("Spread [bp]", spread_bp, 0, MAX_BP),
            "slippage_bp": _number("Slippage [bp]", slippage_bp, 0, MAX_BP),
            "fraction": _number("Fraction of equity", fraction, 0, 1, open_lo=True),
            "allow_short": bool(allow_short)}


def reset_account(owner: str, *, session: Session, cash: float = DEFAULT_CASH,
                  commission_bp: float = 1.0, spread_bp: float = 2.0,
                  slippage_bp: float = 1.0, fraction: float = 0.5,
                  allow_short: bool = False) -> PaperAccount:
    """Delete ``owner``'s orders, positions and marks and start the account again with these
    settings (created when missing). Logged predictions are kept."""
    values = _settings(cash, commission_bp, spread_bp, slippage_bp, fraction, allow_short)
    for table in (PaperOrder, PaperPosition, PaperMark, PaperStrategy):
        session.execute(sa.delete(table).where(table.owner == owner))
    row = session.get(PaperAccount, owner) or PaperAccount(owner=owner, cash=values["cash"],
                                                           initial_cash=values["cash"])
    for k, v in values.items():
        setattr(row, k, v)
    row.created_at = row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit(owner, A_RESET, owner, {k: v for k, v in values.items() if k != "initial_cash"},
          session=session)
    return row


def set_cash(owner: str, cash: float, *, session: Session) -> None:
    """Store the account's cash after fills [currency]."""
    row = session.get(PaperAccount, owner)
    if row is None:
        raise DataValidationError(f"No paper account for {owner!r}.")
    row.cash, row.updated_at = float(cash), utcnow()
    session.add(row)
    session.flush()


def add_order(owner: str, symbol: str, side: str, quantity: float, placed_at, *,
              session: Session, interval: str = "1d", reason: str = REASON_CLICK,
              signal: str | None = None, prediction_id: int | None = None) -> PaperOrder:
    """A pending order of ``owner`` placed at bar ``placed_at``.

    Raises:
        DataValidationError: no account, a bad ticker/side/quantity/reason, a missing bar
            time or a ``prediction_id`` that is not a logged prediction.
    """
    if session.get(PaperAccount, owner) is None:
        raise DataValidationError(f"No paper account for {owner!r}; open one first.")
    if side not in ("buy", "sell"):
        raise DataValidationError(f"Side must be buy or sell, not {str(side)[:20]!r}.")
    qty = _number("Quantity", quantity, 0, 1e9, open_lo=True)
    if reason not in REASONS:
        raise DataValidationError(f"Reason must be one of {', '.join(REASONS)}.")
    ts = to_utc(placed_at)
    if ts is None:
        raise DataValidationError("An order needs the bar it was placed on.")
    if prediction_id is not None and session.get(PredictionRow, int(prediction_id)) is None:
        raise DataValidationError(f"No logged prediction #{prediction_id}.")
    row = PaperOrder(owner=owner, symbol=_symbol(symbol), interval=str(interval), side=side,
                     quantity=qty, reason=reason, signal=signal,
                     prediction_id=None if prediction_id is None else int(prediction_id),
                     placed_at=ts, status=PENDING)
    session.add(row)
    session.flush()
    audit(owner, A_ORDER, row.symbol, {"order_id": row.id, "side": side, "quantity": qty,
                                       "reason": reason, "signal": signal,
                                       "prediction_id": row.prediction_id,
                                       "bar": ts.isoformat()}, session=session)
    return row


def list_orders(owner: str, *, session: Session, symbol: str | None = None,
                status: str | None = None, limit: int | None = None) -> list[PaperOrder]:
    """``owner``'s orders, oldest first (``limit``: the newest that many)."""
    q = select(PaperOrder).where(PaperOrder.owner == owner)
    if symbol is not None:
        q = q.where(PaperOrder.symbol == symbol.upper())
    if status is not None:
        q = q.where(PaperOrder.status == status)
    rows = list(session.exec(q.order_by(PaperOrder.id)).all())
    return rows[-limit:] if limit else rows


def update_order(order: PaperOrder, *, session: Session, **values) -> PaperOrder:
    """Set ``values`` (status, fill_price, fill_ts, commission) on a stored order."""
    for k, v in values.items():
        setattr(order, k, to_utc(v) if k == "fill_ts" else v)
    session.add(order)
    session.flush()
    return order


def cancel_order(owner: str, order_id: int, *, session: Session) -> bool:
    """Cancel ``owner``'s pending order ``order_id``; False when there is no such pending
    order."""
    row = session.get(PaperOrder, int(order_id))
    if row is None or row.owner != owner or row.status != PENDING:
        return False
    update_order(row, session=session, status="cancelled")
    audit(owner, A_CANCEL, row.symbol, {"order_id": row.id}, session=session)
    return True


def get_positions(owner: str, *, session: Session) -> list[PaperPosition]:
    """``owner``'s positions (flat ones included: they hold the symbol's bar clock)."""
    return list(session.exec(select(PaperPosition).where(PaperPosition.owner == owner)
                             .order_by(PaperPosition.symbol)).all())


def get_position(owner: str, symbol: str, *, session: Session) -> PaperPosition | None:
    return session.get(PaperPosition, (owner, symbol.upper()))


def save_position(owner: str, symbol: str, *, session: Session, quantity: float,
                  avg_price: float, realised: float, last_price: float, last_ts,
                  interval: str = "1d") -> PaperPosition:
    """Create or replace ``owner``'s position in ``symbol`` (and its clock ``last_ts``)."""
    sym = _symbol(symbol)
    row = session.get(PaperPosition, (owner, sym)) or PaperPosition(
        owner=owner, symbol=sym, last_price=float(last_price), last_ts=to_utc(last_ts))
    row.interval, row.quantity, row.avg_price = str(interval), float(quantity), float(avg_price)
    row.realised, row.last_price = float(realised), float(last_price)
    row.last_ts, row.updated_at = to_utc(last_ts), utcnow()
    session.add(row)
    session.flush()
    return row


def add_marks(owner: str, marks, *, session: Session) -> int:
    """Append marks (objects with ``ts, cash, equity, gross, net, realised, unrealised``)."""
    n = 0
    for m in marks:
        session.add(PaperMark(owner=owner, ts=to_utc(m.ts), cash=float(m.cash),
                              equity=float(m.equity), gross=float(m.gross), net=float(m.net),
                              realised=float(m.realised), unrealised=float(m.unrealised)))
        n += 1
    session.flush()
    return n


def list_marks(owner: str, *, session: Session) -> list[PaperMark]:
    """``owner``'s marks in the order they were written."""
    return list(session.exec(select(PaperMark).where(PaperMark.owner == owner)
                             .order_by(PaperMark.id)).all())


def prediction_id(*, session: Session, model_name: str, model_version: str, symbol: str,
                  interval: str, kind: str, horizon: int, origin_ts) -> int | None:
    """Id of the logged prediction with this key (the predictions table's unique key), or
    None when it was not logged."""
    q = select(PredictionRow.id).where(
        PredictionRow.model_name == model_name, PredictionRow.model_version == model_version,
        PredictionRow.symbol == symbol.upper(), PredictionRow.interval == interval,
        PredictionRow.kind == kind, PredictionRow.horizon == int(horizon),
        PredictionRow.origin_ts == to_utc(origin_ts))
    return session.exec(q).first()


def get_prediction(pred_id: int, *, session: Session) -> PredictionRow | None:
    """The logged prediction ``pred_id`` (None when there is none)."""
    return session.get(PredictionRow, int(pred_id))


def save_strategy(owner: str, symbol: str, name: str, spec: dict, started_ts, *,
                  session: Session, interval: str = "1d") -> PaperStrategy:
    """Make ``owner``'s book follow the strategy ``spec`` (validated fields, as JSON) for
    ``symbol`` from bar ``started_ts``, replacing any strategy it followed there.

    Raises:
        DataValidationError: no account, a bad ticker, an empty name or a missing bar time.
    """
    if session.get(PaperAccount, owner) is None:
        raise DataValidationError(f"No paper account for {owner!r}; open one first.")
    sym = _symbol(symbol)
    name = str(name or "").strip()[:120]
    ts = to_utc(started_ts)
    if not name or ts is None:
        raise DataValidationError("A followed strategy needs a name and the bar it starts at.")
    row = session.get(PaperStrategy, (owner, sym)) or PaperStrategy(
        owner=owner, symbol=sym, name=name, started_ts=ts)
    row.interval, row.name, row.spec, row.started_ts = str(interval), name, dict(spec), ts
    row.created_at = utcnow()
    session.add(row)
    session.flush()
    audit(owner, A_FOLLOW, sym, {"strategy": name, "from_bar": ts.isoformat()},
          session=session)
    return row


def get_strategy(owner: str, symbol: str, *, session: Session) -> PaperStrategy | None:
    """The strategy ``owner``'s book follows for ``symbol`` (None: none)."""
    return session.get(PaperStrategy, (owner, str(symbol).upper()))


def list_strategies(owner: str, *, session: Session) -> list[PaperStrategy]:
    """Every strategy ``owner``'s book follows, by symbol."""
    return list(session.exec(select(PaperStrategy).where(PaperStrategy.owner == owner)
                             .order_by(PaperStrategy.symbol)).all())


def delete_strategy(owner: str, symbol: str, *, session: Session) -> bool:
    """Stop following a strategy for ``symbol`` (positions and orders are kept); False when
    the book followed none there."""
    row = session.get(PaperStrategy, (owner, str(symbol).upper()))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit(owner, A_UNFOLLOW, row.symbol, {"strategy": row.name}, session=session)
    return True
