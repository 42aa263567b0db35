"""Store tests: each test has its own temp data dir (tests/conftest.py), hence its own SQLite
file; the root fixture disposes the engine afterwards."""

import pytest


@pytest.fixture
def session():
    from core.store import session_scope

    with session_scope() as s:
        yield s
