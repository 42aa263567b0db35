"""CLI: ``quantdesk evaluate risk``, ``quantdesk size``, ``quantdesk train risk``,
``quantdesk predict risk``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from core.cliutil import emit_json, fail, groups, guarded, load_market
from core.errors import QuantdeskError
from core.registry import read_metadata
from core.risk import dqn, signal_quality
from core.risk.evaluate import beats_vol_target, evaluate_policies, heldout_evaluation
from core.risk.serve import latest_predictions
from core.risk.sizing import RiskParameters, size_position, summary_frame
from core.risk.train import train_dqn, train_signal_quality
from core.risk.var import var_frame
from core.store.runs import run_single_flight

#: merged into the root and into ``quantdesk train|evaluate|predict`` by core.cli
app, train_app, evaluate_app, predict_app = groups()


@evaluate_app.command("risk")
def evaluate_risk(
    symbol: Optional[str] = typer.Option(None, "--symbol",
        help="Ticker (bundled or Yahoo) (default MSFT; with --csv, the file name)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV."),
    target_vol: float = typer.Option(0.15, "--target-vol", help="Annualised target [fraction]."),
    cost_bp: float = typer.Option(5.0, "--cost-bp", help="Cost per unit turnover [bp]."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk-forward backtest of sizing policies (fixed 100% = baseline, vol targeting, DQN)."""
    try:
        md = load_market(symbol, csv, default="MSFT", min_bars=300)
        policies, notes = evaluate_policies(md.frame, target_vol, cost_bp)
    except QuantdeskError as err:
        fail(err)
    out = {"symbol": md.symbol, "first": md.frame.index[0].date().isoformat(),
           "last": md.frame.index[-1].date().isoformat(), "cost_bp": cost_bp,
           "target_vol": target_vol, "baseline": "fixed", "policies": policies,
           "vol_reduction_vs_fixed": {p: v.get("vol_reduction_vs_fixed")
                                      for p, v in policies.items()},
           "notes": notes}
    if as_json:
        emit_json(out)
        return
    typer.echo(f"{md.symbol} {out['first']}..{out['last']}  costs {cost_bp:g} bp  "
               f"(baseline: fixed 100%)")
    typer.echo(f"{'policy':<17}{'ann_ret%':>9}{'ann_vol%':>9}{'sharpe':>8}{'sortino':>8}"
               f"{'maxDD%':>8}{'calmar':>8}{'turnover':>9}{'vol_red%':>9}")
    for p, m in policies.items():
        typer.echo(f"{p:<17}{m['ann_return'] * 100:9.2f}{m['ann_vol'] * 100:9.2f}"
                   f"{m['sharpe']:8.2f}{m['sortino']:8.2f}{m['max_drawdown'] * 100:8.1f}"
                   f"{m['calmar']:8.2f}{m['turnover']:9.1f}"
                   f"{m['vol_reduction_vs_fixed'] * 100:9.1f}")
    for n in notes:
        typer.echo("note: " + n)


