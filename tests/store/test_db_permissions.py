"""Issue 18, files: the SQLite database (and its -wal/-shm files) is 0600 and the data
directory 0700, like the cache and the admins file; an existing 0644 file is tightened."""

from __future__ import annotations

import stat
from pathlib import Path

import sqlalchemy as sa

from core.config import get_settings
from core.store import session_scope
from core.store.db import dispose_engines, get_engine


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_database_files_are_private():
    with session_scope() as s:
        s.exec(sa.text("SELECT 1"))
    data_dir = get_settings().data_dir
    db = Path(sa.engine.make_url(get_settings().db_url).database)
    assert db.exists() and db.parent == data_dir
    assert mode(data_dir) == 0o700
    files = [db] + [Path(f"{db}{x}") for x in ("-wal", "-shm") if Path(f"{db}{x}").exists()]
    assert all(mode(f) == 0o600 for f in files), {str(f): oct(mode(f)) for f in files}


def test_an_existing_world_readable_database_is_tightened(tmp_path):
    db = tmp_path / "other" / "q.db"
    db.parent.mkdir()
    db.touch(mode=0o644)
    db.chmod(0o644)
    get_engine(f"sqlite:///{db}")
    dispose_engines()
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o755  # a directory we did not create is left alone
