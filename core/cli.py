"""``quantdesk`` command line: the scriptable face of :mod:`core` (typer).

Groups: ``data`` and ``init`` (here); ``train``/``evaluate``/``predict`` gather each model
family's commands (found through :data:`core.families.FAMILIES`); the live loop, monitoring
and admin commands are mounted from their packages. No command module imports this one.
Every command that fails on bad input prints the plain message and exits with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from core import admin_cli
from core.api import commands as api_commands
from core.bootstrap import bootstrap
from core.cliutil import emit_json, fail, load_market
from core.config import get_settings
from core.data import list_symbols
from core.errors import QuantdeskError
from core.families import FAMILIES
from core.monitoring import commands as monitoring_commands
from core.panel import commands as panel_commands
from core.paper import commands as paper_commands
from core.strategy import commands as strategy_commands
from core.screener import commands as screener_commands

app = typer.Typer(help="Quantdesk: market data, models and evaluation.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
data_app = typer.Typer(help="Market data: list bundled symbols, show bars.", no_args_is_help=True)
train_app = typer.Typer(help="Train model families (writes candidate versions).", no_args_is_help=True)
evaluate_app = typer.Typer(help="Walk-forward evaluation beside naive baselines.", no_args_is_help=True)
predict_app = typer.Typer(help="Predict with the active model version.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(predict_app, name="predict")

_COMMAND_MODULES = list(dict.fromkeys(
    [f.commands for f in FAMILIES.values() if f.commands is not None]
    + [panel_commands, screener_commands, monitoring_commands, admin_cli, api_commands,
       strategy_commands, paper_commands]))
for _mod in _COMMAND_MODULES:  # each module's groups merge into ours (typer, no name)
    app.add_typer(_mod.app)
    train_app.add_typer(_mod.train_app)
    evaluate_app.add_typer(_mod.evaluate_app)
    predict_app.add_typer(_mod.predict_app)


@app.command()
def init() -> None:
    """Prepare data directories and the database; train default models that are missing."""
    s = get_settings()
    (s.data_dir / "uploads").mkdir(parents=True, exist_ok=True)
    s.cache_dir.mkdir(parents=True, exist_ok=True)
    s.cache_dir.chmod(0o700)
    bootstrap(echo=typer.echo)


@data_app.command("list")
def data_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the bundled symbols (offline history) with their date ranges."""
    rows = list_symbols()
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['symbol']:<7} {r['interval']}  {r['rows']:>5} bars  {r['first']} .. "
                   f"{r['last']}  {r['provenance']}")
    typer.echo("Any other symbol is fetched from Yahoo Finance when online.")


@data_app.command("show")
def data_show(
    symbol: str = typer.Argument(..., help="Ticker, e.g. MSFT or ^GSPC."),
    interval: str = typer.Option("1d", "--interval", help="Bar interval (yfinance style)."),
    start: Optional[str] = typer.Option(None, "--start", help="First date, YYYY-MM-DD."),
    end: Optional[str] = typer.Option(None, "--end", help="Last date (inclusive), YYYY-MM-DD."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON with all bars."),
    tail: int = typer.Option(10, "--tail", help="Bars to print in table mode."),
) -> None:
    """Show validated bars for SYMBOL (bundled, Yahoo or CSV)."""
    try:
        md = load_market(symbol, csv, interval, start, end)
    except QuantdeskError as err:
        fail(err)
    f = md.frame
    if as_json:
        bars = [{"timestamp": ts.isoformat(), **{k: float(v) for k, v in row.items()}}
                for ts, row in f.iterrows()]
        emit_json({"symbol": md.symbol, "interval": md.interval, "rows": len(f),
                   "first": f.index[0].isoformat(), "last": f.index[-1].isoformat(),
                   "source": md.source, "stale": md.stale, "notes": md.notes, "bars": bars})
        return
    typer.echo(md.status_line)
    for n in md.notes:
        typer.echo(f"note: {n}")
    typer.echo(f.tail(tail).to_string(float_format=lambda v: f"{v:,.4f}"))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except QuantdeskError as err:  # a domain command that forgot to catch
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