@app.command("size")
def size(
    symbol: str = typer.Option(..., "--symbol", help="Ticker (bundled or Yahoo)."),
    equity: float = typer.Option(..., "--equity", help="Account equity [currency]."),
    risk_pct: float = typer.Option(..., "--risk-pct", help="Loss at the stop [% equity]."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV."),
    cash: Optional[float] = typer.Option(None, "--cash", help="Available cash (default equity)."),
    entry: Optional[float] = typer.Option(None, "--entry", help="Entry price (default last close)."),
    direction: str = typer.Option("long", "--direction", help="long or short."),
    stop_method: str = typer.Option("atr", "--stop-method", help="atr or volatility."),
    atr_multiple: float = typer.Option(2.0, "--atr-multiple"),
    r_multiple: float = typer.Option(2.0, "--r-multiple", help="Take profit at this many R."),
    horizon: int = typer.Option(10, "--horizon", help="Holding horizon [bars]."),
    target_vol: float = typer.Option(0.15, "--target-vol", help="Annualised [fraction]."),
    max_leverage: float = typer.Option(1.0, "--max-leverage"),
    win_prob: Optional[float] = typer.Option(None, "--win-prob", help="Kelly p (else history)."),
    payoff: Optional[float] = typer.Option(None, "--payoff", help="Kelly b (else history)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Position size, stop, take profit, Kelly and VaR/CVaR for one trade on the last bar."""
    try:
        md = load_market(symbol, csv, default="MSFT", min_bars=60)
        params = RiskParameters(equity=equity, risk_pct=risk_pct, cash=cash, entry=entry,
                                direction=direction, stop_method=stop_method,
                                atr_multiple=atr_multiple, r_multiple=r_multiple,
                                horizon=horizon, target_vol=target_vol,
                                max_leverage=max_leverage, win_prob=win_prob,
                                payoff_ratio=payoff)
        res = size_position(md.frame, params, md.symbol, md.interval)
    except QuantdeskError as err:
        fail(err)
    if as_json:
        d = res.to_dict()
        d["as_of"] = md.frame.index[-1].isoformat()
        emit_json(d)
        return
    typer.echo(md.status_line)
    typer.echo(summary_frame(res, equity).to_string(index=False))
    typer.echo(var_frame(res.var, res.position_value, equity).to_string(
        index=False, float_format=lambda v: f"{v:,.2f}"))
    for n in res.notes:
        typer.echo("note: " + n)


@train_app.command("risk")
def train_risk(
    only: Optional[str] = typer.Option(None, "--only", help="risk-dqn or signal-quality."),
) -> None:
    """Train the DQN exposure agent (risk-dqn) and the signal-quality scorer.

    Each run holds the training lock and registers a *candidate* version (promotion is a
    separate step on the Admin page / ``quantdesk models``)."""
    trainers = {dqn.FAMILY: train_dqn, signal_quality.FAMILY: train_signal_quality}
    fams = [only] if only else list(trainers)
    for fam in fams:
        if fam not in trainers:
            fail(QuantdeskError(f"Unknown family {fam!r}; use risk-dqn or signal-quality."))
        with guarded():  # lock held elsewhere, or a store fault: a message, exit 2
            run = run_single_flight(
                fam, trainers[fam], who="cli",
                progress=lambda p, m: typer.echo(f"  [{p:4.0%}] {m}", err=True))
        if run.version is None:
            fail(QuantdeskError(f"{fam} training failed: {run.error}"))
        meta = read_metadata(fam, run.version)
        typer.echo(f"{fam}: saved candidate {fam}/{run.version}")
        if fam == "risk-dqn":
            typer.echo("  beats vol targeting on held-out symbols: "
                       f"{meta['beats_vol_target']}")
        else:
            wf = meta["walk_forward"]
            typer.echo(f"  walk-forward AUC {wf['auc']:.3f}, Brier {wf['brier']:.4f} vs "
                       f"base-rate {wf['brier_base']:.4f}")


@predict_app.command("risk")
def predict_risk(
    symbol: Optional[str] = typer.Option(None, "--symbol",
        help="Ticker (default MSFT; with --csv, the file name)."),
    csv: Optional[Path] = typer.Option(None, "--csv"),
) -> None:
    """Latest-bar signal-quality probability and DQN exposure as Prediction JSON."""
    try:
        md = load_market(symbol, csv, default="MSFT", min_bars=300)
    except QuantdeskError as err:
        fail(err)
    emit_json([p.to_dict() for p in latest_predictions(md.frame, md.symbol, md.interval)])


@evaluate_app.command("risk-heldout")
def evaluate_risk_heldout(
    markdown: bool = typer.Option(False, "--markdown", help="Print a markdown table."),
) -> None:
    """Policy table per held-out symbol (IBM, GOOG, ^IXIC from 2008) with the active DQN."""
    try:
        agent, meta = dqn.load_agent()
        table = heldout_evaluation(agent, meta.get("heldout_symbols", dqn.HELDOUT_SYMBOLS),
                                       meta.get("test_start", dqn.TEST_START))
    except QuantdeskError as err:
        fail(err)
    verdict = beats_vol_target(table)
    if not markdown:
        emit_json({"version": meta.get("version"), "beats_vol_target": verdict,
                   "rows": json_rows(table)})
        return
    typer.echo("| symbol | policy | ann. return [%] | ann. vol [%] | Sharpe | Sortino | "
               "max DD [%] | Calmar | turnover [x/yr] | vol cut vs fixed [%] |")
    typer.echo("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for _, r in table.iterrows():
        typer.echo(f"| {r['symbol']} | {r['policy']} | {r['ann_return'] * 100:.2f} | "
                   f"{r['ann_vol'] * 100:.2f} | {r['sharpe']:.2f} | {r['sortino']:.2f} | "
                   f"{r['max_drawdown'] * 100:.1f} | {r['calmar']:.2f} | {r['turnover']:.1f} | "
                   f"{r['vol_reduction_vs_fixed'] * 100:.1f} |")
    m = table.groupby("policy")[["sharpe", "calmar"]].mean()
    typer.echo("")
    typer.echo("Mean over held-out symbols: " + "; ".join(
        f"{p} Sharpe {r['sharpe']:.2f} Calmar {r['calmar']:.2f}" for p, r in m.iterrows()))
    typer.echo(f"DQN beats vol targeting (cap 1x): {verdict}")


def json_rows(table) -> list[dict]:
    import json as _json

    return _json.loads(table.to_json(orient="records"))
