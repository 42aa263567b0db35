"""FrameCache: an entry that cannot be decoded is a miss, is deleted, and is refetched."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from core.config import get_settings
from core.data import load_ohlcv
from core.data.cache import FrameCache, shared_cache
from tests.conftest import synthetic_ohlcv


def _poison(key: str) -> None:
    cache = FrameCache(get_settings().cache_dir)
    try:
        cache._cache.set(key, b"PAR1 garbage bytes, not parquet at all")
        cache._cache.set(key + ":at", b"1700000000.0")
    finally:
        cache.close()


def test_garbage_entry_is_a_miss_and_is_deleted():
    key = "yahoo:MSFT:1d"
    _poison(key)
    cache = FrameCache(get_settings().cache_dir)
    try:
        assert cache.get(key) is None
        assert cache._cache.get(key) is None and cache._cache.get(key + ":at") is None
        frame = synthetic_ohlcv(20)
        cache.put(key, frame)  # the next fetch overwrites it and is read back
        got, at = cache.get(key)
        pd.testing.assert_frame_equal(got, frame, check_freq=False)
        assert at > 0
    finally:
        cache.close()


def test_garbage_entry_is_refetched_from_yahoo(monkeypatch):
    """Before: ArrowInvalid from the cache read broke the symbol for good. Now the live
    path refetches and caches a good copy."""
    import core.data as data

    monkeypatch.setenv("QUANTDESK_OFFLINE", "0")
    get_settings.cache_clear()
    bars = load_ohlcv("MSFT", "1d", source="bundled").frame.tail(300)
    calls = []

    def fake_fetch(symbol, interval, timeout=None):
        calls.append(symbol)
        return bars

    monkeypatch.setattr(data, "fetch_yahoo", fake_fetch)
    monkeypatch.setattr(data.network, "yahoo_reachable", lambda timeout=None: True)
    _poison("yahoo:MSFT:1d")
    md = load_ohlcv("MSFT", "1d")
    assert calls == ["MSFT"] and md.source == "yahoo" and len(md.frame) == 300
    md2 = load_ohlcv("MSFT", "1d")  # the refetched copy was cached
    assert calls == ["MSFT"] and md2.source == "cache"


def test_garbage_entry_offline_falls_back_to_bundled():
    _poison("yahoo:MSFT:1d")
    md = load_ohlcv("MSFT", "1d")
    assert md.source == "bundled"


class _Payload:
    """Unpickling this writes a marker file: proof that a planted row was executed."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (self.marker.write_text, ("pwned",))


def test_a_planted_pickle_row_is_refused_unread_and_dropped(tmp_path, synthetic_frame):
    import diskcache

    from core.data.cache import FrameCache

    marker = tmp_path / "marker"
    with diskcache.Cache(str(tmp_path / "cache")) as plain:  # an attacker's default Disk
        plain.set("yahoo:EVIL:1d", _Payload(marker))
        plain.set("yahoo:EVIL:1d:at", _Payload(marker))
    cache = FrameCache(tmp_path / "cache")
    try:
        assert cache.get("yahoo:EVIL:1d") is None
        assert not marker.exists()  # never unpickled
        cache.put("yahoo:EVIL:1d", synthetic_frame)  # the refetch overwrites it
        frame, _ = cache.get("yahoo:EVIL:1d")
        assert len(frame) == len(synthetic_frame)
        with pytest.raises(TypeError, match="bytes only"):
            cache._cache.set("x", {"not": "bytes"})
    finally:
        cache.close()


def test_the_shared_cache_is_opened_once_per_directory_and_again_once_deleted(tmp_path):
    a = shared_cache(tmp_path / "c")
    assert shared_cache(tmp_path / "c") is a
    assert shared_cache(tmp_path / "other") is not a
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o700
    FrameCache.shared(tmp_path / "c").close()  # a shared handle stays open
    a.set("k", b"v")
    assert a.get("k") == b"v"
    shutil.rmtree(tmp_path / "c")  # a user cleared the cache directory
    b = shared_cache(tmp_path / "c")
    assert b is not a and b.get("k") is None
    b.set("k", b"w")
    assert (tmp_path / "c").is_dir() and shared_cache(tmp_path / "c").get("k") == b"w"


def test_a_bundled_symbol_loads_after_the_cache_directory_was_deleted():
    assert load_ohlcv("MSFT").frame.shape[0] > 1000
    shutil.rmtree(get_settings().cache_dir)
    md = load_ohlcv("MSFT")
    assert md.frame.shape[0] > 1000 and get_settings().cache_dir.is_dir()


def test_a_copy_remembers_when_its_content_last_changed(tmp_path, synthetic_frame, monkeypatch):
    """``changed_at`` moves when other bars are stored, not when the same bars are
    downloaded again (a page reruns for news only); ``fetched_at`` moves every time."""
    import core.data.cache as cache_mod

    now = [1000.0]
    monkeypatch.setattr(cache_mod.time, "time", lambda: now[0])
    cache = FrameCache(tmp_path / "cache")
    assert cache.changed_at("k") is None
    assert cache.put("k", synthetic_frame) is True
    now[0] = 1060.0
    assert cache.put("k", synthetic_frame.copy()) is False       # the same bars again
    assert (cache.fetched_at("k"), cache.changed_at("k")) == (1060.0, 1000.0)
    now[0] = 1120.0
    assert cache.put("k", synthetic_frame.iloc[:-1]) is True     # other bars
    assert (cache.fetched_at("k"), cache.changed_at("k")) == (1120.0, 1120.0)
    cache.delete("k")
    assert cache.changed_at("k") is None and cache.fetched_at("k") is None
    cache.close()
