"""Engine, sessions and schema for the Quantdesk store (SQLModel on SQLAlchemy 2).

* One engine per process per database URL (:func:`get_engine`); the default URL is the SQLite
  file ``<settings.data_dir>/quantdesk.db``; set ``DATABASE_URL`` for PostgreSQL.
* SQLite connections get ``journal_mode=WAL``, ``busy_timeout=10000`` ms and
  ``foreign_keys=ON`` from a ``connect`` event listener (SQLAlchemy docs, "SQLite dialect:
  foreign key support / pysqlite events"), so readers do not block the single writer.
* The schema is owned by Alembic (``core/store/migrations``). :func:`init_db` runs
  ``alembic upgrade head`` programmatically and is idempotent; :func:`get_engine` calls it the
  first time it builds an engine for a URL, so callers only need :func:`session_scope`.
* Timestamps are stored as ``DateTime(timezone=True)`` in UTC; :class:`UTCDateTime` converts
  aware values to UTC on write and marks the naive values SQLite hands back as UTC on read.
* PostgreSQL: a plain ``postgresql://`` URL uses psycopg2, the driver the package depends on
  (SQLAlchemy 2.1 would pick psycopg 3, which only the dev extras install); several processes
  may migrate one new database at once (:func:`init_db` serialises them).
* A SQLite file deleted while the process runs: open connections would go on writing to the
  unlinked file, invisible to every other process. :func:`get_engine` checks the file's
  identity (device, inode) on every use: a vanished file raises :class:`DatabaseFileDeleted`
  (a plain message, nothing written); a file replaced by another one (``quantdesk init``, a
  restore) is reopened, so this process and the CLI read the same store again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.config import get_settings
from core.errors import DataValidationError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Key of the PostgreSQL advisory lock :func:`init_db` holds while it migrates.
MIGRATION_LOCK_KEY = 0x5144_0001

_ENGINES: dict[str, Engine] = {}
#: SQLite URL -> (file, (st_dev, st_ino) when its engine was built)
_SQLITE_FILES: dict[str, tuple[Path, tuple[int, int]]] = {}
_LOCK = threading.RLock()

log = logging.getLogger(__name__)


class DatabaseFileDeleted(sa.exc.SQLAlchemyError):
    """The SQLite file this process uses was deleted while it ran. Nothing is written (an
    open connection would write to the unlinked file, which no other process sees)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        super().__init__(
            f"the database file {self.path} was deleted while this process was running; "
            "nothing was written to it. Restore it from a backup and restart, or run "
            "`quantdesk init` to start a new, empty store (this process then uses it; "
            "promote the versions to serve again)")


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _checked(url: str, engine: Engine) -> Engine | None:
    """``engine`` when its SQLite file is still the one it opened; None when the file was
    replaced (the engine is closed and forgotten: the caller builds a new one).

    Raises:
        DatabaseFileDeleted: the file is gone.
    """
    watched = _SQLITE_FILES.get(url)
    if watched is None:
        return engine
    path, ident = watched
    now = _file_id(path)
    if now == ident:
        return engine
    if now is None:
        raise DatabaseFileDeleted(path)
    log.warning("The database file %s was replaced; reopening it.", path)
    engine.dispose()
    _ENGINES.pop(url, None)
    _SQLITE_FILES.pop(url, None)
    return None


