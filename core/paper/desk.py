"""The paper book on a stored account: place orders, advance the book's bar clock (live or
replayed offline), report its state, and follow the desk's fused signal. Simulated only:
nothing is ever sent to a broker.

**The clock.** Each (account, symbol) has the time of the last bar the book has seen
(``paper_positions.last_ts``). An order is placed at that bar, so it fills at the open of the
next bar that arrives (:mod:`core.paper.book`). The clock starts the first time the account
touches a symbol. On live data it starts at the latest bar, and new bars are marked as they
arrive (:func:`advance` with ``steps=None`` catches up). On the bundled history (the offline
demo) it starts :data:`REPLAY_BARS` bars before the end, and :func:`advance` with ``steps=1``
replays one bar at a time. Whatever the source, the desk's signal sees the bars up to the
clock only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from core.data import MarketData
from core.errors import DataValidationError, InsufficientDataError
from core.panel.predictors import loggable
from core.panel.signals import (
    BREAKOUT_EVENTS,
    FORECAST_FAMILIES,
    PATTERN_FAMILIES,
    WEIGHTS,
    Signal,
    forecast_score,
)
from core.panel.symbol import SymbolPanel, symbol_panel
from core.paper import book as bk
from core.predictions import Prediction
from core.store import log_predictions
from core.store import paper as store
from core.store.tables import FILLED, PENDING, REASON_CLICK, REASON_SIGNAL, PaperAccount
from core.strategy.spec import Costs

#: the replay clock starts this many bars before the end of the bundled history
REPLAY_BARS = 250
#: the owner of the command line's book (like the screener's saved screens)
CLI_OWNER = "cli"
SIMULATED = "Simulated only: no order is ever sent to a broker."
LONG_ACTIONS, SHORT_ACTIONS = ("BUY", "STRONG_BUY"), ("SELL", "STRONG_SELL")


def is_replay(md: MarketData) -> bool:
    """True when ``md`` is the bundled history (the offline demo): the book replays it."""
    return md.source == "bundled"


def costs_of(acct: PaperAccount) -> Costs:
    """The account's costs in the strategy tester's convention."""
    return Costs(commission_bp=acct.commission_bp, spread_bp=acct.spread_bp,
                 slippage_bp=acct.slippage_bp)


def book_of(acct: PaperAccount, *, session) -> bk.Book:
    """The stored account as a pure :class:`core.paper.book.Book`."""
    pos = {p.symbol: bk.Position(p.quantity, p.avg_price, p.realised, p.last_price)
           for p in store.get_positions(acct.owner, session=session)}
    return bk.Book(acct.cash, acct.initial_cash, pos)


def _account(owner: str, session) -> PaperAccount:
    return store.open_account(owner, session=session)


def _frame(md: MarketData) -> pd.DataFrame:
    if md.frame is None or md.frame.empty:
        raise InsufficientDataError(f"{md.symbol}: no bars to trade on paper.")
    return md.frame


def start_clock(owner: str, md: MarketData, *, session):
    """The (account, symbol) clock, started when missing: at the last bar of live data, or
    :data:`REPLAY_BARS` bars before the end of the bundled history; a first mark is written
    there. Returns the stored position row."""
    acct = _account(owner, session)
    sym = md.symbol.upper()
    pos = store.get_position(owner, sym, session=session)
    if pos is not None:
        return pos
    f = _frame(md)
    i = max(0, len(f) - 1 - REPLAY_BARS) if is_replay(md) else len(f) - 1
    ts, close = f.index[i], float(f["close"].iloc[i])
    pos = store.save_position(owner, sym, session=session, quantity=0.0, avg_price=0.0,
                              realised=0.0, last_price=close, last_ts=ts, interval=md.interval)
    store.add_marks(owner, [bk.mark_of(book_of(acct, session=session), ts)], session=session)
    return pos


def visible(md: MarketData, ts) -> MarketData:
    """``md`` cut to the bars at or before ``ts`` (what the book has seen)."""
    f = md.frame.loc[: pd.Timestamp(ts)]
    return MarketData(f, md.symbol, md.interval, md.source, f.index[-1] if len(f) else md.as_of,
                      notes=list(md.notes))


def pending_net(owner: str, symbol: str, session) -> float:
    """Net units of ``owner``'s pending orders in ``symbol`` (buys +, sells -)."""
    return sum(o.quantity if o.side == bk.BUY else -o.quantity
               for o in store.list_orders(owner, symbol=symbol, status=PENDING, session=session))


