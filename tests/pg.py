"""A throwaway PostgreSQL server for the test run, and ``db_backend``: a store test runs on
SQLite and on PostgreSQL.

* :func:`pg_server` (session): ``initdb`` + ``pg_ctl`` on a free loopback port in a temporary
  directory, stopped and removed when the run ends. initdb and postgres refuse to run as
  root, and tests and CI run as root, so as root the server runs as the ``postgres`` system
  user (``nobody`` when there is none) through ``runuser``, in a directory that user owns.
  pytest's own temp directories cannot hold it: they are 0700 and root's. Under pytest-xdist
  every worker has its own session and so its own server; workers never share a database.
  Without server binaries the PostgreSQL variants skip and say what is missing; ``make test``
  installs Debian's ``postgresql``, so in CI they run.
* :func:`pg_url` (function): a fresh database cloned from a template migrated to Alembic head
  once per server (pytest-postgresql's ``DatabaseJanitor`` creates and drops it), so each
  test starts empty and no migration runs per test. :func:`pg_empty_url`: one without schema.
* :func:`db_backend` (function, params ``sqlite`` and ``postgresql``): points
  ``DATABASE_URL`` at that test's database. SQLite needs nothing: ``isolated_settings`` gives
  every test its own file. Use it through the marks below::

      pytestmark = both_backends            # every test of the module, twice

      @sqlite_only                          # one test of such a module: SQLite behaviour
      def test_wal(): ...                   # (postgresql_only: the other way round)

The server runs with ``TimeZone=America/New_York``: the store must hand back aware UTC
whatever the session time zone is.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.procs import free_port

#: Debian installs each server major version here (``postgresql-15`` -> ``15/bin``).
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
SUPERUSER = "postgres"
TEMPLATE_DB = "qd_template"
#: A time zone other than UTC, so a store that trusted the session time zone would show it.
SERVER_TIMEZONE = "America/New_York"

#: Run the test (every test of a module with ``pytestmark = both_backends``) on SQLite and
#: on PostgreSQL; ids end in ``[sqlite]`` and ``[postgresql]``.
both_backends = pytest.mark.usefixtures("db_backend")
#: Inside a ``both_backends`` module: SQLite only (a behaviour PostgreSQL does not have).
sqlite_only = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
#: Inside a ``both_backends`` module: PostgreSQL only (a fault only a server has).
postgresql_only = pytest.mark.parametrize(
    "db_backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True)

_DB_NUMBERS = itertools.count(1)


def find_pg_bindir() -> Path | None:
    """The newest Debian server bin directory holding initdb, pg_ctl and postgres, else the
    directory of ``pg_ctl`` on PATH; None when there is no server."""
    def major(p: Path) -> int:
        return int(p.parent.name) if p.parent.name.isdigit() else -1

    candidates = sorted((Path(p) for p in glob.glob(PG_BIN_GLOB)), key=major, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for d in candidates:
        if all((d / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, reachable on 127.0.0.1:``port``
    as the trust-authenticated superuser ``postgres`` (no password; loopback only)."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port: int | None = None
        self.run_as = self._unprivileged_user() if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="quantdesk-pg-"))
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.datadir = self.root / "data"
        self.logfile = self.root / "postgres.log"

    @staticmethod
    def _unprivileged_user() -> str:
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                return name
        raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user "
                           "exists to run the PostgreSQL server as")

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self.run_as:
            cmd = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", self.run_as, "--", *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C"}
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=self.root, check=False)
        if done.returncode:
            log = self.logfile.read_text()[-2000:] if self.logfile.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()}\n{log}")

    def _pg_ctl_start(self, port: int) -> None:
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.datadir),
                  "-l", str(self.logfile),
                  "-o", f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 "
                        f"-F -c TimeZone={SERVER_TIMEZONE}")

    def start(self) -> PostgresServer:
        """initdb (no fsync), then start on a free loopback port (retried on a lost race)."""
        self._run("initdb", "-D", str(self.datadir), "-U", SUPERUSER, "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        for attempt in range(5):
            port = free_port()
            try:
                self._pg_ctl_start(port)
            except RuntimeError:  # the port was taken between our probe and the bind
                if attempt == 4:
                    raise
                continue
            self.port = port
            return self
        raise AssertionError("unreachable")

    def halt(self) -> None:
        """Stop the server (fast shutdown: open connections are cut) and keep its data and
        port, for :meth:`resume`: a database restart under a running process."""
        self._run("pg_ctl", "stop", "-w", "-D", str(self.datadir), "-m", "fast")

    def resume(self) -> None:
        """Start the halted server again on the same port (the URLs stay valid)."""
        self._pg_ctl_start(self.port)

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """The server is down inside the block and up again after it, whatever happens
        (other tests of the run share it)."""
        self.halt()
        try:
            yield
        finally:
            self.resume()

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        try:
            if self.port is not None:
                self._run("pg_ctl", "stop", "-D", str(self.datadir), "-m", "fast")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL of ``dbname`` (psycopg2, the driver ``postgresql://`` selects)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    @contextlib.contextmanager
    def database(self, template: str | None = TEMPLATE_DB) -> Iterator[str]:
        """A new database (a copy of ``template``; None: empty), dropped on exit; yields
        its URL. Engines cached by the store are disposed before the drop."""
        from pytest_postgresql.janitor import DatabaseJanitor

        from core.store.db import dispose_engines

        janitor = DatabaseJanitor(user=SUPERUSER, host="127.0.0.1", port=self.port,
                                  dbname=f"qd_{next(_DB_NUMBERS)}", template_dbname=template)
        janitor.init()
        try:
            yield self.url(janitor.dbname)
        finally:
            dispose_engines()
            janitor.drop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this run (this xdist worker), with :data:`TEMPLATE_DB`
    migrated to Alembic head; skips the test when no server binaries are installed."""
    bindir = find_pg_bindir()
    if bindir is None:
        pytest.skip(f"no PostgreSQL server binaries (initdb, pg_ctl, postgres) under "
                    f"{PG_BIN_GLOB} or on PATH; `make test` installs Debian's postgresql")
    if os.geteuid() == 0 and not shutil.which("runuser") and not Path("/usr/sbin/runuser").exists():
        pytest.skip("running as root without runuser (util-linux) to start PostgreSQL as "
                    "an unprivileged user")
    import sqlalchemy as sa
    from pytest_postgresql.janitor import DatabaseJanitor

    from core.store.db import init_db, resolve_url

    server = PostgresServer(bindir)
    try:
        server.start()
        DatabaseJanitor(user=SUPERUSER, host="127.0.0.1", port=server.port,
                        dbname=TEMPLATE_DB).init()
        engine = sa.create_engine(resolve_url(server.url(TEMPLATE_DB)))
        try:
            init_db(engine)
        finally:
            engine.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """URL of a fresh database for this test with the store's schema at head (dropped after)."""
    with pg_server.database() as url:
        yield url


@pytest.fixture
def pg_empty_url(pg_server) -> Iterator[str]:
    """URL of a fresh database without any schema (migration tests; dropped after)."""
    with pg_server.database(template=None) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_backend(request, isolated_settings, monkeypatch) -> str:
    """The store backend of this test run, ``"sqlite"`` or ``"postgresql"``.

    Set up after ``isolated_settings`` (which removes ``DATABASE_URL`` and gives the test its
    own SQLite file): for ``postgresql`` it points ``DATABASE_URL`` at a fresh database from
    :func:`pg_url` and clears the cached settings, so everything in the test (store, CLI,
    pages run by AppTest) uses that database."""
    if request.param == "postgresql":
        from core.config import get_settings

        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("pg_url"))
        get_settings.cache_clear()
    return request.param
