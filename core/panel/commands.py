"""CLI of the live loop: ``quantdesk replay`` and ``quantdesk backfill`` (mounted by
:mod:`core.cli`)."""

from __future__ import annotations

from typing import Optional

import typer

from core.cliutil import emit_json, groups, guarded
from core.data import load_ohlcv
from core.monitoring.commands import print_summary
from core.panel.replay import run_replay
from core.store import backfill_outcomes, pending_predictions, session_scope

#: merged into the root by core.cli
app, train_app, evaluate_app, predict_app = groups()


@app.command("replay")
def replay_cmd(
    symbol: str = typer.Option(..., "--symbol", help="Ticker to replay, e.g. MSFT."),
    steps: int = typer.Option(1, "--steps", min=0, help="Bars to advance."),
    start_bars: Optional[int] = typer.Option(None, "--start-bars",
                                             help="Restart with this many bars visible."),
    interval: str = typer.Option("1d", "--interval"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk SYMBOL's history forward: predict, log, reveal the next bar, backfill."""
    with guarded():  # a QuantdeskError or a store fault: a message, exit 2
        res = run_replay(symbol, steps=steps, start_bars=start_bars, interval=interval)
    if as_json:
        emit_json(res.to_dict())
        return
    typer.echo(f"{res.symbol} {res.interval}: {res.steps_done} step(s), bar {res.position + 1}/"
               f"{res.bars_total} ({res.cursor_ts:%Y-%m-%d}); logged {res.logged}, outcomes "
               f"{res.outcomes}" + ("; end of history" if res.at_end else ""))
    for e in res.errors:
        typer.echo(f"predictor error: {e}")
    print_summary(res.figures)


@app.command("backfill")
def backfill_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Fill realised outcomes of logged predictions whose target bar now exists."""
    with guarded(), session_scope() as s:
        n = backfill_outcomes(session=s, load_bars=load_ohlcv)
        pending = len(pending_predictions(session=s))
    if as_json:
        emit_json({"outcomes_written": n, "pending": pending})
    else:
        typer.echo(f"outcomes written: {n}; still pending: {pending}")
