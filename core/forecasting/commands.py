"""CLI: ``quantdesk train forecast``, ``quantdesk evaluate forecast``, ``quantdesk predict
forecast`` (mounted by :mod:`core.cli`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from core.cliutil import emit_json, fail, groups, guarded, load_market
from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.errors import QuantdeskError
from core.forecasting.artifact import FAMILY
from core.forecasting.evaluate import evaluate_symbol, verdict
from core.forecasting.pooled import POOLED_STEP, evaluate_leave_symbols_out
from core.forecasting.serve import forecast_table, predict_latest
from core.forecasting.train import DAILY_HORIZONS, train
from core.forecasting.universe import (
    EVAL_SYMBOLS, choose_engine, evaluation_cells, train_universe,
)
from core.universe import resolve as resolve_universe
from core.store.runs import run_single_flight

#: merged into the root and into ``quantdesk train|evaluate|predict`` by core.cli
app, train_app, evaluate_app, predict_app = groups()


@train_app.command("forecast")
def train_forecast(
    symbols: Optional[str] = typer.Option(None, "--symbols",
                                          help="Comma-separated tickers (default: bundled)."),
    evaluation: Optional[Path] = typer.Option(
        None, "--evaluation", help="JSON from `evaluate forecast --save` to store with the model."),
    pooled_evaluation: Optional[Path] = typer.Option(
        None, "--pooled-evaluation",
        help="JSON from `evaluate forecast --pooled --save` to store with the model."),
    universe: Optional[str] = typer.Option(
        None, "--universe", help="Train the pooled model over a universe instead: bundled, "
        "sp500, nasdaq100, dow30 or watchlist:OWNER (per-symbol work on the batch engine)."),
    engine: Optional[str] = typer.Option(
        None, "--engine", help="With --universe: ray, serial or auto (default: "
        "QUANTDESK_SCAN_ENGINE, auto)."),
    max_bars: Optional[int] = typer.Option(
        None, "--max-bars", min=500, help="With --universe: each symbol's last N bars only "
        "(default: its whole history)."),
    eval_symbols: int = typer.Option(
        EVAL_SYMBOLS, "--eval-symbols", min=2,
        help="With --universe: held-out symbols of the leave-symbols-out evaluation."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train the forecast ensemble (per symbol and pooled across symbols, horizons 1/5/20
    bars) as a new candidate version (single-flight; promote it to serve it). With
    --universe: the pooled model only, over the universe's symbols, judged on held-out
    symbols beside the random walk."""
    from rich.progress import Progress

    if universe is not None:
        if symbols or evaluation or pooled_evaluation:
            fail(ValueError("--universe trains the pooled model over the universe; it takes "
                            "no --symbols, --evaluation or --pooled-evaluation"))
        _train_universe(universe, engine, max_bars, eval_symbols, as_json)
        return
    if engine is not None or max_bars is not None:
        fail(ValueError("--engine and --max-bars go with --universe"))

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
        pev = json.loads(pooled_evaluation.read_text()) if pooled_evaluation else None
        if isinstance(pev, dict):  # --save format
            pev = pev.get("results")
        if pev is not None and not isinstance(pev, list):
            raise json.JSONDecodeError("expected a list of results", "", 0)
    except (OSError, json.JSONDecodeError) as err:
        fail(ValueError(f"cannot read {pooled_evaluation}: {err}"))
    made = {}

    def trainer(progress=None):
        made["art"] = train(progress=progress, symbols=syms, evaluation=ev,
                            pooled_evaluation=pev)
        return made["art"]

    # single-flight like `models retrain`: takes the training lock (a lease), records the
    # run and registers the result as a candidate; serving starts only after a promote
    with guarded(), Progress() as bar:
        task = bar.add_task("forecast", total=1.0)
        run = run_single_flight(
            FAMILY, trainer, who="cli",
            progress=lambda f, m: bar.update(task, completed=f, description=m[:40]))
    if run.version is None:
        fail(QuantdeskError(f"forecast training failed: {run.error}"))
    art = made["art"]
    typer.echo(f"saved candidate forecast/{art.version} ({art.metadata['train_seconds']} s); "
               f"serve it with `quantdesk models promote forecast {art.version}`")
    for sym, d in art.metadata.get("data", {}).items():  # live, cached or bundled: say which
        typer.echo(f"  {sym}: {d.get('bars', '?')} bars {str(d.get('first', ''))[:10]} .. "
                   f"{str(d.get('last', ''))[:10]} from {d.get('source', '?')}")


