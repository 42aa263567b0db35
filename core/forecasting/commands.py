"""CLI: ``quantdesk train forecast``, ``quantdesk evaluate forecast``, ``quantdesk predict
forecast`` (registered on the groups of :mod:`core.cli`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from core.cli import emit_json, evaluate_app, fail, load_market, predict_app, train_app
from core.errors import QuantdeskError


@train_app.command("forecast")
def train_forecast(
    symbols: Optional[str] = typer.Option(None, "--symbols",
                                          help="Comma-separated tickers (default: bundled)."),
    evaluation: Optional[Path] = typer.Option(
        None, "--evaluation", help="JSON from `evaluate forecast --save` to store with the model."),
) -> None:
    """Train the forecast ensemble (per symbol, horizons 1/5/20 bars) as a new version."""
    from rich.progress import Progress

    from core.forecasting.train import train

    syms = [s.strip().upper() for s in symbols.split(",") if s.strip()] if symbols else None
    try:
        ev = json.loads(evaluation.read_text()) if evaluation else None
        if isinstance(ev, dict) and isinstance(ev.get("results"), list):  # --save format
            ev = {r["symbol"]: {} for r in ev["results"]} | {}
            for r in json.loads(evaluation.read_text())["results"]:
                ev[r["symbol"]][str(r["horizon"])] = r
    except (OSError, json.JSONDecodeError) as err:
        fail(ValueError(f"cannot read {evaluation}: {err}"))
    try:
        with Progress() as bar:
            task = bar.add_task("forecast", total=1.0)
            art = train(progress=lambda f, m: bar.update(task, completed=f, description=m[:40]),
                        symbols=syms, evaluation=ev)
    except QuantdeskError as err:
        fail(err)
    typer.echo(f"saved forecast/{art.version} ({art.metadata['train_seconds']} s)")


@evaluate_app.command("forecast")
def evaluate_forecast(
    symbol: Optional[str] = typer.Option(None, "--symbol", help="Ticker, e.g. MSFT."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    horizon: Optional[int] = typer.Option(None, "--horizon", help="Bars ahead (default 1, 5, 20)."),
    step: int = typer.Option(250, "--step", help="Refit every STEP bars."),
    all_symbols: bool = typer.Option(False, "--all", help="Every bundled symbol."),
    save: Optional[Path] = typer.Option(None, "--save", help="Also write the results as JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk-forward skill of members and ensemble beside the naive random walk."""
    from core.data import BUNDLED_SYMBOLS
    from core.forecasting.evaluate import evaluate_symbol, verdict
    from core.forecasting.train import DAILY_HORIZONS

    if not all_symbols and not symbol and csv is None:
        fail(ValueError("give --symbol SYMBOL, --csv PATH or --all"))
    if horizon is not None and horizon < 1:
        fail(ValueError("--horizon must be >= 1 bar"))
    horizons = [horizon] if horizon else list(DAILY_HORIZONS)
    syms = list(BUNDLED_SYMBOLS) if all_symbols else [symbol or (csv.stem if csv else "")]
    results = []
    try:
        for sym in syms:
            md = load_market(sym, None if all_symbols else csv, min_bars=300)
            for h in horizons:
                res = evaluate_symbol(md.frame, md.symbol, h, step=step)
                results.append(res)
                if not as_json:
                    e, b = res["ensemble"], res["baselines"]
                    typer.echo(f"{md.symbol} h={h}: n_test={res['n_test']} ensemble RMSE ratio "
                               f"{e['rmse_ratio']:.3f} (naive 1.000), dir.acc "
                               f"{e['directional_accuracy']:.1%} (always-up "
                               f"{b['always_up']['directional_accuracy']:.1%}), IC {e['ic']:.3f}, "
                               f"coverage80 {res['coverage_80']:.1%} coverage95 "
                               f"{res['coverage_95']:.1%}. {verdict(res)}")
                    for m, v in res["members"].items():
                        typer.echo(f"    {m:<14} RMSE ratio {v['rmse_ratio']:.3f}  IC "
                                   f"{v['ic']:.3f}  dir.acc {v['directional_accuracy']:.1%}")
    except QuantdeskError as err:
        fail(err)
    if save:
        save.write_text(json.dumps({"results": results}, indent=1, default=str))
    if as_json:
        emit_json(results[0] if len(results) == 1 else results)


@predict_app.command("forecast")
def predict_forecast(
    symbol: Optional[str] = typer.Option(None, "--symbol", help="Ticker, e.g. MSFT."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Use bars up to this date only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Forecasts for every horizon from the last bar (<= --as-of) with the active model."""
    from core.forecasting.service import forecast_table, predict_latest

    if not symbol and csv is None:
        fail(ValueError("give --symbol SYMBOL or --csv PATH"))
    try:
        md = load_market(symbol or "", csv)
        preds = predict_latest(md, as_of=as_of)
    except QuantdeskError as err:
        fail(err)
    except ValueError as err:  # unparsable --as-of
        fail(ValueError(f"bad --as-of {as_of!r}: {err}"))
    if as_json:
        # latency_ms is left out so that the same inputs always print the same output
        emit_json([{k: v for k, v in p.to_dict().items() if k != "latency_ms"} for p in preds])
        return
    typer.echo(forecast_table(preds).to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
