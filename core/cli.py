"""``quantdesk`` command line: the scriptable face of :mod:`core` (typer).

Groups: ``data`` (here), and ``train``/``evaluate``/``predict``/... added by each domain.
Every command that fails on bad input prints the plain message and exits with status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from core.errors import QuantdeskError

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


def fail(err: Exception) -> None:
    """Print a user-facing error and exit 2."""
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(code=2)


def emit_json(obj) -> None:
    """Print JSON (NaN -> null, timestamps -> ISO strings)."""
    typer.echo(json.dumps(obj, indent=2, default=str, allow_nan=False)
               if _finite(obj) else json.dumps(_nan_to_none(obj), indent=2, default=str))


def _finite(obj) -> bool:
    try:
        json.dumps(obj, default=str, allow_nan=False)
        return True
    except ValueError:
        return False


def _nan_to_none(obj):
    if isinstance(obj, float) and obj != obj or obj in (float("inf"), float("-inf")):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    return obj


def load_market(symbol: str, csv: Optional[Path], interval: str = "1d", start=None, end=None,
                min_bars: int = 1):
    """Bars for a CLI command: from ``--csv`` when given, else ``core.data.load_ohlcv``."""
    from core.data import _slice, load_csv, load_ohlcv

    if csv is not None:
        md = load_csv(csv, symbol or csv.stem, min_bars=min_bars)
        md.frame = _slice(md.frame, start, end)
        return md
    return load_ohlcv(symbol, interval, start, end, min_bars=min_bars)


@app.command()
def init() -> None:
    """Prepare data directories and the database; train default models that are missing."""
    from core.config import get_settings

    s = get_settings()
    (s.data_dir / "uploads").mkdir(parents=True, exist_ok=True)
    s.cache_dir.mkdir(parents=True, exist_ok=True)
    s.cache_dir.chmod(0o700)
    try:
        from core.bootstrap import bootstrap
    except ImportError:
        typer.echo(f"data dir ready: {s.data_dir}")
        return
    bootstrap(echo=typer.echo)


@data_app.command("list")
def data_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the bundled symbols (offline history) with their date ranges."""
    from core.data import list_symbols

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


# Domain command modules register themselves on the groups above (keep imports light:
# heavy libraries are imported inside the commands).

import core.risk.commands  # noqa: E402,F401  (risk: evaluate risk, size, train risk)
import core.store.commands  # noqa: E402,F401  (replay, backfill, monitor, drift, models, admin)
import core.forecasting.commands  # noqa: E402,F401
import core.volatility.commands  # noqa: E402,F401
import core.patterns.commands  # noqa: E402,F401
import core.sentiment.commands  # noqa: E402,F401
import core.predictors  # noqa: E402,F401  (registers the domain predictors with the replay)


if __name__ == "__main__":
    # run the imported module's app, on which the domain modules registered their commands
    from core.cli import main as _main

    _main()
