"""core.lru.LRUCache: bounded, least recently used first out, age limits, get_or_create, and
safe when many threads (browser tabs, API workers) use it at once."""

import sys
import threading

import pytest

from core.lru import LRUCache


def test_lru_evicts_the_least_recently_used_and_expires_by_age():
    now = [0.0]
    c = LRUCache(2, clock=lambda: now[0])
    c.put("a", 1)
    c.put("b", 2)
    assert c.get("a") == 1  # a is now the most recent
    c.put("c", 3)
    assert c.get("b") is None and len(c) == 2
    now[0] = 10.0
    assert c.get("a", max_age_s=5.0) is None and c.get("c", max_age_s=20.0) == 3
    assert (c.hits, c.misses) == (2, 2)


def test_get_or_create_makes_a_missing_value_once_and_stores_nothing_on_error():
    c = LRUCache(4)
    calls = []

    def make():
        calls.append(1)
        return len(calls)

    assert c.get_or_create("k", make) == 1 and c.get_or_create("k", make) == 1
    assert len(calls) == 1

    def boom():
        raise ValueError("fit failed")

    with pytest.raises(ValueError, match="fit failed"):
        c.get_or_create("bad", boom)
    assert c.get("bad") is None and len(c) == 1


def test_many_threads_reading_and_evicting_never_fail():
    # two keys per slot: constant eviction while other threads look keys up, switching
    # threads every microsecond (the volatility fits' old check-then-read OrderedDict raised
    # KeyError here: one thread evicted what another had just found)
    c = LRUCache(8)
    errors = []

    def work(seed: int) -> None:
        try:
            for i in range(3000):
                key = (seed * 7 + i) % 16
                assert c.get_or_create(key, lambda k=key: k * 10) == key * 10
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and len(c) <= 8
