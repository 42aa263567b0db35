"""Pure bookkeeping of the paper book: no store, no clock, no network.

Conventions (the same as :mod:`core.strategy.backtest`, whose :class:`~core.strategy.spec.
Costs` this module uses):

* **An order placed at bar t fills at the open of the first bar after t** (never on bar t:
  the decision saw bar t's close, so bar t's prices are gone). A buy fills at
  ``open * (1 + c)``, a sell at ``open * (1 - c)`` with ``c = (spread_bp / 2 +
  slippage_bp) / 1e4``; a commission of ``commission_bp / 1e4`` of the fill's notional
  (``|quantity| * fill price``) is paid in cash on every fill.
* **Positions** carry a signed quantity [units; < 0 short] and an average cost
  ``avg_price`` [currency per unit, after the price concession]. A fill that adds to a
  position (or opens one) moves the average; a fill that reduces it realises
  ``closed units x (fill - avg_price)`` (sign of the position); one that crosses zero closes
  the old position and opens the rest at the fill price. Commissions are charged to the
  realised P&L when paid, so ``realised`` is net of every commission.
* **Marks** at each bar's close: ``unrealised = quantity * (close - avg_price)``; equity =
  cash + sum of ``quantity * close``, which equals ``initial cash + realised +
  unrealised``. Gross exposure = sum ``|quantity * close|``, net = sum ``quantity * close``
  [currency]; drawdown = equity / running peak - 1 (<= 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import pandas as pd

from core.errors import DataValidationError
from core.strategy.spec import Costs

BUY, SELL = "buy", "sell"
SIDES = (BUY, SELL)


@dataclass(frozen=True)
class Order:
    """An order to fill: ``side`` buy|sell, ``quantity`` [units, > 0], ``placed_at`` the bar
    (UTC) whose close the decision saw. ``id``: the stored order's id (None when pure)."""

    symbol: str
    side: str
    quantity: float
    placed_at: pd.Timestamp
    id: int | None = None

    @property
    def signed(self) -> float:
        """+quantity for a buy, -quantity for a sell [units]."""
        return self.quantity if self.side == BUY else -self.quantity


@dataclass(frozen=True)
class Fill:
    """An order's fill: at bar ``ts``'s open ``open`` [currency per unit], at ``price``
    after the price concession, paying ``commission`` [currency]."""

    order_id: int | None
    symbol: str
    side: str
    quantity: float
    ts: pd.Timestamp
    open: float
    price: float
    commission: float

    @property
    def signed(self) -> float:
        return self.quantity if self.side == BUY else -self.quantity


@dataclass(frozen=True)
class Position:
    """One symbol: signed ``quantity`` [units], ``avg_price`` [currency per unit; 0 when
    flat], ``realised`` P&L [currency, net of commissions], ``last_price`` the last mark's
    close [currency per unit] (None before the first mark)."""

    quantity: float = 0.0
    avg_price: float = 0.0
    realised: float = 0.0
    last_price: float | None = None

    @property
    def unrealised(self) -> float:
        """``quantity * (last_price - avg_price)`` [currency]; 0 when flat or unmarked."""
        if self.quantity == 0 or self.last_price is None:
            return 0.0
        return self.quantity * (self.last_price - self.avg_price)

    @property
    def value(self) -> float:
        """Market value ``quantity * last_price`` [currency]."""
        return 0.0 if self.last_price is None else self.quantity * self.last_price


@dataclass(frozen=True)
class Book:
    """The book's state: ``cash`` [currency] and ``positions`` by symbol."""

    cash: float
    initial_cash: float
    positions: dict[str, Position] = field(default_factory=dict)

    def position(self, symbol: str) -> Position:
        return self.positions.get(symbol, Position())

    @property
    def realised(self) -> float:
        return sum(p.realised for p in self.positions.values())

    @property
    def unrealised(self) -> float:
        return sum(p.unrealised for p in self.positions.values())

    @property
    def equity(self) -> float:
        """cash + market value of every position [currency]."""
        return self.cash + sum(p.value for p in self.positions.values())

    @property
    def gross(self) -> float:
        return sum(abs(p.value) for p in self.positions.values())

    @property
    def net(self) -> float:
        return sum(p.value for p in self.positions.values())


