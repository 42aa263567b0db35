"""CLI commands of the store/monitoring domain, registered on :mod:`core.cli`:

``quantdesk replay``, ``quantdesk backfill``, ``quantdesk monitor``, ``quantdesk drift``,
``quantdesk models list|sync|promote|rollback|disable|enable|retrain|runs`` and
``quantdesk admin create-user|list``.
"""

from __future__ import annotations

import getpass
import os
from typing import Optional

import typer

from core.cli import app, emit_json, fail
from core.errors import QuantdeskError

models_app = typer.Typer(help="Model registry: versions, promote, rollback, disable, retrain.",
                         no_args_is_help=True)
admin_app = typer.Typer(help="Admin accounts (bcrypt hashes in data/admins.toml).",
                        no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(admin_app, name="admin")


def _who(who: Optional[str]) -> str:
    return who or f"cli:{getpass.getuser()}"


def _fmt(v, pct: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:.1%}" if pct else f"{v:.5f}"


@app.command("replay")
def replay_cmd(
    symbol: str = typer.Option(..., "--symbol", help="Ticker to replay, e.g. MSFT."),
    steps: int = typer.Option(1, "--steps", min=0, help="Bars to advance."),
    start_bars: Optional[int] = typer.Option(None, "--start-bars",
                                             help="Restart with this many bars visible."),
    interval: str = typer.Option("1d", "--interval"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk SYMBOL's history forward: predict, log, reveal the next bar, backfill."""
    from core.data.replay import run_replay

    try:
        res = run_replay(symbol, steps=steps, start_bars=start_bars, interval=interval)
    except QuantdeskError as err:
        fail(err)
    if as_json:
        emit_json(res.to_dict())
        return
    typer.echo(f"{res.symbol} {res.interval}: {res.steps_done} step(s), bar {res.position + 1}/"
               f"{res.bars_total} ({res.cursor_ts:%Y-%m-%d}); logged {res.logged}, outcomes "
               f"{res.outcomes}" + ("; end of history" if res.at_end else ""))
    for e in res.errors:
        typer.echo(f"predictor error: {e}")
    _print_summary(res.figures)


def _print_summary(rows: list[dict]) -> None:
    for r in rows:
        typer.echo(f"  {r['model_name']}/{r['model_version']} {r['kind']} h={r['horizon']}: "
                   f"n={r['n']} realised={r['n_realised']} MAE={_fmt(r['mae'])} "
                   f"(naive {_fmt(r['baseline_mae'])}) dir.acc={_fmt(r['directional_accuracy'], True)} "
                   f"(always-up {_fmt(r['baseline_accuracy'], True)}) "
                   f"coverage80={_fmt(r['coverage'], True)}")


@app.command("backfill")
def backfill_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Fill realised outcomes of logged predictions whose target bar now exists."""
    from core.store import backfill_outcomes, pending_predictions, session_scope

    try:
        with session_scope() as s:
            n = backfill_outcomes(session=s)
            pending = len(pending_predictions(session=s))
    except QuantdeskError as err:
        fail(err)
    if as_json:
        emit_json({"outcomes_written": n, "pending": pending})
    else:
        typer.echo(f"outcomes written: {n}; still pending: {pending}")


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
    from core.monitoring import Thresholds, monitoring_figures
    from core.store import session_scope

    try:
        with session_scope() as s:
            rep = monitoring_figures(session=s, model_name=model, symbol=symbol, window=window,
                                     thresholds=Thresholds(accuracy_floor=accuracy_floor))
    except QuantdeskError as err:
        fail(err)
    if as_json:
        emit_json(rep.to_dict(with_series=series))
        return
    if not rep.groups:
        typer.echo("No predictions logged yet (try `quantdesk replay --symbol MSFT --steps 20`).")
    _print_summary([g.to_dict(with_series=False) for g in rep.groups])
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
    from core.cli import load_market
    from core.monitoring.drift import feature_drift, record_drift

    try:
        md = load_market(symbol, None)
        table = feature_drift(md.frame, recent_bars=recent_bars, reference_end=reference_end)
        if record:
            from core.store import session_scope

            with session_scope() as s:
                record_drift(table, session=s, model_name=record)
    except QuantdeskError as err:
        fail(err)
    if as_json:
        emit_json(table.to_dict("records"))
        return
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


# ---------------------------------------------------------------- models

@models_app.command("list")
def models_list(family: Optional[str] = typer.Argument(None),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Registered versions with status and metrics."""
    from core.store import list_model_versions, session_scope

    with session_scope() as s:
        rows = [r.model_dump() for r in list_model_versions(family, session=s)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("No registered versions (run `quantdesk init`).")
    for r in rows:
        typer.echo(f"{r['family']:<14} {r['version']:<24} {r['status']:<10} "
                   f"deployed {r['deployed_at'] or '-'}  metrics {r['metrics']}")


@models_app.command("sync")
def models_sync() -> None:
    """Register on-disk versions; activate the newest where a family has none active."""
    from core.store import session_scope, sync_models_dir

    with session_scope() as s:
        out = sync_models_dir(session=s, who=_who(None))
    emit_json(out)


def _op(name: str, family: str, version: Optional[str], who: Optional[str]) -> None:
    from core.store import disable, enable, promote, rollback, session_scope

    try:
        with session_scope() as s:
            if name == "promote":
                row = promote(family, version, who=_who(who), session=s)
            elif name == "rollback":
                row = rollback(family, who=_who(who), session=s)
            elif name == "disable":
                row = disable(family, who=_who(who), session=s)
            else:
                row = enable(family, who=_who(who), session=s)
            typer.echo(f"{name}: {family}/{row.version} is now {row.status}")
    except QuantdeskError as err:
        fail(err)


@models_app.command("promote")
def models_promote(family: str, version: str, who: Optional[str] = typer.Option(None, "--who")):
    """Make VERSION the active version of FAMILY."""
    _op("promote", family, version, who)


@models_app.command("rollback")
def models_rollback(family: str, who: Optional[str] = typer.Option(None, "--who")):
    """Re-activate the previously active version (the current one is deprecated)."""
    _op("rollback", family, None, who)


@models_app.command("disable")
def models_disable(family: str, who: Optional[str] = typer.Option(None, "--who")):
    """Switch FAMILY off: serving falls back to the naive baseline."""
    _op("disable", family, None, who)


@models_app.command("enable")
def models_enable(family: str, who: Optional[str] = typer.Option(None, "--who")):
    """Undo disable."""
    _op("enable", family, None, who)


@models_app.command("retrain")
def models_retrain(family: str = typer.Argument(..., help="A family, or 'all'."),
                   who: Optional[str] = typer.Option(None, "--who")) -> None:
    """Train FAMILY (single-flight) and register the result as a candidate."""
    from core import training

    def progress(frac: float, msg: str) -> None:
        typer.echo(f"[{frac:4.0%}] {msg}")

    try:
        runs = (training.train_all(who=_who(who), progress=progress) if family == "all"
                else [training.run_training(family, who=_who(who), progress=progress)])
    except QuantdeskError as err:
        fail(err)
    failed = False
    for r in runs:
        if r.status == "COMPLETED":
            typer.echo(f"{r.family}: candidate {r.version} (promote with `quantdesk models "
                       f"promote {r.family} {r.version}`)")
        else:
            failed = True
            typer.echo(f"{r.family}: FAILED: {r.error}", err=True)
    if failed:
        raise typer.Exit(code=2)


@models_app.command("runs")
def models_runs(as_json: bool = typer.Option(False, "--json")) -> None:
    """Recent training runs."""
    from core.store import session_scope
    from core.training import training_runs

    with session_scope() as s:
        rows = [r.model_dump() for r in training_runs(session=s)]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['started_at']} {r['family']:<14} {r['status']:<9} by {r['who']} "
                   f"{r['version'] or ''} {r['error'] or ''}")


# ---------------------------------------------------------------- admin

@admin_app.command("create-user")
def admin_create_user(name: str = typer.Argument(..., help="Admin login name.")) -> None:
    """Create or reset an admin. Password from QUANTDESK_ADMIN_PASSWORD or a hidden prompt."""
    from core.auth import create_admin

    password = os.environ.get("QUANTDESK_ADMIN_PASSWORD")
    if not password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        path = create_admin(name, password)
    except QuantdeskError as err:
        fail(err)
    typer.echo(f"admin {name} saved to {path} (bcrypt hash, mode 0600)")


@admin_app.command("list")
def admin_list() -> None:
    """Configured admin names (file, secrets, environment)."""
    from core.auth import list_admins

    try:
        names = list_admins()
    except QuantdeskError as err:
        fail(err)
    typer.echo("\n".join(names) if names else "no admins (quantdesk admin create-user NAME)")
