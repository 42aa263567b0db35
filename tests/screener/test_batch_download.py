"""Batched Yahoo downloads into the bars cache: batches of BATCH_SIZE, retries with
back-off, a ticker Yahoo lacks reported (never invented), nothing fetched offline. The
downloader is a stand-in (tests never reach the network)."""

from __future__ import annotations

import pandas as pd
import pytest

from core.config import get_settings
from core.data import batch, network
from core.data.cache import FrameCache
from tests.conftest import synthetic_ohlcv


def _yahoo_like(symbols, n=60):
    """A SYNTHETIC multi-ticker frame shaped like yfinance.download(group_by='ticker')."""
    parts = {}
    for i, s in enumerate(symbols):
        f = synthetic_ohlcv(n, seed=i)
        parts[s] = pd.DataFrame({"Open": f["open"], "High": f["high"], "Low": f["low"],
                                 "Close": f["close"], "Adj Close": f["close"],
                                 "Volume": f["volume"]})
    return pd.concat(parts, axis=1)


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setenv("QUANTDESK_OFFLINE", "0")
    get_settings.cache_clear()
    monkeypatch.setattr(network, "yahoo_reachable", lambda timeout=None: True)


def test_batches_cache_and_missing(online):
    calls = []

    def download(syms, interval):
        calls.append(list(syms))
        raw = _yahoo_like([s for s in syms if s != "GONE"] or ["PAD"])
        for col in ("Open", "High", "Low", "Close", "Adj Close", "Volume"):
            raw[("GONE", col)] = float("nan")  # yfinance's all-NaN column for a miss
        return raw

    syms = ["A1", "A2", "A3", "GONE", "A5"]
    failed = batch.prefetch_yahoo(syms, "1d", download=download, batch_size=2,
                                  sleep=lambda s: None)
    assert [len(c) for c in calls] == [2, 2, 1]
    assert set(failed) == {"GONE"} and "no 1d bars" in failed["GONE"]
    cache = FrameCache(get_settings().cache_dir)
    try:
        hit = cache.get("yahoo:A1:1d")
        assert hit is not None and list(hit[0].columns)[:4] == ["open", "high", "low", "close"]
        assert cache.get("yahoo:GONE:1d") is None
    finally:
        cache.close()
    calls.clear()  # fresh entries are not downloaded again
    batch.prefetch_yahoo(syms, "1d", download=download, batch_size=2, sleep=lambda s: None)
    assert calls == [["GONE"]]


def test_failed_batch_is_retried_then_reported(online):
    attempts, sleeps = [], []

    def flaky(syms, interval):
        attempts.append(1)
        raise ConnectionError("reset by peer")

    failed = batch.prefetch_yahoo(["X", "Y"], "1d", download=flaky, sleep=sleeps.append)
    assert len(attempts) == batch.RETRIES + 1 and sleeps == [2.0, 4.0]
    assert set(failed) == {"X", "Y"} and "ConnectionError" in failed["X"]


def test_offline_fetches_nothing():
    def boom(syms, interval):
        raise AssertionError("no download offline")

    assert batch.prefetch_yahoo(["A"], "1d", download=boom) == {}
