"""First-run preparation (``quantdesk init`` / ``make run``): directories, database schema,
model registry sync, default models, and how to create the first admin.

Idempotent: a second run only reports what is already there.
"""

from __future__ import annotations

from typing import Callable

from core import registry, training
from core.auth import list_admins
from core.config import get_settings
from core.errors import QuantdeskError
from core.store import get_engine, session_scope, sync_models_dir

Echo = Callable[[str], None]


def bootstrap(echo: Echo = print, *, train_missing: bool = True) -> dict:
    """Prepare a fresh or existing installation.

    Steps: create ``data_dir`` (uploads/, cache/ with mode 0700); create/upgrade the database
    (Alembic head); register every on-disk model version (:func:`core.store.sync_models_dir`);
    for each family in :data:`core.training.FAMILIES` with no version on disk, run its trainer
    (single-flight, progress echoed) and activate it when the family has no active version;
    print how to create the first admin when none exists.

    Returns:
        ``{"registered": [...], "activated": [...], "trained": [...], "failed": [...]}``.
    """
    s = get_settings()
    (s.data_dir / "uploads").mkdir(parents=True, exist_ok=True)
    s.cache_dir.mkdir(parents=True, exist_ok=True)
    s.cache_dir.chmod(0o700)
    engine = get_engine()
    echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")
    with session_scope() as session:
        out = sync_models_dir(session=session, who="bootstrap")
    out.update({"trained": [], "failed": []})
    for family in sorted(training.FAMILIES):
        if registry.list_versions(family):
            continue
        if not train_missing:
            echo(f"{family}: no trained version (run `quantdesk models retrain {family}`)")
            continue
        echo(f"{family}: no trained version on disk, training the default model...")

        def progress(frac: float, msg: str, _f=family) -> None:
            echo(f"  {_f} [{frac:4.0%}] {msg}")

        try:
            run = training.run_training(family, who="bootstrap", progress=progress)
        except QuantdeskError as err:
            echo(f"{family}: not trained ({err})")
            out["failed"].append(family)
            continue
        if run.status == "COMPLETED":
            out["trained"].append(f"{family}/{run.version}")
            echo(f"{family}: trained version {run.version}")
        else:
            out["failed"].append(family)
            echo(f"{family}: training failed: {run.error}")
    if out["trained"]:
        with session_scope() as session:
            more = sync_models_dir(session=session, who="bootstrap")
        out["activated"] += more["activated"]
    for item in out["activated"]:
        echo(f"active model: {item}")
    echo(f"models registered: {len(out['registered'])} new; data dir: {s.data_dir}")
    try:
        admins = list_admins()
    except QuantdeskError as err:
        admins = []
        echo(f"warning: {err}")
    if not admins:
        echo("No admin account yet. Create an admin: .venv/bin/quantdesk admin create-user NAME")
    return out
