"""CLI: ``quantdesk serve-api`` and the API keys ``quantdesk admin create-key|list-keys|
revoke-key`` (added to :mod:`core.admin_cli`'s ``admin`` group; mounted by :mod:`core.cli`)."""

from __future__ import annotations

import typer
import uvicorn

from core.admin_cli import admin_app
from core.api.app import create_app
from core.api.keys import create_key, keys_file, list_keys, revoke_key
from core.cliutil import fail, groups
from core.errors import QuantdeskError

#: merged into the root and into ``quantdesk train|evaluate|predict`` by core.cli
app, train_app, evaluate_app, predict_app = groups()


@app.command("serve-api")
def serve_api(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    rate: float = typer.Option(None, "--rate-per-minute",
                               help="Per-client requests per minute (0: no limit; default "
                                    "QUANTDESK_API_RATE_PER_MINUTE or 600)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the HTTP API (OpenAPI docs at http://HOST:PORT/docs)."""
    uvicorn.run(create_app(rate_per_minute=rate), host=host, port=port, log_level=log_level)


@admin_app.command("create-key")
def admin_create_key(
    name: str = typer.Argument(..., help="Who or what uses the key, e.g. ci-bot."),
    role: str = typer.Option("read", "--role", help="admin (retrain, promote, rollback, "
                             "disable, enable, jobs) or read (jobs)."),
) -> None:
    """Issue an API key for the HTTP API (printed once; only its sha256 is stored in
    <data_dir>/api_keys.json, mode 0600). Re-issuing a name replaces its key."""
    try:
        key = create_key(name, role)
    except QuantdeskError as err:
        fail(err)
    typer.echo(key)
    typer.echo(f"API key '{name}' ({role}) saved as a sha256 hash in {keys_file()}; send it "
               "as the X-API-Key header. It is not shown again.", err=True)


@admin_app.command("list-keys")
def admin_list_keys() -> None:
    """API key names, roles and creation times (never the keys)."""
    try:
        rows = list_keys()
    except QuantdeskError as err:
        fail(err)
    for k in rows:
        typer.echo(f"{k.name:<24} {k.role:<6} {k.created_at}")
    if not rows:
        typer.echo("no API keys (quantdesk admin create-key NAME --role admin|read)")


@admin_app.command("revoke-key")
def admin_revoke_key(name: str = typer.Argument(..., help="Key name.")) -> None:
    """Revoke NAME's API key (its requests get 401 from then on)."""
    try:
        gone = revoke_key(name)
    except QuantdeskError as err:
        fail(err)
    typer.echo(f"revoked API key '{name}'" if gone else f"no API key named '{name}'")
