"""CLI: ``quantdesk patterns``, ``evaluate patterns|breakout``, ``train patterns|breakout``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from core.cliutil import emit_json, fail, groups, load_market
from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.errors import QuantdeskError
from core.patterns import cnn as C
from core.patterns.breakout_model import pooled_dataset, score, walk_forward
from core.patterns.breakouts import random_entry_rate
from core.patterns.rules import pooled_agreement
from core.patterns.serve import detections
from core.patterns.train import train_breakout, train_patterns
from core.registry import read_metadata

#: merged into the root and into ``quantdesk train|evaluate|predict`` by core.cli
app, train_app, evaluate_app, predict_app = groups()


def _echo_progress(frac: float, msg: str) -> None:
    typer.echo(f"[{frac:5.0%}] {msg}", err=True)


@app.command("patterns")
def patterns_cmd(
    symbol: Optional[str] = typer.Option(None, "--symbol",
        help="Ticker, e.g. MSFT or ^GSPC (default MSFT; with --csv, the file name)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    tail: int = typer.Option(250, "--tail", help="Only detections in the last N bars."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List pattern detections: timestamp, pattern, direction, rule hit, CNN probability."""
    try:
        md = load_market(symbol, csv, default="MSFT", min_bars=20)
        try:
            from core.patterns.cnn import load_cnn

            cnn, version = load_cnn()
        except QuantdeskError as err:
            cnn, version = None, f"unavailable ({err})"
        det = detections(md.frame, cnn, tail=tail)
    except QuantdeskError as err:
        fail(err)
    rows = [{"timestamp": r.timestamp.isoformat(), "pattern": r.pattern,
             "direction": r.direction, "rule_hit": bool(r.rule_hit),
             "cnn_probability": None if r.cnn_probability != r.cnn_probability
             else round(float(r.cnn_probability), 4), "cnn_hit": bool(r.cnn_hit)}
            for r in det.itertuples()]
    if as_json:
        emit_json({"symbol": md.symbol, "interval": md.interval, "bars": min(tail, len(md.frame)),
                   "cnn_version": version, "detections": rows})
        return
    typer.echo(f"{md.status_line} · CNN {version}")
    for r in rows:
        p = "   –" if r["cnn_probability"] is None else f"{r['cnn_probability']:.2f}"
        typer.echo(f"{r['timestamp'][:10]}  {r['pattern']:<22} {r['direction']:<8} "
                   f"rule={'yes' if r['rule_hit'] else 'no ':<3}  cnn={p}")