@dataclass(frozen=True)
class Mark:
    """The book at one bar's close (all [currency])."""

    ts: pd.Timestamp
    cash: float
    equity: float
    gross: float
    net: float
    realised: float
    unrealised: float


def fill_price(open_: float, side: str, costs: Costs) -> float:
    """The fill price of a ``side`` order at ``open_``: half the spread plus slippage
    against the trader (``costs.fill_bp`` basis points)."""
    c = costs.fill_bp / 1e4
    return open_ * (1 + c) if side == BUY else open_ * (1 - c)


def commission(quantity: float, price: float, costs: Costs) -> float:
    """``commission_bp / 1e4`` of the notional ``|quantity| * price`` [currency]."""
    return abs(quantity * price) * costs.commission_bp / 1e4


def fill_order(order: Order, ts: pd.Timestamp, open_: float, costs: Costs) -> Fill:
    """Fill ``order`` at bar ``ts``'s open.

    Raises:
        DataValidationError: ``ts`` is not after ``order.placed_at`` (a fill on the bar the
            order was placed on, or earlier, would look ahead), or a non-positive open.
    """
    if not pd.Timestamp(ts) > pd.Timestamp(order.placed_at):
        raise DataValidationError(
            f"An order placed at {order.placed_at} fills at a later bar's open, not at {ts}.")
    if not (math.isfinite(open_) and open_ > 0):
        raise DataValidationError(f"Cannot fill at a non-positive open ({open_}).")
    px = fill_price(open_, order.side, costs)
    return Fill(order.id, order.symbol, order.side, order.quantity, pd.Timestamp(ts),
                float(open_), px, commission(order.quantity, px, costs))


def apply_fill(pos: Position, fill: Fill) -> tuple[Position, float]:
    """The position after ``fill`` and the cash change [currency] (``-signed * price -
    commission``): average cost on additions, realised P&L on reductions (module doc)."""
    q, a, dq, p = pos.quantity, pos.avg_price, fill.signed, fill.price
    realised = pos.realised - fill.commission
    if q == 0 or (q > 0) == (dq > 0):
        new_q = q + dq
        avg = (q * a + dq * p) / new_q
    else:
        closed = math.copysign(min(abs(dq), abs(q)), q)  # units closed, sign of the position
        realised += closed * (p - a)
        new_q = q + dq
        if abs(new_q) < 1e-12:
            new_q, avg = 0.0, 0.0
        elif (new_q > 0) == (q > 0):
            avg = a
        else:  # crossed zero: the rest opens at the fill
            avg = p
    cash = -dq * p - fill.commission
    return replace(pos, quantity=new_q, avg_price=avg, realised=realised), cash


def step(book: Book, symbol: str, ts: pd.Timestamp, open_: float, close: float,
         orders: list[Order], costs: Costs) -> tuple[Book, list[Fill], Mark]:
    """One new bar of ``symbol``: fill ``orders`` (those of ``symbol`` placed before ``ts``;
    the others are left alone) at its open, then mark the book at its close.

    Returns:
        ``(book after the bar, fills in order, the mark at the close)``.
    """
    pos = book.position(symbol)
    cash = book.cash
    fills = []
    for o in orders:
        if o.symbol != symbol or not pd.Timestamp(ts) > pd.Timestamp(o.placed_at):
            continue
        f = fill_order(o, ts, open_, costs)
        pos, dc = apply_fill(pos, f)
        cash += dc
        fills.append(f)
    pos = replace(pos, last_price=float(close))
    out = Book(cash, book.initial_cash, {**book.positions, symbol: pos})
    return out, fills, mark_of(out, ts)


