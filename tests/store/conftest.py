"""Store tests: each test already has its own temp data dir (tests/conftest.py), hence its own
SQLite file; engines are disposed after each test so files are not kept open."""

import pytest


@pytest.fixture(autouse=True)
def _dispose_engines():
    yield
    from core.store import dispose_engines

    dispose_engines()


@pytest.fixture
def session():
    from core.store import session_scope

    with session_scope() as s:
        yield s
