"""Alembic environment for the Quantdesk store.

Run programmatically by :func:`core.store.db.init_db` (a connection is passed in
``config.attributes["connection"]``) or from the command line with the repository's
``alembic.ini`` (``.venv/bin/alembic upgrade head``; URL from ``DATABASE_URL`` or settings).
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import core.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def _include(obj, name, type_, reflected, compare_to):
    if type_ == "table":
        return name in core.store.tables.STORE_TABLES
    return True


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_object=_include, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from core.store.db import get_engine

    url = config.get_main_option("sqlalchemy.url") or None
    engine = get_engine(url, migrate=False)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          include_object=_include, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_offline() -> None:
    from core.store.db import database_url

    context.configure(url=config.get_main_option("sqlalchemy.url") or database_url(),
                      target_metadata=target_metadata, literal_binds=True,
                      include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
