"""CLI for admins, mounted by :mod:`core.cli`: the model registry (``quantdesk models
list|sync|promote|rollback|disable|enable|retrain|runs``) and admin accounts (``quantdesk
admin create-user|list|unlock``). A store fault (database read-only, locked, missing) ends in
a plain ``error:`` line and exit code 2 (:func:`core.cliutil.guarded`), never a traceback.
"""

from __future__ import annotations

import getpass
import os
from typing import Optional

import typer

from core import training
from core.auth import create_admin, list_admins
from core.cliutil import emit_json, fail, groups, guarded
from core.errors import QuantdeskError
from core.store import (
    break_lock, disable, enable, list_model_versions, promote, rollback, session_scope,
    sync_models_dir,
)
from core.store.ops import current_lock
from core.training import TRAINING_LOCK, training_runs

#: merged into the root by core.cli
app, train_app, evaluate_app, predict_app = groups()

models_app = typer.Typer(help="Model registry: versions, promote, rollback, disable, retrain.",
                         no_args_is_help=True)
admin_app = typer.Typer(help="Admin accounts (bcrypt hashes in data/admins.toml).",
                        no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(admin_app, name="admin")


def _who(who: Optional[str]) -> str:
    return who or f"cli:{getpass.getuser()}"


@models_app.command("list")
def models_list(family: Optional[str] = typer.Argument(None),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Registered versions with status and metrics."""
    with guarded(), session_scope() as s:
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
    with guarded(), session_scope() as s:
        out = sync_models_dir(session=s, who=_who(None))
    emit_json(out)


def _op(name: str, family: str, version: Optional[str], who: Optional[str]) -> None:
    with guarded():
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
    def progress(frac: float, msg: str) -> None:
        typer.echo(f"[{frac:4.0%}] {msg}")

    with guarded():
        runs = (training.train_all(who=_who(who), progress=progress) if family == "all"
                else [training.run_training(family, who=_who(who), progress=progress)])
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
    with guarded(), session_scope() as s:
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
    try:
        names = list_admins()
    except QuantdeskError as err:
        fail(err)
    typer.echo("\n".join(names) if names else "no admins (quantdesk admin create-user NAME)")


@admin_app.command("unlock")
def admin_unlock(
    name: str = typer.Argument(TRAINING_LOCK, help="Lock name, or the family a retrain holds "
                               f"it for (default: the {TRAINING_LOCK!r} lock)."),
    who: Optional[str] = typer.Option(None, "--who"),
) -> None:
    """Clear a stuck lock (its holder died): the run it guarded is marked FAILED; audited.

    A dead holder's lock also frees itself within a minute (no heartbeat); this is for
    when you cannot wait. Use it only when the holding process is gone."""
    with guarded(), session_scope() as s:
        lock_name = name
        held = current_lock(name, session=s)
        if held is None:
            training_lock = current_lock(TRAINING_LOCK, session=s)
            if training_lock is not None and training_lock.detail == name:
                lock_name = TRAINING_LOCK
        row = break_lock(lock_name, who=_who(who), session=s)
    if row is None:
        typer.echo(f"No lock {name!r} is held; nothing to unlock.")
        return
    typer.echo(f"unlocked {row.name} ({row.detail}) held by {row.holder.rsplit('#', 1)[0]} on "
               f"{row.host or '?'} pid {row.pid or '?'}"
               + (f"; training run {row.run_id} marked FAILED" if row.run_id else ""))
