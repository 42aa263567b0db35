"""A paper book that follows a strategy (:mod:`core.strategy.spec`) for a symbol, bar by bar.

The book stores the strategy and the bar it started at (``paper_strategies``). At every bar
the book sees, :func:`core.strategy.backtest.strategy_state` replays the strategy's rules
from that bar to the book's clock, exactly as the strategy tester would on the same bars,
and reads what it wants after the next open; the book then places the order that takes its
position there (reason ``strategy``, the rule that fired in ``signal``). Orders fill at the
next bar's open with the *account's* costs, so the book and the backtest differ only by
costs set differently and by two conventions: a stop the backtest fills inside a bar is left
at the next open here (the book never fills inside a bar), and a position the backtest
closes at its holding limit and reopens at the same open on a fresh entry signal is simply
kept (no round trip; the tests check both).

Sizing follows the strategy's :class:`core.strategy.spec.Sizing` on the book's equity at
the decision, in whole units, and a buy is cut to the cash that is free. Simulated only:
nothing is ever sent to a broker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data import MarketData
from core.errors import DataValidationError, InsufficientDataError
from core.paper import book as bk
from core.paper.desk import (
    Advance,
    advance,
    book_of,
    buy_rate,
    free_cash,
    pending_net,
    place_order,
    start_clock,
    visible,
)
from core.store import paper as store
from core.store.tables import REASON_STRATEGY
from core.strategy.backtest import StrategyState, strategy_state
from core.strategy.spec import Strategy, StrategySpecError


@dataclass
class StrategyDecision:
    """One decision of a followed strategy: the bar it saw, the strategy's ``state`` there,
    the target and current quantity [units, pending orders included], the order placed
    (None: none needed) and a plain ``message``."""

    symbol: str
    strategy: str
    bar_ts: pd.Timestamp
    state: StrategyState
    target: float
    current: float
    order: object | None
    message: str


def stored_spec(row) -> Strategy:
    """The stored strategy of a ``paper_strategies`` row, validated again.

    Raises: DataValidationError: the stored fields no longer make a valid strategy.
    """
    try:
        return Strategy.model_validate(row.spec)
    except Exception as err:  # pydantic's ValidationError; the message names the field
        raise StrategySpecError(
            f"The strategy {row.name!r} stored for {row.symbol} is no longer valid ({err}); "
            "follow it again from its file.") from None


def follow_strategy(owner: str, md: MarketData, spec: Strategy, *, session) -> StrategyDecision:
    """Make ``owner``'s book follow ``spec`` for ``md.symbol`` from the book's current bar
    (its clock starts as for any order) and take the first decision there.

    Raises:
        DataValidationError: the strategy goes short and the book does not short.
    """
    acct = store.open_account(owner, session=session)
    if spec.side != "long" and not acct.allow_short:
        raise DataValidationError(
            f"{spec.name!r} trades short ({spec.side}) but this book does not go short: reset "
            "the book with shorting allowed, or follow a long-only strategy.")
    pos = start_clock(owner, md, session=session)
    store.save_strategy(owner, md.symbol, spec.name, spec.model_dump(mode="json"), pos.last_ts,
                        session=session, interval=md.interval)
    return decide(owner, md, session=session)


def unfollow(owner: str, symbol: str, *, session) -> bool:
    """Stop following a strategy for ``symbol``; the position and orders stay."""
    return store.delete_strategy(owner, symbol, session=session)


def target_units(state: StrategyState, spec: Strategy, *, equity: float, price: float
                 ) -> float:
    """Whole units the book should hold after the next open for ``state.target``.

    ``fixed``/``vol_target``: ``floor(state.fraction x equity / price)``; ``atr_risk``:
    ``floor(min(risk_per_trade x equity / stop distance, fraction x equity / price))``.
    Sign: the target side. 0 when the target is flat, or ``price``/``equity`` are not
    positive and finite.
    """
    if state.target == 0 or not (math.isfinite(price) and price > 0
                                 and math.isfinite(equity) and equity > 0):
        return 0.0
    if state.fraction <= 0:  # holding on: the book keeps what it has (caller's job)
        return float("nan")
    notional = state.fraction * equity
    if spec.sizing.policy == "atr_risk" and math.isfinite(state.stop_distance) \
            and state.stop_distance > 0:
        units = min(spec.sizing.risk_per_trade * equity / state.stop_distance,
                    spec.sizing.fraction * equity / price)
    else:
        units = notional / price
    return float(state.target * math.floor(units + 1e-9))


def _signal_text(spec: Strategy, state: StrategyState) -> str:
    fired = " ".join(f"{k}{v:+d}" for k, v in state.signals.items())
    return f"{spec.name}: {state.reason}" + (f" {fired}" if fired else "")


def decide(owner: str, md: MarketData, *, session) -> StrategyDecision:
    """The followed strategy's decision for ``md.symbol`` at the book's current bar.

    The strategy sees the bars up to the clock only (:func:`core.paper.desk.visible`). When
    the side it wants after the next open differs from the book's (position plus pending
    orders), an order takes the book to :func:`target_units`; otherwise nothing is placed.

    Raises:
        DataValidationError: the book follows no strategy for this symbol, or its stored
            strategy is no longer valid.
    """
    row = store.get_strategy(owner, md.symbol, session=session)
    if row is None:
        raise DataValidationError(f"The paper book follows no strategy for {md.symbol}; "
                                  "choose one to follow first.")
    spec = stored_spec(row)
    acct = store.open_account(owner, session=session)
    pos = start_clock(owner, md, session=session)
    seen = visible(md, pos.last_ts).frame
    start = int(seen.index.searchsorted(pd.Timestamp(row.started_ts)))
    if start >= len(seen):
        raise InsufficientDataError(f"{md.symbol}: the book's bars end before the strategy's "
                                    "first bar.")
    state = strategy_state(seen, spec, start=start, interval=md.interval)
    current = pos.quantity + pending_net(owner, pos.symbol, session)
    have = int(np.sign(round(current, 9)))
    bar = pd.Timestamp(pos.last_ts)
    if state.target == have:
        word = {1: "long", -1: "short", 0: "flat"}[have]
        return StrategyDecision(pos.symbol, spec.name, bar, state, current, current, None,
                                f"{spec.name}: stays {word}; no order.")
    equity = book_of(acct, session=session).equity
    target = target_units(state, spec, equity=equity, price=pos.last_price)
    if not math.isfinite(target):  # the strategy holds a position the book could not take
        return StrategyDecision(pos.symbol, spec.name, bar, state, current, current, None,
                                f"{spec.name}: holds {state.target:+d} since an entry the book "
                                "could not take (cash); no order until its next decision.")
    delta = target - current
    note = ""
    if delta > 0:
        cover = max(0.0, -current)  # buying back a short frees its cash
        free = max(0.0, math.floor(free_cash(owner, acct, session=session)
                                   / (pos.last_price * buy_rate(acct))))
        if delta > cover + free:
            delta, note = cover + free, " (cut to the cash that is free)"
    if abs(delta) < 1 - 1e-9:
        return StrategyDecision(pos.symbol, spec.name, bar, state, target, current, None,
                                f"{spec.name}: wants {state.target:+d} but the order would be "
                                "under one unit (not enough cash or equity); no order.")
    try:
        order = place_order(owner, md, bk.BUY if delta > 0 else bk.SELL, abs(delta),
                            session=session, reason=REASON_STRATEGY,
                            signal=_signal_text(spec, state))
    except DataValidationError as err:  # e.g. a reversal the cash cannot pay for
        return StrategyDecision(pos.symbol, spec.name, bar, state, target, current, None,
                                f"{_signal_text(spec, state)}: no order ({err})")
    return StrategyDecision(pos.symbol, spec.name, bar, state, target, current, order,
                            f"{_signal_text(spec, state)}: {order.side} {order.quantity:g} "
                            f"{pos.symbol}{note}, filled at the next bar's open.")


def step(owner: str, md: MarketData, *, session, steps: int | None = None
         ) -> tuple[Advance, list[StrategyDecision]]:
    """Advance the book on ``md.symbol`` (as :func:`core.paper.desk.advance`) and, when it
    follows a strategy there, decide again at every new bar's close, one bar at a time
    (``steps``: at most that many bars; None: every bar up to the latest).

    Returns: the combined advance (fills and marks of every bar) and the decisions taken.
    Raises: InsufficientDataError for ``steps`` < 0 or no bars.
    """
    if store.get_strategy(owner, md.symbol, session=session) is None:
        return advance(owner, md, session=session, steps=steps), []
    if steps is not None and steps < 0:
        raise InsufficientDataError("Replay steps must be >= 0.")
    fills, marks, decisions, n = [], [], [], 0
    last = advance(owner, md, session=session, steps=0)
    while steps is None or n < steps:
        a = advance(owner, md, session=session, steps=1)
        if a.bars == 0:
            last = a
            break
        n += 1
        fills += a.fills
        marks += a.marks
        decisions.append(decide(owner, md, session=session))
        last = a
    return Advance(last.symbol, n, fills, marks, last.last_ts, last.at_end), decisions