@evaluate_app.command("patterns")
def evaluate_patterns(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """CNN vs rule labels on the held-out symbols (per-pattern precision/recall/F1, macro-F1)."""
    try:
        model, version = C.load_cnn()
        Xt, Yt = C.dataset(C.TEST_SYMBOLS)
        ev = C.per_pattern_scores(Yt, model.predict(Xt))
        trained = read_metadata(C.FAMILY, version).get("evaluation", {})
        agree = pooled_agreement()
    except QuantdeskError as err:
        fail(err)
    ev["talib_agreement"] = {
        p: {k: (None if v != v else (int(v) if k in ("ours", "talib", "both") else round(v, 4)))
            for k, v in row.items()} for p, row in agree.to_dict(orient="index").items()}
    ev["training"] = {k: trained.get(k) for k in (
        "train_symbols", "validation", "valid_macro_f1", "n_train_windows", "n_valid_windows",
        "epochs", "best_epoch", "final_train_loss", "mirror")}
    ev.update({"model_version": version, "test_symbols": list(C.TEST_SYMBOLS),
               "baseline": "the rule detectors themselves are the reference labels "
                           "(rules score F1 = 1 by definition)",
               "target_macro_f1": 0.85, "meets_target": ev["macro_f1_gated"] >= 0.85})
    if as_json:
        emit_json(ev)
        return
    typer.echo(f"patterns-cnn {version} on held-out {', '.join(C.TEST_SYMBOLS)} (reference: rules)")
    for r in ev["patterns"]:
        typer.echo(f"  {r['pattern']:<22} cases {r['cases']:>5}  P {r['precision']:.2f}  "
                   f"R {r['recall']:.2f}  F1 {r['f1']:.2f}{'' if r['gated'] else '  (<30 cases)'}")
    typer.echo(f"macro-F1 on {ev['n_gated']} patterns with >= 30 cases: "
               f"{ev['macro_f1_gated']:.3f} (target 0.85: "
               f"{'met' if ev['meets_target'] else 'NOT met'})")


@evaluate_app.command("breakout")
def evaluate_breakout(
    symbol: Optional[str] = typer.Option(None, "--symbol",
        help="Ticker to score (walk-forward) (default MSFT; with --csv, the file name)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Read bars from this CSV instead."),
    kind: str = typer.Option("mlp_svm", "--model", help="mlp_svm (default) or logit."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk-forward breakout filter vs taking every breakout and vs the base-rate forecast.

    Training folds use every bundled symbol's earlier breakouts (plus SYMBOL's own); only
    SYMBOL's breakouts are scored.
    """
    try:
        md = load_market(symbol, csv, default="MSFT", min_bars=60)
        frames = {s: load_ohlcv(s).frame for s in BUNDLED_SYMBOLS if s != md.symbol}
        frames[md.symbol] = md.frame
        data = pooled_dataset(symbols=[], frames=frames)
        scored = walk_forward(data, kind, test_symbols=[md.symbol])
        res = score(scored)
        rand = random_entry_rate(md.frame)
    except QuantdeskError as err:
        fail(err)
    except ValueError as err:  # e.g. one class only in a tiny CSV
        fail(err)
    res.update({"symbol": md.symbol, "model": kind, "random_entry_success": rand,
                "baseline_all_breakouts_success": res["success_rate_all"],
                "verdict": "skill" if res["skill"] else
                "no skill: the filter does not beat the base-rate forecast out of sample"})
    if as_json:
        emit_json(res)
        return
    typer.echo(f"{md.symbol}: {res['n_events']} walk-forward breakouts")
    typer.echo(f"  all breakouts (rule baseline) success {res['success_rate_all']:.1%}; "
               f"random entries up {rand['up']:.1%} / down {rand['down']:.1%}")
    typer.echo(f"  model-selected ({res['n_selected']}) success {res['success_rate_selected']:.1%}"
               f"  recall {res['recall']:.1%}")
    typer.echo(f"  Brier {res['brier']:.4f} vs base rate {res['brier_base_rate']:.4f} "
               f"(skill {res['brier_skill']:+.3f});  AUC {res['auc']:.3f} "
               f"[{res['auc_ci95'][0]:.3f}, {res['auc_ci95'][1]:.3f}]")
    typer.echo(f"  verdict: {res['verdict']}")


@train_app.command("patterns")
def train_patterns_cmd(epochs: int = typer.Option(12, "--epochs", help="Training epochs.")) -> None:
    """Train the pattern CNN on rule labels (CPU) and save a new ``patterns-cnn`` version."""
    try:
        art = train_patterns(_echo_progress, epochs=epochs)
    except QuantdeskError as err:
        fail(err)
    ev = art.metadata["evaluation"]
    typer.echo(f"patterns-cnn/{art.version}: held-out macro-F1 {ev['macro_f1_gated']:.3f} on "
               f"{ev['n_gated']} patterns with >= 30 cases")


@train_app.command("breakout")
def train_breakout_cmd() -> None:
    """Walk-forward evaluate and train the breakout classifier; save a ``breakout`` version."""
    try:
        art = train_breakout(_echo_progress)
    except QuantdeskError as err:
        fail(err)
    m = art.metadata["metrics"]
    typer.echo(f"breakout/{art.version}: walk-forward AUC {m['auc']:.3f}, Brier skill "
               f"{m['brier_skill']:+.3f}, skill={m['skill']}")
