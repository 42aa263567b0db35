"""CLI of the paper book (mounted by :mod:`core.cli`); the book belongs to the owner
``cli``. Simulated only: no order is ever sent to a broker.

* ``quantdesk paper status [--json]``: cash, positions, equity, realised / unrealised P&L,
  drawdown, exposure, open orders;
* ``quantdesk paper order SYMBOL --side buy|sell --qty N [--interval 1d] [--bundled]``: a
  pending order at the book's current bar (fills at the next bar's open);
* ``quantdesk paper follow SYMBOL [--bundled]``: follow the desk's fused signal once;
  ``--strategy FILE`` (a strategy file, or the name of a shipped example such as
  ``rsi_reversal``): follow that strategy for SYMBOL from the book's current bar, deciding
  again at every new bar (:mod:`core.paper.follow`); ``quantdesk paper unfollow SYMBOL``;
* ``quantdesk paper mark [--replay-steps N] [--bundled]``: show the book the next bars of
  each of its symbols (N per symbol; default: every bar up to the latest), filling pending
  orders at the next open, marking at each close and taking a followed strategy's decision
  at each close;
* ``quantdesk paper cancel ID``; ``quantdesk paper reset [--cash X] [--commission-bp ...]``.

Bars come from :func:`core.data.load_ohlcv` (the bundled history offline: the book then
replays it, starting 250 bars before its end). Bad input exits 2 with a plain message.
"""

from __future__ import annotations

import typer

from core.cliutil import emit_json, fail, groups, guarded
from core.data import load_ohlcv
from core.errors import DataValidationError
from core.paper import desk, follow
from core.paper.book import check_order
from core.paper.desk import CLI_OWNER, SIMULATED
from core.store import paper as store
from core.store import session_scope
from core.strategy.spec import example_strategies, load_strategy

#: merged into the root by core.cli
app, train_app, evaluate_app, predict_app = groups()
paper_app = typer.Typer(help="Paper trading book (simulated only: nothing is sent to a "
                             "broker).", no_args_is_help=True)
app.add_typer(paper_app, name="paper")


def _bars(symbol: str, interval: str, bundled: bool):
    return load_ohlcv(symbol, interval, source="bundled" if bundled else "auto")


def _money(x) -> str:
    return "–" if x is None else f"{x:,.2f}"


@paper_app.command("status")
def status_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The book: cash, positions, equity, P&L, drawdown, exposure, open orders."""
    with guarded(), session_scope() as s:
        st = desk.status(CLI_OWNER, session=s)
    if as_json:
        emit_json(st)
        return
    typer.echo(SIMULATED)
    typer.echo(f"equity {_money(st['equity'])}  cash {_money(st['cash'])}  "
               f"P&L realised {_money(st['realised_pnl'])} unrealised "
               f"{_money(st['unrealised_pnl'])}  drawdown {100 * st['drawdown']:.2f}% "
               f"(worst {100 * st['max_drawdown']:.2f}%)")
    for p in st["positions"]:
        typer.echo(f"  {p['symbol']:<8} {p['quantity']:>10g} @ {_money(p['avg_price'])}  "
                   f"last {_money(p['last_price'])} ({p['last_bar'][:10]})  "
                   f"unrealised {_money(p['unrealised_pnl'])}")
    for o in st["open_orders"]:
        typer.echo(f"  order #{o['id']} {o['side']} {o['quantity']:g} {o['symbol']} placed "
                   f"{o['placed_at'][:10]} ({o['reason']}), fills at the next open")
    for f in st["strategies"]:
        typer.echo(f"  follows {f['strategy']!r} on {f['symbol']} ({f['side']}, sizing "
                   f"{f['sizing']}) since the bar of {f['from_bar'][:10]}")


@paper_app.command("order")
def order_cmd(
    symbol: str = typer.Argument(..., help="Ticker, e.g. MSFT."),
    side: str = typer.Option(..., "--side", help="buy or sell."),
    qty: float = typer.Option(..., "--qty", help="Units (> 0)."),
    interval: str = typer.Option("1d", "--interval"),
    bundled: bool = typer.Option(False, "--bundled", help="Replay the bundled history."),
) -> None:
    """Place a simulated order at the book's current bar; it fills at the next bar's open."""
    with guarded():
        side = side.strip().lower()
        check_order(side, qty)  # plain message before any data are loaded
        md = _bars(symbol, interval, bundled)
        with session_scope() as s:
            o = desk.place_order(CLI_OWNER, md, side, qty, session=s)
            out = desk.order_dict(o)
    typer.echo(f"order #{out['id']}: {out['side']} {out['quantity']:g} {out['symbol']} placed "
               f"at the bar of {out['placed_at'][:10]}; it fills at the next bar's open "
               "(run `quantdesk paper mark`). Simulated only.")


def _strategy(name_or_path: str):
    examples = example_strategies()
    return load_strategy(examples.get(name_or_path, name_or_path))


def _decision_dict(d) -> dict:
    return {"symbol": d.symbol, "strategy": d.strategy, "bar": d.bar_ts.isoformat(),
            "side": d.state.side, "wants": d.state.target, "reason": d.state.reason,
            "signals": d.state.signals, "target": d.target, "current": d.current,
            "message": d.message,
            "order": desk.order_dict(d.order) if d.order is not None else None}


@paper_app.command("follow")
def follow_cmd(
    symbol: str = typer.Argument(..., help="Ticker, e.g. MSFT."),
    interval: str = typer.Option("1d", "--interval"),
    bundled: bool = typer.Option(False, "--bundled", help="Replay the bundled history."),
    strategy: str | None = typer.Option(
        None, "--strategy", help="Follow this strategy (a .toml/.json file or a shipped "
                                 "example name, e.g. rsi_reversal) at every new bar."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Follow the desk's fused signal for SYMBOL once, or (--strategy) a strategy from now on."""
    with guarded():
        spec = _strategy(strategy) if strategy is not None else None  # before any data
        md = _bars(symbol, interval, bundled)
        with session_scope() as s:
            if spec is not None:
                out = _decision_dict(follow.follow_strategy(CLI_OWNER, md, spec, session=s))
            else:
                d = desk.follow_signal(CLI_OWNER, md, session=s)
                out = {"symbol": d.symbol, "action": d.action, "bar": d.bar_ts.isoformat(),
                       "target": d.target, "current": d.current, "message": d.message,
                       "order": desk.order_dict(d.order) if d.order is not None else None,
                       "prediction_id": d.prediction_id, "reasons": d.reasons}
    if as_json:
        emit_json(out)
        return
    if spec is not None:
        typer.echo(f"The book follows {spec.name!r} for {out['symbol']} from the bar of "
                   f"{out['bar'][:10]}; `quantdesk paper mark` takes its decision at every new "
                   f"bar. {SIMULATED}")
    typer.echo(out["message"])


