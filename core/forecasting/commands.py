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
) -> None:
    """Train the forecast ensemble (per symbol and pooled across symbols, horizons 1/5/20
    bars) as a new candidate version (single-flight; promote it to serve it)."""
    from rich.progress import Progress


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
