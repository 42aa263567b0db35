"""CLI of monitoring: ``quantdesk monitor`` and ``quantdesk drift`` (mounted by
:mod:`core.cli`)."""

from __future__ import annotations

from typing import Optional

import typer

from core.cliutil import emit_json, groups, guarded, load_market
from core.monitoring.drift import feature_drift, record_drift
from core.monitoring.figures import Thresholds, monitoring_figures
from core.store import session_scope

#: merged into the root by core.cli
app, train_app, evaluate_app, predict_app = groups()


def _fmt(v, pct: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:.1%}" if pct else f"{v:.5f}"


def print_summary(rows: list[dict]) -> None:
    """Print one line per monitoring group, each figure beside its naive baseline."""
    for r in rows:
        typer.echo(f"  {r['model_name']}/{r['model_version']} {r['kind']} h={r['horizon']}: "
                   f"n={r['n']} realised={r['n_realised']} MAE={_fmt(r['mae'])} "
                   f"(naive {_fmt(r['baseline_mae'])}) dir.acc={_fmt(r['directional_accuracy'], True)} "
                   f"(always-up {_fmt(r['baseline_accuracy'], True)}) "
                   f"coverage80={_fmt(r['coverage'], True)}")


@app.command("monitor")
def monitor_cmd(
    model: Optional[str] = typer.Option(None, "--model", help="One model family."),
    symbol: Optional[str] = typer.Option(None, "--symbol"),
    window: int = typer.Option(50, "--window", min=1, help="Outcomes per rolling mean."),
    accuracy_floor: float = typer.Option(0.5, "--accuracy-floor"),
    series: bool = typer.Option(False, "--series", help="Include the time series in JSON."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Monitoring figures (accuracy/MAE vs naive, coverage, Brier, latency, ops) and alerts."""
    with guarded(), session_scope() as s:
        rep = monitoring_figures(session=s, model_name=model, symbol=symbol, window=window,
                                 thresholds=Thresholds(accuracy_floor=accuracy_floor))
    if as_json:
        emit_json(rep.to_dict(with_series=series))
        return
    if not rep.groups:
        typer.echo("No predictions logged yet (try `quantdesk replay --symbol MSFT --steps 20`).")
    print_summary([g.to_dict(with_series=False) for g in rep.groups])
    o = rep.ops
    typer.echo(f"ops: requests={o['requests']:.0f} error rate={_fmt(o['error_rate'], True)} "
               f"cache hit rate={_fmt(o['cache_hit_rate'], True)}")
    for a in rep.alerts:
        typer.echo(f"ALERT [{a.level}] {a.message}")


@app.command("drift")
def drift_cmd(
    symbol: str = typer.Option(..., "--symbol"),
    recent_bars: int = typer.Option(250, "--recent-bars", min=20),
    reference_end: Optional[str] = typer.Option(None, "--reference-end",
                                                help="Last date of the reference window."),
    record: Optional[str] = typer.Option(None, "--record", help="Store PSI for this model."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Feature drift (PSI, KS) of SYMBOL: reference window vs the last RECENT_BARS bars."""
    with guarded():
        md = load_market(symbol, None)
        table = feature_drift(md.frame, recent_bars=recent_bars, reference_end=reference_end)
        if record:
            with session_scope() as s:
                record_drift(table, session=s, model_name=record)
    if as_json:
        emit_json(table.to_dict("records"))
        return
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