def mark_of(book: Book, ts: pd.Timestamp) -> Mark:
    """The book's :class:`Mark` at ``ts`` (its positions at their last prices)."""
    return Mark(pd.Timestamp(ts), book.cash, book.equity, book.gross, book.net, book.realised,
                book.unrealised)


def replay(book: Book, symbol: str, bars: pd.DataFrame, orders: list[Order],
           costs: Costs) -> tuple[Book, list[Fill], list[Mark]]:
    """Walk ``bars`` (OHLCV, UTC index, oldest first) of ``symbol`` one bar at a time: each
    pending order fills at the open of the first bar after the one it was placed on, and the
    book is marked at every close. Bars in, fills and marks out.

    Returns:
        ``(final book, fills, one mark per bar)``.
    """
    pending = [o for o in orders if o.symbol == symbol]
    fills: list[Fill] = []
    marks: list[Mark] = []
    for ts, o, c in zip(bars.index, bars["open"].to_numpy(float), bars["close"].to_numpy(float)):
        book, fs, m = step(book, symbol, ts, float(o), float(c), pending, costs)
        pending = [x for x in pending if not pd.Timestamp(ts) > pd.Timestamp(x.placed_at)]
        fills.extend(fs)
        marks.append(m)
    return book, fills, marks


def marks_frame(marks) -> pd.DataFrame:
    """Marks (objects with ``ts, cash, equity, gross, net, realised, unrealised``) as a
    frame indexed by ``ts`` (the last mark of a timestamp wins), with ``drawdown`` (<= 0,
    fraction of the running equity peak) and ``exposure`` (gross / equity)."""
    cols = ["cash", "equity", "gross", "net", "realised", "unrealised"]
    rows = [{"ts": pd.Timestamp(m.ts), **{k: float(getattr(m, k)) for k in cols}} for m in marks]
    if not rows:
        return pd.DataFrame(columns=[*cols, "drawdown", "exposure"],
                            index=pd.DatetimeIndex([], tz="UTC", name="ts"))
    df = pd.DataFrame(rows)
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    df = df.groupby("ts", sort=True).last()
    df["drawdown"] = drawdown(df["equity"])
    df["exposure"] = (df["gross"] / df["equity"]).where(df["equity"] > 0)
    return df


def drawdown(equity: pd.Series) -> pd.Series:
    """``equity / running peak - 1`` (0 at a new high, < 0 below it) [fraction]."""
    return equity / equity.cummax() - 1.0


def signal_target(action: str, *, equity: float, price: float, fraction: float,
                  allow_short: bool, current: float) -> float:
    """Target quantity [whole units] for the fused signal ``action``: BUY/STRONG_BUY ->
    long ``floor(fraction * equity / price)``; SELL/STRONG_SELL -> short that many when
    ``allow_short`` else flat; HOLD (or anything else) -> keep ``current``."""
    if not (price > 0 and equity > 0):
        return current
    units = math.floor(fraction * equity / price)
    if action in ("BUY", "STRONG_BUY"):
        return float(units)
    if action in ("SELL", "STRONG_SELL"):
        return float(-units) if allow_short else 0.0
    return current


def check_order(side: str, quantity) -> float:
    """The quantity of a valid order [units, finite, > 0].

    Raises:
        DataValidationError: ``side`` not buy|sell or a bad quantity.
    """
    if side not in SIDES:
        raise DataValidationError(f"Side must be buy or sell, not {str(side)[:20]!r}.")
    try:
        q = float(quantity)
    except (TypeError, ValueError):
        raise DataValidationError(f"Quantity must be a number, not {str(quantity)[:20]!r}.") \
            from None
    if not math.isfinite(q) or q <= 0:
        raise DataValidationError(f"Quantity must be a positive number of units, got {q:g}.")
    if q > 1e9:
        raise DataValidationError("Quantity is at most 1,000,000,000 units.")
    return q
