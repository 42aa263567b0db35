"""Test-wide setup: offline, isolated settings, a temp data dir per test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# the throwaway PostgreSQL server and db_backend (runs a store test on SQLite and PostgreSQL)
from tests.pg import db_backend, pg_empty_url, pg_server, pg_url  # noqa: F401

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["QUANTDESK_OFFLINE"] = "1"
os.environ.setdefault("QUANTDESK_WARMUP", "0")  # no background model loads (ui/warmup.py)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Each test gets its own data dir (db, cache) and fresh settings."""
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUANTDESK_OFFLINE", "1")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    serving = sys.modules.get("core.serving")  # served-version memory is per test
    if serving is not None:
        serving.forget()
    yield
    get_settings.cache_clear()
    store_db = sys.modules.get("core.store.db")  # close this test's SQLite engine, if any
    if store_db is not None:
        store_db.dispose_engines()


@pytest.fixture(autouse=True)
def no_network_probe(monkeypatch):
    """The Yahoo reachability probe (core.data.network) never opens a socket nor looks up a
    name in tests: it answers "unreachable" unless a test installs its own probe."""
    from core.data import network

    def refuse(address, timeout):
        raise OSError("tests run offline")

    monkeypatch.setattr(network, "PROBE", network.ReachabilityProbe(
        target=lambda: (network.YAHOO_HOST, network.HTTPS_PORT), connect=refuse))


@pytest.fixture(autouse=True)
def naive_replay(monkeypatch):
    """The replay (``quantdesk replay``) predicts with the naive baseline only, unless a test
    passes its predictors: the trained domain models are slow and tested on their own."""
    from core.baseline.naive import naive_predictor
    from core.panel import replay

    monkeypatch.setattr(replay, "DEFAULT_PREDICTORS", (naive_predictor,))


def synthetic_ohlcv(n: int = 300, seed: int = 0, start: str = "2020-01-01") -> pd.DataFrame:
    """A SYNTHETIC random-walk OHLCV frame for tests only (never shown to users)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * np.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.004, n)))
    idx = pd.bdate_range(start, periods=n, tz="UTC", name="timestamp")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.integers(1_000, 10_000, n).astype(float)}, index=idx)


@pytest.fixture
def synthetic_frame() -> pd.DataFrame:
    return synthetic_ohlcv()
