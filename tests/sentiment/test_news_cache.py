"""Issue 18: the news cache never unpickles (BytesOnlyDisk, like the bars cache); a refused or
undecodable row is a miss that get_news deletes and refetches. cached_news reads the cache
only: never the network, never a write."""

from __future__ import annotations

import diskcache
import pandas as pd
import pytest

from core.config import get_settings
from core.news import NEWS_COLUMNS, cached_news, get_news, sources
from core.news.sources import _key, _to_json, normalise_news


class _Payload:
    """Unpickling this writes a marker file: proof that a planted row was executed."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (self.marker.write_text, ("pwned",))


def _news(symbol="AAPL") -> pd.DataFrame:
    return normalise_news(pd.DataFrame({
        "published_at": pd.to_datetime(["2024-05-02 10:00", "2024-05-03 09:00"], utc=True),
        "headline": ["Apple beats estimates", "Apple slips"], "symbol": [symbol] * 2,
        "source": ["test"] * 2, "url": ["", ""]}), "test", symbol)


def _news_dir():
    d = get_settings().cache_dir / "news"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _plant(key, value) -> None:
    """Write ``value`` under ``key`` with diskcache's default Disk (an attacker's pickle)."""
    with diskcache.Cache(str(_news_dir())) as plain:
        plain.set(key, value)


@pytest.fixture
def fetched(monkeypatch):
    """Yahoo answers with two headlines; the list counts the fetches."""
    calls = []

    def fake_yahoo(symbol, count=30):
        calls.append(symbol)
        return _news(symbol)

    monkeypatch.setattr(sources, "fetch_yahoo_news", fake_yahoo)
    return calls


def test_a_planted_pickle_is_refused_unread_deleted_and_refetched(tmp_path, fetched):
    marker = tmp_path / "marker"
    key = _key("AAPL", ())
    _plant(key, _Payload(marker))
    assert cached_news("AAPL") is None and not marker.exists()
    news, notes = get_news("AAPL")
    assert not marker.exists()  # never unpickled
    assert fetched == ["AAPL"] and type(news) is pd.DataFrame
    assert list(news.columns) == NEWS_COLUMNS and len(news) == 2
    assert "cache" not in " ".join(notes)
    # the refetch replaced the planted row with JSON bytes, served from the cache next time
    again, notes = get_news("AAPL")
    assert fetched == ["AAPL"] and notes == ["from the 30-minute news cache"]
    assert again["headline"].tolist() == news["headline"].tolist()
    assert not marker.exists()


@pytest.mark.parametrize("blob", [b"\x80\x04garbage, not JSON", b"\xff\xfe\x00", b"[1, 2",
                                  b'{"headline": 3}'])
def test_a_garbage_row_is_a_miss_deleted_and_refetched(blob, fetched):
    key = _key("MSFT", ["https://example.com/feed.xml"])
    _plant(key, blob)
    assert cached_news("msft", ["https://example.com/feed.xml"]) is None
    with diskcache.Cache(str(_news_dir())) as plain:  # cached_news deleted nothing
        assert plain.get(key) == blob
    news, _ = get_news("MSFT", ["https://example.com/feed.xml"])  # RSS fails offline
    assert fetched == ["MSFT"] and len(news) == 2
    with diskcache.Cache(str(_news_dir())) as plain:
        assert plain.get(key) == _to_json(news)


def test_the_news_cache_stores_bytes_only():
    cache = sources._cache()
    try:
        with pytest.raises(TypeError, match="bytes only"):
            cache.set("x", {"not": "bytes"})
    finally:
        cache.close()


def test_cached_news_hits_after_get_news_and_never_fetches(monkeypatch, fetched):
    assert cached_news("AAPL") is None
    assert not (get_settings().cache_dir / "news").exists()  # a miss created nothing
    get_news("AAPL")
    got = cached_news("aapl")  # same key as get_news: symbol case-insensitive
    assert got is not None and got["headline"].tolist() == ["Apple slips",
                                                             "Apple beats estimates"]
    assert cached_news("AAPL", ["https://example.com/feed.xml"]) is None  # other feeds
    assert cached_news("MSFT") is None

    def no_network(*a, **k):
        raise AssertionError("cached_news reached a source")

    monkeypatch.setattr(sources, "fetch_yahoo_news", no_network)
    monkeypatch.setattr(sources, "fetch_rss", no_network)
    assert cached_news("AAPL") is not None and cached_news("GOOG") is None


def test_cached_news_misses_after_the_ttl(fetched):
    cache = sources._cache()
    try:
        cache.set(_key("IBM", ()), _to_json(_news("IBM")), expire=-1)  # already expired
    finally:
        cache.close()
    assert cached_news("IBM") is None
