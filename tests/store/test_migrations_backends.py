"""Alembic on SQLite and on PostgreSQL (tests/pg.py): upgrade head -> downgrade base ->
upgrade head on a new database; at head the schema matches the SQLModel tables, and a row
written before a migration survives its downgrade and upgrade."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from core.store.db import alembic_config, get_engine
from core.store.tables import STORE_TABLES

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def new_database(request, tmp_path) -> sa.Engine:
    """The store's engine on a new database without any schema: a SQLite file, or an empty
    PostgreSQL database (not the migrated template) of the run's server."""
    url = (f"sqlite:///{tmp_path / 'new.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_empty_url"))
    return get_engine(url, migrate=False)


def migrate(engine: sa.Engine, step, revision: str) -> None:
    """Run ``alembic upgrade/downgrade REVISION`` in one transaction, as init_db does."""
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        step(cfg, revision)


def current(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def store_tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) & set(STORE_TABLES)


def schema_diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": lambda o, n, t, r, c:
                                                     t != "table" or n in STORE_TABLES})
        return compare_metadata(ctx, SQLModel.metadata)


def test_upgrade_downgrade_upgrade(new_database):
    engine = new_database
    assert current(engine) is None and store_tables(engine) == set()
    migrate(engine, command.upgrade, "head")
    assert current(engine) == HEAD and store_tables(engine) == set(STORE_TABLES)
    assert schema_diff(engine) == []

    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO locks (name, holder, detail, acquired_at, host, pid) "
                             "VALUES ('training', 'alice#1', 'forecast', :ts, 'h1', 42)"),
                     {"ts": now})
    migrate(engine, command.downgrade, "0002_watchlists")  # the lease columns go
    assert {c["name"] for c in sa.inspect(engine).get_columns("locks")} == {
        "name", "holder", "detail", "acquired_at"}
    migrate(engine, command.upgrade, "head")  # and come back, empty
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT holder, host, pid FROM locks")).one()
    assert tuple(row) == ("alice#1", "", None)

    migrate(engine, command.downgrade, "base")
    assert current(engine) is None and store_tables(engine) == set()
    migrate(engine, command.upgrade, "head")
    assert current(engine) == HEAD and store_tables(engine) == set(STORE_TABLES)
    assert schema_diff(engine) == []
