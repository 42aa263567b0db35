"""CLI commands of the strategy lab (mounted by :mod:`core.cli`):

* ``quantdesk backtest --strategy FILE --symbol S [--interval 1d] [--walk-forward]
  [--trades-csv PATH] [--json]``
* ``quantdesk tune --strategy FILE [--symbols AAPL,MSFT,IBM] [--heldout GOOG,^GSPC]
  [--test-start 2009-01-01] [--method grid|qlearning|both] [--budget K] [--seed N]
  [--window BARS] [--json]``
* ``quantdesk context --symbol S [--universe NAME] [--as-of DATE] [--json]``: market context
  beside the symbol (^VIX and its regime, ^GSPC's trend, breadth, liquidity;
  :mod:`core.context`), each with the date of the data it used

Both print buy-and-hold beside the strategy, every time. Bad input (a missing or invalid
strategy file, an unknown signal or symbol) exits 2 with a plain message. Tuning runs as a
single-flight ``tuning`` job (:func:`core.strategy.qtuner.run_tuning_job`, the lock
retraining uses): a second one while it runs is refused with a plain message, exit 2.
"""

from __future__ import annotations

import math
from pathlib import Path

import typer

from core.cliutil import emit_json, fail, groups, guarded, load_market
from core.context import context_lines, market_context
from core.data import parse_date
from core.errors import QuantdeskError
from core.strategy.backtest import backtest, walk_forward_backtest
from core.strategy.qtuner import (
    DEFAULT_WINDOW,
    METHOD_LABELS,
    QSettings,
    compare_methods,
    jsonable,
    qlearning_tune,
    qlearning_verdict,
    run_tuning_job,
)
from core.strategy.spec import load_strategy
from core.strategy.tune import grid_configs, grid_search, verdict

#: merged into the root and into ``quantdesk train|evaluate|predict`` by core.cli
app, train_app, evaluate_app, predict_app = groups()

_ROWS = (("total_return", "Total return [%]", 100, ".1f"), ("cagr", "CAGR [%]", 100, ".2f"),
         ("ann_vol", "Volatility [% ann.]", 100, ".1f"), ("sharpe", "Sharpe", 1, ".2f"),
         ("sortino", "Sortino", 1, ".2f"), ("max_drawdown", "Max drawdown [%]", 100, ".1f"),
         ("calmar", "Calmar", 1, ".2f"), ("n_trades", "Trades", 1, ".0f"),
         ("hit_rate", "Hit rate [%]", 100, ".1f"), ("turnover", "Turnover [x/yr]", 1, ".1f"),
         ("exposure", "Exposure [% bars]", 100, ".1f"))


def _fmt(v, scale: float, spec: str) -> str:
    if v is None or math.isnan(v):
        return "–"
    return format(v * scale, spec)


def metrics_table(strategy: dict, bench: dict) -> str:
    """Strategy beside buy-and-hold, one metric a line (Sharpe with its 95% CI)."""
    lines = [f"{'':<22}{'strategy':>22}{'buy & hold':>14}"]
    for key, label, scale, spec in _ROWS:
        s = _fmt(strategy.get(key), scale, spec)
        if key == "sharpe" and strategy.get("sharpe_lo") == strategy.get("sharpe_lo"):
            s += f" ({_fmt(strategy['sharpe_lo'], 1, '.2f')}..{_fmt(strategy['sharpe_hi'], 1, '.2f')})"
        b = _fmt(bench.get(key), scale, spec) if key not in ("n_trades", "hit_rate") else "–"
        lines.append(f"{label:<22}{s:>22}{b:>14}")
    return "\n".join(lines)


def _trades_json(trades) -> list[dict]:
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else
                 (int(v) if k in ("side", "bars_held") else v if isinstance(v, str) else float(v)))
             for k, v in row.items()} for row in trades.to_dict("records")]