def buy_rate(acct: PaperAccount) -> float:
    """Cost of buying one currency unit at the open: 1 + (half spread + slippage +
    commission) [fraction]."""
    return 1 + (costs_of(acct).fill_bp + acct.commission_bp) / 1e4


def free_cash(owner: str, acct: PaperAccount, *, session) -> float:
    """Cash not yet promised to pending buys (each estimated at its symbol's last close with
    costs) [currency]."""
    rate = buy_rate(acct)
    return acct.cash - sum(
        o.quantity * rate * store.get_position(owner, o.symbol, session=session).last_price
        for o in store.list_orders(owner, status=PENDING, session=session) if o.side == bk.BUY)


def place_order(owner: str, md: MarketData, side: str, quantity, *, session,
                reason: str = REASON_CLICK, signal: str | None = None,
                prediction_id: int | None = None):
    """A pending ``side`` order for ``quantity`` units of ``md.symbol`` at the book's current
    bar (it fills at the next bar's open). Returns the stored order.

    Raises:
        DataValidationError: bad side/quantity; a sell beyond the position (with pending
            orders) when the account does not short; a buy costing more than the cash left
            after pending buys (estimated at the last close with costs).
    """
    q = bk.check_order(side, quantity)
    acct = _account(owner, session)
    pos = start_clock(owner, md, session=session)
    sym = md.symbol.upper()
    held = pos.quantity + pending_net(owner, sym, session)
    if side == bk.SELL and not acct.allow_short and q > held + 1e-9:
        raise DataValidationError(
            f"This book does not go short: you hold {held:g} {sym} (pending orders included); "
            f"sell at most that many, or reset the book with shorting allowed.")
    if side == bk.BUY:
        cost = q * pos.last_price * buy_rate(acct)
        free = free_cash(owner, acct, session=session)
        if cost > free + 1e-6 and not (held < 0 and q <= -held + 1e-9):
            raise DataValidationError(
                f"Not enough cash: {q:g} {sym} cost about {cost:,.2f} with costs at the last "
                f"close {pos.last_price:,.2f}; {max(free, 0):,.2f} is free.")
    return store.add_order(owner, sym, side, q, pos.last_ts, session=session,
                           interval=md.interval, reason=reason, signal=signal,
                           prediction_id=prediction_id)


@dataclass
class Advance:
    """What one :func:`advance` did: ``bars`` new bars seen, ``fills`` and ``marks`` (one per
    bar), the clock after it (``last_ts``) and whether the data have no later bar (``at_end``)."""

    symbol: str
    bars: int
    fills: list[bk.Fill]
    marks: list[bk.Mark]
    last_ts: pd.Timestamp
    at_end: bool


def advance(owner: str, md: MarketData, *, session, steps: int | None = None) -> Advance:
    """Show the book the bars of ``md`` after its clock (``steps``: at most that many; None:
    every one), one at a time: pending orders fill at the first new bar's open, the book is
    marked at every close, and fills, position, cash and marks are stored.

    Raises:
        InsufficientDataError: ``steps`` < 0 or no bars.
    """
    if steps is not None and steps < 0:
        raise InsufficientDataError("Replay steps must be >= 0.")
    acct = _account(owner, session)
    pos = start_clock(owner, md, session=session)
    sym, f = md.symbol.upper(), _frame(md)
    new = f[f.index > pd.Timestamp(pos.last_ts)]
    if steps is not None:
        new = new.iloc[:steps]
    rows = store.list_orders(owner, symbol=sym, status=PENDING, session=session)
    orders = [bk.Order(o.symbol, o.side, o.quantity, pd.Timestamp(o.placed_at), o.id)
              for o in rows]
    book, fills, marks = bk.replay(book_of(acct, session=session), sym, new, orders,
                                   costs_of(acct))
    by_id = {o.id: o for o in rows}
    for fl in fills:
        store.update_order(by_id[fl.order_id], session=session, status=FILLED,
                           fill_price=fl.price, fill_ts=fl.ts, commission=fl.commission)
    if len(new):
        p = book.position(sym)
        store.save_position(owner, sym, session=session, quantity=p.quantity,
                            avg_price=p.avg_price, realised=p.realised,
                            last_price=float(p.last_price), last_ts=new.index[-1],
                            interval=md.interval)
        store.set_cash(owner, book.cash, session=session)
        store.add_marks(owner, marks, session=session)
    last = new.index[-1] if len(new) else pd.Timestamp(pos.last_ts)
    return Advance(sym, len(new), fills, marks, last, bool(last >= f.index[-1]))