@paper_app.command("unfollow")
def unfollow_cmd(symbol: str = typer.Argument(..., help="Ticker, e.g. MSFT.")) -> None:
    """Stop following a strategy for SYMBOL (the position and its orders stay)."""
    with guarded(), session_scope() as s:
        ok = follow.unfollow(CLI_OWNER, symbol, session=s)
    if not ok:
        fail(DataValidationError(f"The book follows no strategy for {symbol.upper()[:15]}."))
    typer.echo(f"stopped following the strategy for {symbol.upper()}; the position stays.")


@paper_app.command("mark")
def mark_cmd(
    replay_steps: int | None = typer.Option(
        None, "--replay-steps", help="Bars to advance per symbol (default: up to the latest)."),
    bundled: bool = typer.Option(False, "--bundled", help="Replay the bundled history."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fill pending orders and mark to market on the next bars of every symbol of the book."""
    if replay_steps is not None and replay_steps < 0:
        fail(DataValidationError("--replay-steps must be >= 0."))
    rows = []
    with guarded():
        with session_scope() as s:
            positions = [(p.symbol, p.interval) for p in
                         store.get_positions(CLI_OWNER, session=s)]
        for sym, iv in positions:
            md = _bars(sym, iv, bundled)
            with session_scope() as s:
                a, decisions = follow.step(CLI_OWNER, md, session=s, steps=replay_steps)
            rows.append({"symbol": sym, "bars": a.bars, "last_bar": a.last_ts.isoformat(),
                         "at_end": a.at_end,
                         "decisions": [_decision_dict(d) for d in decisions],
                         "fills": [{"order_id": f.order_id, "side": f.side,
                                    "quantity": f.quantity, "ts": f.ts.isoformat(),
                                    "open": f.open, "price": f.price,
                                    "commission": f.commission} for f in a.fills]})
        with session_scope() as s:
            st = desk.status(CLI_OWNER, session=s)
    if as_json:
        emit_json({"symbols": rows, "status": st})
        return
    if not rows:
        typer.echo("The book has no symbols yet: place an order first.")
    for r in rows:
        typer.echo(f"{r['symbol']}: {r['bars']} new bar(s), now at {r['last_bar'][:10]}"
                   + (" (end of the data)" if r["at_end"] else ""))
        for f in r["fills"]:
            typer.echo(f"  filled #{f['order_id']} {f['side']} {f['quantity']:g} at "
                       f"{f['price']:,.4f} (open {f['open']:,.4f}), commission "
                       f"{f['commission']:,.2f}")
        for d in r["decisions"]:
            if d["order"] is not None:
                typer.echo(f"  {d['bar'][:10]} {d['message']}")
    typer.echo(f"equity {_money(st['equity'])}  P&L {_money(st['total_pnl'])}")


@paper_app.command("cancel")
def cancel_cmd(order_id: int = typer.Argument(..., help="Order id.")) -> None:
    """Cancel a pending order."""
    with guarded(), session_scope() as s:
        ok = store.cancel_order(CLI_OWNER, order_id, session=s)
    if not ok:
        fail(DataValidationError(f"No pending order #{order_id}."))
    typer.echo(f"cancelled order #{order_id}")


@paper_app.command("reset")
def reset_cmd(
    cash: float = typer.Option(store.DEFAULT_CASH, "--cash", help="Starting cash."),
    commission_bp: float = typer.Option(1.0, "--commission-bp"),
    spread_bp: float = typer.Option(2.0, "--spread-bp", help="Full spread; half per fill."),
    slippage_bp: float = typer.Option(1.0, "--slippage-bp"),
    fraction: float = typer.Option(0.5, "--fraction", help="Signal position / equity."),
    short: bool = typer.Option(False, "--short/--no-short", help="SELL signals go short."),
) -> None:
    """Start the book again: orders, positions and marks are deleted."""
    with guarded(), session_scope() as s:
        a = store.reset_account(CLI_OWNER, session=s, cash=cash, commission_bp=commission_bp,
                                spread_bp=spread_bp, slippage_bp=slippage_bp,
                                fraction=fraction, allow_short=short)
        out = a.cash
    typer.echo(f"paper book reset: cash {_money(out)}. {SIMULATED}")
