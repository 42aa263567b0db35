"""HTTP API tests: an app per test (rate limit off unless a test asks), offline, no Yahoo
probe, each test with its own data dir and SQLite store (tests/conftest.py)."""

import pytest
from fastapi.testclient import TestClient

from core.api.app import create_app
from core.api.keys import create_key


@pytest.fixture
def app():
    return create_app(rate_per_minute=0, probe_yahoo=False)


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def admin_key():
    return create_key("ops-bot", "admin")


@pytest.fixture
def read_key():
    return create_key("dashboard", "read")
