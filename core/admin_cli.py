"""CLI for admins, mounted by :mod:`core.cli`: the model registry (``quantdesk models
list|sync|promote|rollback|disable|enable|retrain|runs``) and admin accounts (``quantdesk
admin create-user|list``).
"""

from __future__ import annotations

import getpass
import os
from typing import Optional

import typer

from core import training
from core.auth import create_admin, list_admins
from core.cliutil import emit_json, fail, groups
from core.errors import QuantdeskError
from core.store import (
    disable, enable, list_model_versions, promote, rollback, session_scope, sync_models_dir,
)
from core.training import training_runs

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
    with session_scope() as s:
        out = sync_models_dir(session=s, who=_who(None))
    emit_json(out)


def _op(name: str, family: str, version: Optional[str], who: Optional[str]) -> None:
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
