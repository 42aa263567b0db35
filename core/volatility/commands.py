"""CLI commands of the volatility domain (mounted by :mod:`core.cli`):

* ``quantdesk evaluate volatility --symbol ^GSPC [--csv PATH] [--horizon 1] [--json]``
* ``quantdesk train volatility``
* ``quantdesk predict volatility --symbol MSFT [--csv PATH] [--json]``
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from core.cliutil import emit_json, fail, groups, load_market
from core.errors import QuantdeskError
from core.volatility.evaluate import MODEL_LABELS, evaluate
from core.volatility.serve import predict_latest
from core.volatility.train import train

#: merged into the root and into ``quantdesk train|evaluate|predict`` by core.cli
app, train_app, evaluate_app, predict_app = groups()


def evaluation_json(res: dict, horizon: int) -> dict:
    """Flatten one horizon of :func:`core.volatility.evaluate.evaluate` into the CLI keys:
    symbol, horizon, n_test, models{qlike, mse, mz_r2, qlike_ratio, dm_pvalue_vs_garch},
    dm_pvalue_vs_garch{model}, mcs_members, interval_coverage, best, range_target."""
    p = res["results"][horizon]["primary"]
    rng = res["results"][horizon]["range"]
    return {
        "symbol": res["symbol"], "horizon": horizon, "n_test": p["n_test"],
        "test_start": p["test_start"], "test_end": p["test_end"],
        "target": "sum of squared close-to-close log returns over the horizon",
        "baseline": "garch",
        "models": {m: {k: v[k] for k in ("qlike", "mse", "mz_r2", "qlike_ratio",
                                         "dm_pvalue_vs_garch")} for m, v in p["models"].items()},
        "dm_pvalue_vs_garch": {m: v["dm_pvalue_vs_garch"] for m, v in p["models"].items()
                               if m != "garch"},
        "mcs_members": p["mcs_members"], "best": p["best"],
        "interval_coverage": p["interval"],
        "range_target": {"target": "sum of Parkinson range variances over the horizon",
                         "models": {m: {"qlike": v["qlike"], "qlike_ratio": v["qlike_ratio"]}
                                    for m, v in rng["models"].items()},
                         "mcs_members": rng["mcs_members"]},
        "n_refits": res["n_refits"],
    }


def _table(j: dict) -> str:

    lines = [f"{j['symbol']} h={j['horizon']}  test {j['test_start']}..{j['test_end']}  "
             f"n={j['n_test']}  (baseline: GARCH(1,1)-normal; * = in the 90% MCS)",
             f"{'model':<28}{'QLIKE':>9}{'vs GARCH':>10}{'MSE':>12}{'MZ R2':>8}{'DM p':>8}"]
    for m, v in j["models"].items():
        star = "*" if m in j["mcs_members"] else " "
        p = v["dm_pvalue_vs_garch"]
        lines.append(f"{star}{MODEL_LABELS[m]:<27}{v['qlike']:>9.4f}{v['qlike_ratio']:>10.3f}"
                     f"{v['mse']:>12.3e}{v['mz_r2']:>8.3f}{'' if p != p else f'{p:.3f}':>8}")
    c = j["interval_coverage"]
    lines.append(f"ML 80% interval coverage: {c['coverage']:.3f} (below {c['below']:.3f}, "
                 f"above {c['above']:.3f})")
    return "\n".join(lines)


@evaluate_app.command("volatility")
def evaluate_volatility(
    symbol: Optional[str] = typer.Option(None, "--symbol",
        help="Ticker, e.g. ^GSPC (default ^GSPC; with --csv, the file name)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    horizon: int = typer.Option(1, "--horizon", help="Bars ahead (1, 5, 21...)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Rolling out-of-sample evaluation of EWMA, GARCH, GJR, HAR and ML beside GARCH(1,1)."""
    try:
        if horizon < 1:
            raise ValueError("--horizon must be >= 1 bar")
        md = load_market(symbol, csv, default="^GSPC")
        res = evaluate(md.frame, md.symbol, (horizon,))
    except (QuantdeskError, ValueError) as err:
        fail(err)
    j = evaluation_json(res, horizon)
    if as_json:
        emit_json(j)
    else:
        typer.echo(_table(j))


@train_app.command("volatility")
def train_volatility() -> None:
    """Evaluate and fit the volatility family on every bundled symbol; save a new version."""
    try:
        art = train(progress=lambda f, m: typer.echo(f"[{f:4.0%}] {m}"))
    except QuantdeskError as err:
        fail(err)
    typer.echo(f"saved volatility/{art.version}")


@predict_app.command("volatility")
def predict_volatility(
    symbol: Optional[str] = typer.Option(None, "--symbol",
        help="Ticker (default ^GSPC; with --csv, the file name)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Variance / annualised vol forecasts for h = 1, 5, 21 at the latest bar."""
    try:
        md = load_market(symbol, csv, default="^GSPC")
        preds = predict_latest(md)
    except QuantdeskError as err:
        fail(err)
    rows = [p.to_dict() for p in preds]
    if as_json:
        emit_json(rows)
        return
    for p in preds:
        lo = "" if p.lower is None else (f"  80%: [{(p.lower * 252 / p.horizon) ** .5:.1%}, "
                                          f"{(p.upper * 252 / p.horizon) ** .5:.1%}]")
        typer.echo(f"{p.symbol} h={p.horizon}: {p.output['best_model']} variance {p.value:.3e} "
                   f"= {p.output['vol_ann']:.1%} ann.{lo}  regime {p.output['regime']}")
