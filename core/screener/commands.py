"""CLI of the screener: ``quantdesk scan`` and ``quantdesk screens ...`` (mounted by
:mod:`core.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from core.cliutil import emit_json, fail, groups, guarded
from core.display import csv_export
from core.errors import DataValidationError
from core.screener import filters
from core.screener.scan import rows_frame, scan
from core.universe import custom, parse_tickers, resolve
from core.store import delete_screen, list_screens, save_screen, session_scope

#: merged into the root by core.cli
app, train_app, evaluate_app, predict_app = groups()
screens_app = typer.Typer(help="Saved screens (stored in the database).")
app.add_typer(screens_app, name="screens")

#: the owner of screens saved from the command line
CLI_OWNER = "cli"
MAX_LIST_BYTES = 1_000_000


def _progress(stage: str, done: int, total: int) -> None:
    if done == total or done % 50 == 0:
        typer.echo(f"{stage}: {done}/{total}", err=True)


@app.command("scan")
def scan_cmd(
    universe: Optional[str] = typer.Option(
        None, "--universe", help="bundled, sp500, nasdaq100, dow30 or watchlist:OWNER."),
    tickers: Optional[Path] = typer.Option(
        None, "--tickers", help="A file of tickers (one per line, or a CSV with a 'symbol' "
        "column) instead of --universe."),
    interval: str = typer.Option("1d", "--interval", help="Bar interval, e.g. 1d or 1h."),
    engine: Optional[str] = typer.Option(
        None, "--engine", help="ray, serial or auto (default: QUANTDESK_SCAN_ENGINE, auto)."),
    where: List[str] = typer.Option(
        [], "--where", help="Filter 'column OP value' (repeatable, AND), e.g. 'rsi_14 < 35'."),
    sort: Optional[str] = typer.Option(None, "--sort", help="Sort by this column."),
    desc: bool = typer.Option(False, "--desc", help="Sort descending."),
    screen: Optional[str] = typer.Option(None, "--screen",
                                         help="Apply a saved screen's filters and sort."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Score again even if cached."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Write the rows to this CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as a JSON list."),
) -> None:
    """Scan a universe: one row per symbol from its last bar (technical columns, pattern,
    breakout, volatility, forecast with intervals, sentiment where cached, fused signal)."""
    with guarded():
        conds = [filters.parse_condition(w) for w in where]
        if screen:
            with session_scope() as s:
                saved = list_screens(CLI_OWNER, session=s).get(" ".join(screen.split()))
            if saved is None:
                raise DataValidationError(f"No saved screen {screen[:60]!r}; see "
                                          "`quantdesk screens list`.")
            conds = filters.from_spec(saved.get("conditions")) + conds
            sort = sort or saved.get("sort")
            desc = desc or bool(saved.get("descending"))
        if tickers is not None:
            try:
                if tickers.stat().st_size > MAX_LIST_BYTES:
                    raise DataValidationError(f"{tickers.name} is over "
                                              f"{MAX_LIST_BYTES:,} bytes.")
                text = tickers.read_text(encoding="utf-8", errors="replace")
            except (OSError, IsADirectoryError) as err:
                raise DataValidationError(f"Cannot read {str(tickers)[:80]!r} "
                                          f"({type(err).__name__}).") from None
            uni = custom(parse_tickers(text), f"List {tickers.name[:40]}")
        elif universe:
            uni = resolve(universe)
        else:
            raise DataValidationError("Give --universe NAME (bundled, sp500, nasdaq100, "
                                      "dow30, watchlist:OWNER) or --tickers FILE.")
        res = scan(uni, interval, engine=engine, use_cache=not no_cache,
                   progress=None if as_json else _progress)
        rows = filters.apply(res.rows, conds, sort, desc)
    records = rows.astype(object).where(rows.notna(), None).to_dict(orient="records")
    if csv is not None:
        try:
            csv.write_bytes(csv_export(rows))
        except OSError as err:
            fail(DataValidationError(f"Cannot write {str(csv)[:80]!r} ({type(err).__name__})."))
    if as_json:
        emit_json(records)
        return
    typer.echo(f"{res.universe.title} ({len(res.universe.symbols)} symbols, list: "
               f"{res.universe.as_of}), {interval}: {len(rows)} of {len(res.rows)} rows match"
               + ("; from the scan cache" if res.cached else
                  f"; engine {res.engine}, {res.seconds:.1f} s") + f", {res.failed} failed")
    for n in res.notes:
        typer.echo(f"note: {n}")
    for r in records[:50]:
        fc = ("n/a" if r["fc_pct"] is None else
              f"{r['fc_pct']:+.1f}% [{r['fc_lo_pct']:+.1f}, {r['fc_hi_pct']:+.1f}]"
              f"{'' if r['fc_skill'] else ' no skill'}")
        typer.echo(f"{r['symbol']:<10} {r['error'] or ''}" if r["error"] else
                   f"{r['symbol']:<10} close {r['close']:>10.2f}  rsi {r['rsi_14'] or 0:5.1f}"
                   f"  trend {r['trend']:<5}  pattern {r['pattern'] or '-':<18} "
                   f"fc{r['fc_horizon'] or ''} {fc:<28} {r['signal'] or ''}")
    if len(records) > 50:
        typer.echo(f"... {len(records) - 50} more (use --json or --csv)")


@screens_app.command("list")
def screens_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Saved screens of the command line."""
    with guarded(), session_scope() as s:
        screens = list_screens(CLI_OWNER, session=s)
    if as_json:
        emit_json(screens)
        return
    for name, spec in screens.items():
        conds = " AND ".join(f"{c['column']} {c['op']} {c['value']}"
                             for c in spec.get("conditions", []))
        typer.echo(f"{name}: {conds or '(no filters)'}"
                   + (f"; sort {spec['sort']}" if spec.get("sort") else ""))


@screens_app.command("save")
def screens_save(
    name: str = typer.Argument(..., help="Screen name."),
    where: List[str] = typer.Option([], "--where", help="Filter 'column OP value'."),
    sort: Optional[str] = typer.Option(None, "--sort"),
    desc: bool = typer.Option(False, "--desc"),
    universe: str = typer.Option("bundled", "--universe"),
    interval: str = typer.Option("1d", "--interval"),
) -> None:
    """Save (or replace) a screen."""
    with guarded():
        conds = [filters.parse_condition(w) for w in where]
        filters.apply(rows_frame([]), conds, sort, desc)  # validates the sort column
        with session_scope() as s:
            stored = save_screen(CLI_OWNER, name, {
                "universe": universe, "interval": interval,
                "conditions": filters.to_spec(conds), "sort": sort, "descending": desc},
                session=s)
    typer.echo(f"saved screen {stored!r}")


@screens_app.command("delete")
def screens_delete(name: str = typer.Argument(...)) -> None:
    """Delete a saved screen."""
    with guarded(), session_scope() as s:
        gone = delete_screen(CLI_OWNER, name, session=s)
    if not gone:
        fail(DataValidationError(f"No saved screen {name[:60]!r}."))
    typer.echo(f"deleted screen {name!r}")