def utcnow() -> dt.datetime:
    """Current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def to_utc(value) -> dt.datetime | None:
    """Normalise a datetime / pandas Timestamp / ISO string to an aware UTC ``datetime``.

    Naive values are taken to be UTC already (the project stores nothing else).

    Raises:
        DataValidationError: the value cannot be read as a timestamp.
    """
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise DataValidationError(f"Cannot read {value!r} as a timestamp ({err}).") from None
    if ts is pd.NaT:
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


class UTCDateTime(sa.types.TypeDecorator):
    """``DateTime(timezone=True)`` that always returns aware UTC datetimes.

    SQLite has no timezone type and returns naive values; PostgreSQL returns aware ones in the
    session time zone. Both come back as UTC here.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        out = to_utc(value)
        if dialect.name == "sqlite":  # store naive UTC: sortable, comparable text
            out = out.replace(tzinfo=None)
        return out

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _private_sqlite_file(db_path: Path) -> None:
    """Create the SQLite file's directory (0700 when it is new or the configured data
    directory) and the file itself 0600 before SQLite opens it: SQLite gives its -wal and -shm
    files the database file's mode, so the predictions, audit log and users stay private like
    the cache and the admins file. An existing file of this user is tightened to 0600."""
    parent = db_path.parent
    new_dir = not parent.exists()
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if new_dir or parent.resolve() == get_settings().data_dir.resolve():
            parent.chmod(0o700)
        if not db_path.exists():
            db_path.touch(mode=0o600)
        for f in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
            if f.exists() and f.stat().st_uid == os.getuid():
                f.chmod(0o600)
    except OSError:  # a read-only or foreign directory: SQLite reports what matters
        pass


def database_url() -> str:
    """The configured URL (``DATABASE_URL`` or the SQLite file under ``data_dir``)."""
    return get_settings().db_url


def resolve_url(url: str) -> str:
    """``url`` with an explicit driver where it names none: ``postgresql://`` becomes
    ``postgresql+psycopg2://`` (psycopg2-binary is a dependency; psycopg 3 need not be
    installed). Other URLs are returned unchanged."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def get_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """The process-wide engine for ``url`` (default :func:`database_url`).

    Builds it on first use (SQLite: creates the parent directory, WAL + busy timeout) and,
    when ``migrate`` is true, brings the schema to Alembic head once.
    """
    url = resolve_url(url or database_url())
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is not None:
            engine = _checked(url, engine)
            if engine is not None:
                return engine
        kwargs: dict = {"future": True}
        db_file: Path | None = None
        if url.startswith("sqlite"):
            db_path = sa.engine.make_url(url).database
            if db_path and db_path != ":memory:":
                db_file = Path(db_path).absolute()
                _private_sqlite_file(Path(db_path))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
        engine = sa.create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        if migrate:
            init_db(engine)
        _ENGINES[url] = engine
        ident = _file_id(db_file) if db_file is not None else None
        if ident is not None:
            _SQLITE_FILES[url] = (db_file, ident)
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests; after a fork)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
        _SQLITE_FILES.clear()


def alembic_config(engine: Engine | None = None):
    """An Alembic ``Config`` pointing at ``core/store/migrations`` (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False)
                            .replace("%", "%%"))
    return cfg


def init_db(engine: Engine | None = None) -> None:
    """Create or upgrade the schema to Alembic head (idempotent; safe to call repeatedly).

    On PostgreSQL the migration runs under a transaction-scoped advisory lock, so processes
    starting together on one new database (replicas, the API) migrate one after the other:
    the first creates the schema, the others find it at head."""
    from alembic import command

    engine = engine or get_engine(migrate=False)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                         {"key": MIGRATION_LOCK_KEY})
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def store_error_message(err: BaseException) -> str:
    """A plain sentence for a store fault (a ``sqlalchemy.exc.SQLAlchemyError``: database
    read-only, locked, missing, unreachable): what failed and what to do. No traceback."""
    if isinstance(err, DatabaseFileDeleted):
        return f"The model store is unavailable: {err}."
    orig = getattr(err, "orig", None) or err
    detail = str(orig).strip().splitlines()[0][:200] if str(orig).strip() else ""
    return (f"The model store is unavailable ({type(err).__name__}"
            f"{': ' + detail if detail else ''}). Check DATABASE_URL, that the data directory "
            "and its quantdesk.db are writable and not locked by another program, then retry; "
            "nothing was changed.")


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error::

        with session_scope() as session:
            log_predictions(records, session=session)
    """
    session = Session(get_engine(url), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