def _train_universe(name: str, engine: Optional[str], max_bars: Optional[int],
                    eval_symbols: int, as_json: bool) -> None:
    """``train forecast --universe NAME``: :func:`core.forecasting.universe.train_universe`
    through the single-flight runner (a candidate version, never promoted here)."""
    from rich.console import Console
    from rich.progress import Progress

    made: dict = {}
    with guarded():
        uni = resolve_universe(name)
        choose_engine(engine, len(uni.symbols))  # an unknown engine: refused before the lock

        def trainer(progress=None):
            try:
                made["art"] = train_universe(
                    uni.symbols, universe=uni.name, title=uni.title, list_as_of=uni.as_of,
                    engine=engine, max_bars=max_bars, eval_symbols=eval_symbols,
                    progress=progress)
            except QuantdeskError as err:  # shown as is (e.g. too few symbols have bars)
                made["error"] = err
                raise
            return made["art"]

        # the progress bar goes to stderr so that --json prints JSON only
        with Progress(console=Console(stderr=True)) as bar:
            task = bar.add_task("forecast", total=1.0)
            run = run_single_flight(
                FAMILY, trainer, who="cli",
                progress=lambda f, m: bar.update(task, completed=f, description=m[:40]))
    if run.version is None:
        fail(made.get("error") or QuantdeskError(f"forecast training failed: {run.error}"))
    art = made["art"]
    meta, info = art.metadata, art.metadata["universe"]
    cells = evaluation_cells(meta.get("leave_symbols_out") or [])
    out = {
        "version": art.version, "status": "candidate", "universe": info["name"],
        "title": info["title"], "list_as_of": info["list_as_of"],
        "interval": meta["interval"], "horizons": meta["horizons"], "engine": info["engine"],
        "seconds": info["seconds"], "symbols_total": info["symbols_total"],
        "used": info["used"], "skipped": info["skipped"],
        "data": {s: {k: d[k] for k in ("source", "bars", "first", "last")}
                 for s, d in meta["data"].items()},
        "evaluation": {
            "method": "leave-symbols-out walk-forward: each fold's pooled model trained only "
                      "on the other symbols, refit every step bars, scored beside the "
                      "zero-return random walk on the same unseen bars",
            **info["evaluation"], "skipped": info.get("evaluation_skipped"), "cells": cells},
        "promote": f"quantdesk models promote forecast {art.version}",
    }
    if as_json:
        emit_json(out)
        return
    sec = info["seconds"]
    typer.echo(f"saved candidate forecast/{art.version}: pooled model over {len(info['used'])} "
               f"of {info['symbols_total']} symbols of {info['title']} ({info['engine']}, "
               f"{sec['total']} s: tasks {sec['tasks']} s, fit {sec['fit']} s, evaluation "
               f"{sec['evaluation']} s); serve it with `{out['promote']}`")
    for s in info["skipped"]:
        typer.echo(f"  skipped {s['symbol']}: {s['reason']}")
    if info.get("evaluation_skipped"):
        typer.echo(f"  not evaluated: {info['evaluation_skipped']}")
    for c in cells:
        typer.echo(f"  held out {c['symbol']} h={c['horizon']} (fold {c['fold']}): pooled RMSE "
                   f"ratio {c['rmse_ratio']:.4f} (random walk 1.0000), coverage80 "
                   f"{c['coverage_80']:.1%}. {c['verdict']}")
    if info["evaluation"].get("summary"):
        typer.echo(info["evaluation"]["summary"])


@evaluate_app.command("forecast")
def evaluate_forecast(
    symbol: Optional[str] = typer.Option(None, "--symbol", help="Ticker, e.g. MSFT."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    horizon: Optional[int] = typer.Option(None, "--horizon", help="Bars ahead (default 1, 5, 20)."),
    step: Optional[int] = typer.Option(
        None, "--step", min=1, help="Refit every STEP bars (default 250; 750 with --pooled)."),
    all_symbols: bool = typer.Option(False, "--all", help="Every bundled symbol."),
    pooled: bool = typer.Option(
        False, "--pooled", help="Leave-symbols-out evaluation of the pooled model: train on "
        "four bundled symbols, test walk-forward on the other two, 3 rotating folds."),
    jobs: int = typer.Option(1, "--jobs", help="Processes for --pooled (cells in parallel)."),
    save: Optional[Path] = typer.Option(None, "--save", help="Also write the results as JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk-forward skill of members and ensemble beside the naive random walk (--pooled:
    the pooled model on symbols it never trained on, beside the per-symbol models)."""
    if pooled:
        _evaluate_pooled(horizon, step, jobs, save, as_json)
        return
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
                res = evaluate_symbol(md.frame, md.symbol, h, step=step or 250)
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


def _evaluate_pooled(horizon: Optional[int], step: Optional[int], jobs: int,
                     save: Optional[Path], as_json: bool) -> None:
    """``evaluate forecast --pooled``: :func:`core.forecasting.pooled.evaluate_leave_symbols_out`
    on the bundled history (``source="bundled"``, so the numbers are reproducible)."""
    if horizon is not None and horizon < 1:
        fail(ValueError("--horizon must be >= 1 bar"))
    if step is not None and step < 1:
        fail(ValueError("--step must be >= 1 bar"))
    if jobs < 1:
        fail(ValueError("--jobs must be >= 1"))
    horizons = [horizon] if horizon else list(DAILY_HORIZONS)
    try:
        frames = {s: load_ohlcv(s, "1d", source="bundled", min_bars=300).frame
                  for s in BUNDLED_SYMBOLS}
        results = evaluate_leave_symbols_out(frames, horizons, step=step or POOLED_STEP,
                                             n_jobs=jobs)
    except QuantdeskError as err:
        fail(err)
    if save:
        save.write_text(json.dumps({"results": results}, indent=1, default=str))
    if as_json:
        emit_json(results)
        return
    for r in results:
        ps, pv = r["per_symbol"], r["pooled_vs_symbol"]
        typer.echo(f"fold {r['fold']} {r['symbol']} h={r['horizon']} (trained on "
                   f"{', '.join(r['train_symbols'])}): n_test={r['n_test']} pooled RMSE ratio "
                   f"{r['rmse_ratio']:.4f}, per-symbol {ps['rmse_ratio']:.4f} (random walk "
                   f"1.0000); pooled/per-symbol {pv['rmse_ratio']:.4f} (DM p "
                   f"{pv['dm_pvalue']:.2f}); IC {r['ic']:.3f}; coverage80 "
                   f"{r['coverage_80']:.1%}. {verdict(r)}")


@predict_app.command("forecast")
def predict_forecast(
    symbol: Optional[str] = typer.Option(None, "--symbol", help="Ticker, e.g. MSFT."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Use bars up to this date only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Forecasts for every horizon from the last bar (<= --as-of) with the active model."""
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