def status(owner: str, *, session) -> dict:
    """The book as plain data [currency unless named]: cash, equity, realised / unrealised /
    total P&L, drawdown now and its worst (fractions <= 0), gross / net exposure (currency and
    share of equity), positions, open orders, costs, the strategies it follows (symbol,
    strategy name, side, sizing policy, first bar) and ``simulated: true``."""
    acct = _account(owner, session)
    b = book_of(acct, session=session)
    marks = bk.marks_frame(store.list_marks(owner, session=session))
    eq = b.equity
    positions = []
    for p in store.get_positions(owner, session=session):
        bp = b.position(p.symbol)
        positions.append({
            "symbol": p.symbol, "interval": p.interval, "quantity": p.quantity,
            "avg_price": p.avg_price if p.quantity else None, "last_price": p.last_price,
            "last_bar": p.last_ts.isoformat(), "market_value": bp.value,
            "unrealised_pnl": bp.unrealised, "realised_pnl": p.realised})
    orders = [order_dict(o) for o in store.list_orders(owner, status=PENDING, session=session)]
    return {
        "owner": owner, "simulated": True, "note": SIMULATED,
        "cash": b.cash, "initial_cash": b.initial_cash, "equity": eq,
        "realised_pnl": b.realised, "unrealised_pnl": b.unrealised,
        "total_pnl": eq - b.initial_cash,
        "drawdown": float(marks["drawdown"].iloc[-1]) if len(marks) else 0.0,
        "max_drawdown": float(marks["drawdown"].min()) if len(marks) else 0.0,
        "gross_exposure": b.gross, "net_exposure": b.net,
        "exposure": b.gross / eq if eq > 0 else None,
        "costs": {"commission_bp": acct.commission_bp, "spread_bp": acct.spread_bp,
                  "slippage_bp": acct.slippage_bp},
        "fraction": acct.fraction, "allow_short": acct.allow_short,
        "positions": positions, "open_orders": orders,
        "strategies": [{"symbol": r.symbol, "interval": r.interval, "strategy": r.name,
                        "side": (r.spec or {}).get("side"),
                        "sizing": ((r.spec or {}).get("sizing") or {}).get("policy", "fixed"),
                        "from_bar": r.started_ts.isoformat()}
                       for r in store.list_strategies(owner, session=session)],
    }


def order_dict(o) -> dict:
    """A stored order as plain data (times ISO, UTC)."""
    return {"id": o.id, "symbol": o.symbol, "side": o.side, "quantity": o.quantity,
            "reason": o.reason, "signal": o.signal, "prediction_id": o.prediction_id,
            "placed_at": o.placed_at.isoformat(), "status": o.status,
            "fill_price": o.fill_price,
            "fill_ts": o.fill_ts.isoformat() if o.fill_ts is not None else None,
            "commission": o.commission}


# ---- the desk's signal ---------------------------------------------------------------

def _direction(action: str) -> int:
    return 1 if action in LONG_ACTIONS else -1 if action in SHORT_ACTIONS else 0


def causing_prediction(predictions: Iterable[Prediction], signal: Signal) -> Prediction | None:
    """The loggable prediction that did most to cause ``signal``: of the components that
    push the signal's way, the one with the largest ``weight x |score|``; within it, the
    prediction with the strongest score that way (a forecast's horizon, the strongest
    pattern or breakout, the sentiment). None for HOLD or when none is loggable."""
    want = _direction(signal.action)
    if want == 0:
        return None
    preds = loggable(list(predictions))
    ranked = sorted(signal.components.items(), key=lambda kv: -WEIGHTS.get(kv[0], 0) * abs(kv[1]))
    for name, score in ranked:
        if score * want <= 0:
            continue
        if name == "forecast":
            cands = [(want * forecast_score(p), p) for p in preds
                     if p.model_name in FORECAST_FAMILIES and p.kind == "log_return"
                     and (p.output or {}).get("skill") is not False]
        elif name == "pattern":
            cands = [(p.value, p) for p in preds if p.model_name in PATTERN_FAMILIES]
        elif name == "breakout":
            cands = [(want * BREAKOUT_EVENTS[(p.output or {})["event"]] * (2 * p.value - 1), p)
                     for p in preds if p.kind == "probability"
                     and (p.output or {}).get("event") in BREAKOUT_EVENTS]
        elif name == "sentiment":
            cands = [(0.0, p) for p in preds if p.model_name.startswith("sentiment")][:1]
        else:
            cands = []
        if cands:
            return max(cands, key=lambda c: c[0])[1]
    return None