@app.command("backtest")
def backtest_cmd(
    strategy: Path = typer.Option(..., "--strategy", help="Strategy file (.toml or .json), "
                                  "e.g. strategies/rsi_reversal.toml."),
    symbol: str | None = typer.Option(None, "--symbol", help="Ticker, e.g. MSFT or ^GSPC."),
    interval: str = typer.Option("1d", "--interval", help="Bar interval (yfinance style)."),
    start: str | None = typer.Option(None, "--start", help="First date, YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--end", help="Last date (inclusive), YYYY-MM-DD."),
    csv: Path | None = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    walk_forward: bool = typer.Option(False, "--walk-forward", help="Walk-forward: re-pick the "
                                      "[tune] grid's best configuration on each training window "
                                      "and trade it on the next year only."),
    trades_csv: Path | None = typer.Option(None, "--trades-csv", help="Write the trades here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Backtest a strategy file on one symbol, after costs, beside buy-and-hold."""
    try:
        spec = load_strategy(strategy)
        if symbol is None and csv is None:
            raise QuantdeskError("Name a symbol with --symbol (e.g. --symbol MSFT) or bars with --csv.")
        for d, what in ((start, "--start"), (end, "--end")):
            if d is not None:
                parse_date(d, what)
        md = load_market(symbol, csv, interval, start, end)
        if walk_forward:
            res = walk_forward_backtest(md.frame, spec, interval=md.interval,
                                        grid=grid_configs(spec))
        else:
            res = backtest(md.frame, spec, interval=md.interval)
        if trades_csv is not None:
            res.trades.to_csv(trades_csv, index=False)
    except (QuantdeskError, ValueError, OSError) as err:
        fail(err)
    f = md.frame
    out = {"symbol": md.symbol, "interval": md.interval, "source": md.source,
           "strategy": spec.name, "file": str(strategy), "side": spec.side,
           "mode": "walk-forward" if walk_forward else "full history",
           "first": str(res.equity.index[0].date()), "last": str(res.equity.index[-1].date()),
           "bars": len(res.equity), "costs_bp": spec.costs.model_dump(),
           "metrics": res.metrics, "buy_and_hold": res.benchmark_metrics,
           "trades": _trades_json(res.trades), "notes": md.notes}
    if walk_forward:
        out["folds"] = res.folds
        out["n_configs"] = res.n_configs
    else:
        out["params"] = res.params
    if as_json:
        emit_json(out)
        return
    typer.echo(md.status_line)
    typer.echo(f"{spec.name} ({spec.side}) on {md.symbol}, {out['mode']}, "
               f"{out['first']} .. {out['last']} ({len(res.equity):,} bars of {len(f):,}); "
               f"costs per fill: {spec.costs.commission_bp:g} bp commission + "
               f"{spec.costs.fill_bp:g} bp spread/slippage")
    typer.echo(metrics_table(res.metrics, res.benchmark_metrics))
    if walk_forward:
        typer.echo(f"{res.n_configs} configuration(s) tried on each training window; "
                   f"{len(res.folds)} test folds.")
    if trades_csv is not None:
        typer.echo(f"trades written to {trades_csv}")


def _symbols(text: str) -> list[str]:
    return [s.strip().upper() for s in text.split(",") if s.strip()]


TUNE_METHODS = ("grid", "qlearning", "both")


@app.command("tune")
def tune_cmd(
    strategy: Path = typer.Option(..., "--strategy", help="Strategy file with a [tune] grid."),
    symbols: str = typer.Option("AAPL,MSFT,IBM", "--symbols",
                                help="Training symbols, comma-separated."),
    heldout: str = typer.Option("GOOG,^GSPC", "--heldout",
                                help="Held-out symbols (judged only), comma-separated; '' for none."),
    test_start: str = typer.Option("2009-01-01", "--test-start",
                                   help="First date of the held-out years, YYYY-MM-DD."),
    interval: str = typer.Option("1d", "--interval", help="Bar interval (yfinance style)."),
    method: str = typer.Option("grid", "--method", help="grid (the whole [tune] grid), "
                               "qlearning (the Q-learning tuner) or both (untuned file vs grid "
                               "vs Q-learning with the same budget, beside buy-and-hold)."),
    budget: int | None = typer.Option(None, "--budget", min=1, help="Q-learning / both: "
                                      "budget in grid configurations (each one backtested over "
                                      "every training bar); Q-learning gets as many bars. "
                                      "Default: the whole grid."),
    seed: int = typer.Option(0, "--seed", help="Seed of the exploration (and of the grid "
                             "subset when --budget is below the grid's size)."),
    window: int = typer.Option(DEFAULT_WINDOW, "--window", min=10, max=2000,
                               help="Q-learning: bars per decision window."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Tune a strategy's [tune] grid before --test-start and judge it on later years and
    held-out symbols beside the untuned file and buy-and-hold, with the deflated Sharpe and
    the probability of backtest overfitting. --method qlearning trains the Q-learning tuner;
    --method both compares the untuned file, the grid and Q-learning with the same budget."""
    try:
        if method not in TUNE_METHODS:
            raise QuantdeskError(f"--method must be one of {', '.join(TUNE_METHODS)}; "
                                 f"got {method!r}.")
        spec = load_strategy(strategy)
        train, held = _symbols(symbols), _symbols(heldout)
        if not train:
            raise QuantdeskError("Name at least one training symbol with --symbols.")
        ts = parse_date(test_start, "--test-start")
        frames, sources = {}, {}
        for s in dict.fromkeys([*train, *held]):
            md = load_market(s, None, interval)
            frames[md.symbol], sources[md.symbol] = md.frame, md.source
        settings = QSettings(window=window, seed=seed)

        def work(progress=None):
            if method == "grid":
                return grid_search(frames, spec, train_symbols=train, heldout_symbols=held,
                                   test_start=ts, interval=interval)
            fn = qlearning_tune if method == "qlearning" else compare_methods
            return fn(frames, spec, train_symbols=train, heldout_symbols=held, test_start=ts,
                      interval=interval, budget=budget, settings=settings, progress=progress)

        def echo_progress(frac: float, msg: str) -> None:
            typer.echo(f"  [{frac:4.0%}] {msg}", err=True)

        with guarded():  # another tuning job or a retrain is running, or a store fault
            res = run_tuning_job(work, who="cli", progress=None if as_json else echo_progress,
                                 label=method)
    except (QuantdeskError, ValueError) as err:
        fail(err)
    res["sources"] = sources
    if method == "grid":
        res["verdict"] = verdict(res)
    elif method == "qlearning":
        res["verdict"] = qlearning_verdict(res)
    if as_json:
        emit_json(jsonable(res))
        return
    if method == "both":
        _print_comparison(res)
    elif method == "qlearning":
        _print_qlearning(spec, res)
    else:
        _print_grid(spec, res)


def _print_grid(spec, res: dict) -> None:
    t = res["train"]
    typer.echo(f"{spec.name}: {res['n_configs']} configurations tried on "
               f"{', '.join(t['symbols'])} up to {t['end']} ({t['bars']:,} bars)")
    typer.echo(f"best: {res['best_params'] or '(the file as written)'}  training Sharpe "
               f"{t['sharpe']:.2f} (expected best of {res['n_configs']} unskilled: "
               f"{t['expected_max_sharpe']:.2f})")
    pbo = "n/a" if res["pbo"] is None else f"{res['pbo']:.2f}"
    typer.echo(f"deflated Sharpe {res['deflated_sharpe']:.2f}  PSR {res['psr']:.2f}  "
               f"PBO {pbo}")
    typer.echo(f"held-out years from {res['test_start']} (* = held-out symbol); Sharpe "
               "(– = no trades):")
    typer.echo(f"{'symbol':<10}{'bars':>6}{'tuned':>9}{'trades':>8}{'untuned':>9}{'trades':>8}"
               f"{'buy & hold':>12}")
    for row in res["test"]:
        name = row["symbol"] + ("*" if row["heldout_symbol"] else "")
        typer.echo(f"{name:<10}{row['bars']:>6}{_fmt(row['tuned']['sharpe'], 1, '.2f'):>9}"
                   f"{row['tuned']['n_trades']:>8}{_fmt(row['untuned']['sharpe'], 1, '.2f'):>9}"
                   f"{row['untuned']['n_trades']:>8}"
                   f"{_fmt(row['buy_and_hold']['sharpe'], 1, '.2f'):>12}")
    typer.echo(res["verdict"])


def _print_qlearning(spec, res: dict) -> None:
    t = res["train"]
    typer.echo(f"{spec.name}: Q-learning on {', '.join(t['symbols'])} up to {t['end']}: "
               f"{t['episodes']} episodes, {t['evaluations']:,} window backtests "
               f"({t['distinct_backtests']:,} distinct), {res['n_configs']} configurations tried")
    typer.echo(f"starts at {res['start_params']}; greedy policy ends training at "
               f"{res['final_params']}; its training Sharpe {_fmt(t['sharpe'], 1, '.2f')}")
    pbo = "n/a" if res["pbo"] is None else f"{res['pbo']:.2f}"
    typer.echo(f"deflated Sharpe {_fmt(res['deflated_sharpe'], 1, '.2f')}  PSR "
               f"{_fmt(res['psr'], 1, '.2f')}  PBO {pbo}")
    typer.echo(f"held-out years from {res['test_start']} (* = held-out symbol); Sharpe:")
    typer.echo(f"{'symbol':<10}{'bars':>6}{'Q policy':>10}{'changes':>9}{'buy & hold':>12}")
    for row in res["test"]:
        name = row["symbol"] + ("*" if row["heldout_symbol"] else "")
        typer.echo(f"{name:<10}{row['bars']:>6}{_fmt(row['tuned']['sharpe'], 1, '.2f'):>10}"
                   f"{row['changes']:>9}{_fmt(row['buy_and_hold']['sharpe'], 1, '.2f'):>12}")
    typer.echo(res["verdict"])


def _print_comparison(res: dict) -> None:
    b = res["budget"]
    typer.echo(f"{res['strategy']}: untuned file vs grid search vs Q-learning, trained on "
               f"{', '.join(res['train_symbols'])} before {res['test_start']}; same budget: "
               f"{b['configs']} configuration(s) x training bars = {b['grid_bars']:,} bars "
               f"(grid) and {b['qlearning_bars']:,} (Q-learning, {b['qlearning_episodes']} "
               "episodes)")
    typer.echo(f"{'method':<15}{'tried':>6}{'deflated SR':>12}{'PBO':>6}"
               f"{'test Sharpe (95% CI)':>24}{'mean per symbol':>17}")
    for c in res["comparison"]:
        ci = (f"{_fmt(c['test_sharpe'], 1, '.2f')} ({_fmt(c['test_sharpe_lo'], 1, '.2f')}.."
              f"{_fmt(c['test_sharpe_hi'], 1, '.2f')})")
        tried = "–" if c["configs_tried"] is None else str(c["configs_tried"])
        pbo = "–" if c["pbo"] is None else f"{c['pbo']:.2f}"
        typer.echo(f"{METHOD_LABELS[c['method']]:<15}{tried:>6}"
                   f"{_fmt(c['deflated_sharpe'], 1, '.2f'):>12}{pbo:>6}{ci:>24}"
                   f"{_fmt(c['mean_test_sharpe'], 1, '.2f'):>17}")
    typer.echo("Q-learning's test windows each start flat (a parameter change closes the "
               "position); the others run straight through the test bars.")
    typer.echo(res["verdict"])


@app.command("context")
def context_cmd(
    symbol: str = typer.Option(..., "--symbol", help="Ticker, e.g. MSFT or ^GSPC."),
    universe: str = typer.Option("bundled", "--universe", help="Universe whose breadth is "
                                 "measured: bundled, sp500, nasdaq100, dow30 or "
                                 "watchlist:OWNER (an index loads every member's daily bars)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date, YYYY-MM-DD: the symbol's "
                                     "last bar on or before it (default: its last bar)."),
    interval: str = typer.Option("1d", "--interval", help="Bar interval of the symbol."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Market context beside a symbol as of one bar, from bars at or before it only: ^VIX
    and its regime against its previous 5 years, ^GSPC against its 50/200-bar averages, the
    universe's share above its 50-bar average, and the symbol's Amihud illiquidity and
    median dollar volume. Each reading names the date of the data it used; offline the
    bundled history serves (^VIX 2014-01-03 .. 2019-01-03, never carried forward)."""
    try:
        if as_of is not None:
            parse_date(as_of, "--as-of")
        md = load_market(symbol, None, interval)
        ctx = market_context(md.symbol, md.frame, interval=md.interval, universe=universe,
                             as_of=as_of, data_source=md.source, fallback=md.fallback)
    except (QuantdeskError, ValueError) as err:
        fail(err)
    if as_json:
        emit_json(ctx)
        return
    for line in context_lines(ctx):
        typer.echo(line)
