"""The API's caches (core.api.cache): a warm answer equals a cold one, a new bar or a new
serving version is a new answer, logging happens once per bar, the cached bars are never
changed (the LRU map itself: tests/test_lru.py). No timing: speed is measured in benchmarks/."""

import pytest
from sqlmodel import select

from core.api import service
from core.api.cache import ApiCaches
from core.store import PredictionRow, session_scope, sync_models_dir

AAPL = {"symbol": "AAPL", "source": "bundled"}


def _strip(body):
    """The answer without timings (each prediction's own latency too) and the log count."""
    out = {k: v for k, v in body.items() if k not in ("latency_ms", "logged")}
    for k in ("predictions", "baseline"):
        out[k] = [{f: v for f, v in p.items() if f != "latency_ms"} for p in out[k]]
    return out


def test_warm_answer_equals_cold_and_uncached(client, app):
    cold = client.post("/predict/forecast", json=AAPL).json()
    warm = client.post("/predict/forecast", json=AAPL).json()
    plain = service.predict("forecast", service.market("AAPL", "1d", None, "bundled"))
    assert cold["predictions"] == warm["predictions"]  # the very same answer, reused
    assert _strip(cold) == _strip(warm) == _strip(service.jsonable(plain))
    assert cold["logged"] == 3 and warm["logged"] == 0  # logged once per bar
    assert app.state.caches.predictions.hits >= 1
    with session_scope() as s:
        assert len(s.exec(select(PredictionRow)).all()) == 3


def test_as_of_gives_the_answer_of_that_bar(client):
    a = client.post("/predict/forecast", json={**AAPL, "as_of": "2012-12-31"}).json()
    b = client.post("/predict/forecast", json={**AAPL, "as_of": "2013-01-31"}).json()
    c = client.post("/predict/forecast", json={**AAPL, "as_of": "2012-12-31"}).json()
    assert a["last_bar"] != b["last_bar"] and a["predictions"] != b["predictions"]
    assert _strip(a) == _strip(c)


def test_cached_bars_are_never_changed(app):
    caches = ApiCaches()
    md = service.market("AAPL", "1d", None, "bundled", caches=caches)
    md.frame.loc[md.frame.index[-1], "close"] = -1.0
    again = service.market("AAPL", "1d", "2013-01-31", "bundled", caches=caches)
    fresh = service.market("AAPL", "1d", None, "bundled", caches=caches)
    assert fresh.frame["close"].iloc[-1] > 0 and len(again.frame) < len(fresh.frame)


def test_a_changed_last_bar_is_a_new_answer():
    caches = ApiCaches()
    md = service.market("AAPL", "1d", None, "bundled", caches=caches)
    first = service.predict("volatility", md, caches)
    forming = service.market("AAPL", "1d", None, "bundled", caches=caches)
    forming.frame.loc[forming.frame.index[-1], "close"] *= 1.05  # the bar is still forming
    second = service.predict("volatility", forming, caches)
    assert first["predictions"][0]["value"] != pytest.approx(second["predictions"][0]["value"])


def test_disable_through_the_api_is_seen_by_the_next_warm_request(client, admin_key):
    with session_scope() as s:
        sync_models_dir(session=s, who="test")
    assert client.post("/predict/forecast", json=AAPL).status_code == 200
    assert client.post("/predict/forecast", json=AAPL).status_code == 200
    r = client.post("/admin/disable/forecast", headers={"X-API-Key": admin_key})
    assert r.status_code == 200, r.text
    r = client.post("/predict/forecast", json=AAPL)
    assert r.status_code == 503 and "disabled" in r.json()["detail"]
    client.post("/admin/enable/forecast", headers={"X-API-Key": admin_key})
    assert client.post("/predict/forecast", json=AAPL).status_code == 200


def test_bars_in_the_body_are_not_cached(client, app):
    frame = service.market("MSFT", "1d", None, "bundled").frame.iloc[-400:]
    bars = [{"timestamp": ts.isoformat(), "open": b.open, "high": b.high, "low": b.low,
             "close": b.close, "volume": b.volume} for ts, b in frame.iterrows()]
    for _ in range(2):
        assert client.post("/predict/volatility", json={"bars": bars}).status_code == 200
    assert len(app.state.caches.predictions) == 0


def test_the_event_loop_path_serves_only_what_is_in_memory(client, app):
    caches = app.state.caches

    def warm():
        return service.predict_warm("forecast", "AAPL", "1d", None, "bundled", caches)

    assert warm() is None  # nothing loaded yet: the worker thread answers
    cold = client.post("/predict/forecast", json=AAPL).json()
    hit = warm()
    assert hit is not None and _strip(hit) == _strip(cold) and hit["logged"] == 0
    caches.versions.clear()  # serving versions must be read from the store again
    assert warm() is None
    assert client.post("/predict/forecast", json=AAPL).status_code == 200
    assert warm() is not None
    assert service.predict_warm("forecast", None, "1d", None, "bundled", caches) is None