@dataclass
class Decision:
    """What following the signal did for one symbol: the fused ``action`` with its reasons,
    the bar it saw, the target and current quantity [units], the order placed (None: none
    needed) and the prediction it links to."""

    symbol: str
    action: str
    bar_ts: pd.Timestamp
    target: float
    current: float
    order: object | None
    prediction_id: int | None
    reasons: list[str] = field(default_factory=list)
    message: str = ""


PanelFn = Callable[[MarketData], SymbolPanel]


def follow_signal(owner: str, md: MarketData, *, session,
                  panel_fn: PanelFn = symbol_panel) -> Decision:
    """Follow the desk's fused signal for ``md.symbol`` at the book's current bar.

    The panel (:func:`core.panel.symbol.symbol_panel`) sees the bars up to the clock only.
    Its loggable predictions are logged (the store skips duplicates). BUY/STRONG_BUY -> long
    ``floor(fraction x equity / close)`` units; SELL/STRONG_SELL -> short that many when the
    account shorts, else flat; HOLD -> keep. The order (target minus position minus pending
    orders) links to :func:`causing_prediction`'s logged row.
    """
    acct = _account(owner, session)
    pos = start_clock(owner, md, session=session)
    seen = visible(md, pos.last_ts)
    panel = panel_fn(seen)
    sig = panel.signal
    logged = loggable(panel.predictions)
    if logged:
        log_predictions(logged, session=session)
    cause = causing_prediction(panel.predictions, sig)
    pred_id = None
    if cause is not None:
        pred_id = store.prediction_id(
            session=session, model_name=cause.model_name, model_version=cause.model_version,
            symbol=cause.symbol, interval=cause.interval, kind=cause.kind,
            horizon=cause.horizon, origin_ts=cause.origin_ts)
    current = pos.quantity + pending_net(owner, pos.symbol, session)
    equity = book_of(acct, session=session).equity
    target = bk.signal_target(sig.action, equity=equity, price=pos.last_price,
                              fraction=acct.fraction, allow_short=acct.allow_short,
                              current=current)
    delta = target - current
    order = None
    if abs(delta) > 1e-9 and math.isfinite(delta):
        order = place_order(owner, md, bk.BUY if delta > 0 else bk.SELL, abs(delta),
                            session=session, reason=REASON_SIGNAL, signal=sig.action,
                            prediction_id=pred_id)
        msg = (f"{sig.action}: {order.side} {order.quantity:g} {pos.symbol}, filled at the "
               "next bar's open.")
    elif sig.action == "HOLD":
        msg = "HOLD: the position is kept; no order."
    else:
        msg = f"{sig.action}: already at the target of {target:g} units; no order."
    return Decision(pos.symbol, sig.action, pd.Timestamp(pos.last_ts), target, current, order,
                    pred_id if order is not None else None, list(sig.reasons), msg)


def follow_signals(owner: str, markets: Iterable[MarketData], *, session,
                   panel_fn: PanelFn = symbol_panel) -> list[Decision]:
    """:func:`follow_signal` for each of ``markets`` (one decision per symbol)."""
    return [follow_signal(owner, md, session=session, panel_fn=panel_fn) for md in markets]


def prediction_dict(pred_id: int, *, session) -> dict | None:
    """A logged prediction as plain data (for the link from an order), or None."""
    row = store.get_prediction(pred_id, session=session)
    if row is None:
        return None
    return {"id": row.id, "model": row.model_name, "version": row.model_version,
            "symbol": row.symbol, "interval": row.interval, "kind": row.kind,
            "horizon": row.horizon, "origin_ts": row.origin_ts.isoformat(),
            "value": row.value, "lower": row.lower, "upper": row.upper,
            "output": dict(row.output or {})}
