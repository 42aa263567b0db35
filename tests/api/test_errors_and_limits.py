"""Bad input -> 4xx JSON naming the field; body and bars limits; the 500 handler; the rate
limit."""

from fastapi.testclient import TestClient

from core.api import app as api_app
from core.api import service
from core.api.app import create_app
from core.api.schemas import MAX_BARS


def _bar(i, close=10.0):
    return {"timestamp": f"2020-01-{i % 28 + 1:02d}T{i % 24:02d}:00:00", "open": close,
            "high": close, "low": close, "close": close}


def test_neither_symbol_nor_bars(client):
    r = client.post("/predict/forecast", json={"interval": "1d"})
    assert r.status_code == 422
    assert r.json()["error"] == "RequestValidationError" and "symbol" in r.json()["detail"]


def test_missing_bar_field_names_it(client):
    r = client.post("/predict/volatility", json={"bars": [{"timestamp": "2020-01-01",
                                                            "open": 1, "high": 1, "low": 1}]})
    assert r.status_code == 422
    assert r.json()["field"] == "bars.0.close"
    assert "Traceback" not in r.text


def test_bars_breaking_the_ohlcv_contract_are_422(client):
    bars = [_bar(i) for i in range(30)]
    bars[3]["close"] = -5.0
    r = client.post("/predict/volatility", json={"bars": bars})
    assert r.status_code == 422
    assert r.json()["error"] == "DataValidationError" and "2020-01-04" in r.json()["detail"]
    assert r.json()["field"] == "bars"


def test_too_few_bars_for_the_model(client):
    r = client.post("/predict/forecast", json={"bars": [_bar(i) for i in range(10)]})
    assert r.status_code == 422 and "300" in r.json()["detail"]


def test_bad_enum_and_pattern_fields(client):
    r = client.post("/predict/forecast", json={"symbol": "MSFT", "interval": "7x"})
    assert r.status_code == 422 and r.json()["field"] == "interval"
    r = client.post("/predict/forecast", json={"symbol": "MS FT; drop"})
    assert r.status_code == 422 and r.json()["field"] == "symbol"
    r = client.post("/predict/risk", json={"symbol": "MSFT", "equity": -1})
    assert r.status_code == 422 and r.json()["field"] == "equity"


def test_unknown_symbol_is_404_and_as_of_before_data_is_422(client):
    r = client.post("/predict/forecast", json={"symbol": "NOPE"})
    assert r.status_code == 404 and r.json()["error"] == "UnknownSymbolError"
    r = client.post("/predict/forecast", json={"symbol": "MSFT", "as_of": "1900-01-01"})
    assert r.status_code == 422 and "1900-01-01" in r.json()["detail"]


def test_bars_limit_is_named_in_the_message(client):
    bars = [{"timestamp": i, "open": 1, "high": 1, "low": 1, "close": 1}
            for i in range(MAX_BARS + 1)]
    r = client.post("/predict/volatility", json={"bars": bars})
    assert r.status_code == 422
    assert f"{MAX_BARS}" in r.json()["detail"] and r.json()["field"] == "bars"


def test_body_size_limit_is_413_with_the_limit():
    with TestClient(create_app(rate_per_minute=0, max_body_bytes=1000)) as c:
        r = c.post("/predict/volatility", json={"bars": [_bar(i) for i in range(100)]})
    assert r.status_code == 413
    assert "1,000 bytes" in r.json()["detail"]


def test_unexpected_error_is_a_500_without_traceback(client, monkeypatch):
    def boom(name):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(service, "model_detail", boom)
    r = client.get("/models/forecast")
    assert r.status_code == 500
    assert r.json()["error"] == "InternalError"
    assert "secret" not in r.text and "Traceback" not in r.text


def test_unknown_route_and_method_are_json(client):
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
    r = client.get("/batch")
    assert r.status_code == 405 and r.json()["error"] == "MethodNotAllowed"


def test_error_classes_map_to_statuses():
    assert api_app.status_of(api_app.NotTrainedError("x")) == 503
    assert api_app.status_of(api_app.UnknownSymbolError("x")) == 404
    assert api_app.status_of(api_app.DataValidationError("x")) == 422
    assert api_app.status_of(api_app.QuantdeskError("x")) == 400


def test_rate_limit_answers_429_with_retry_after():
    with TestClient(create_app(rate_per_minute=60, burst=2, probe_yahoo=False)) as c:
        assert c.get("/models").status_code == 200
        assert c.get("/models").status_code == 200
        r = c.get("/models")
    assert r.status_code == 429
    assert r.json()["error"] == "RateLimitError"
    assert int(r.headers["Retry-After"]) >= 1


def test_rate_limit_is_per_key_and_junk_keys_share_the_address(admin_key, read_key):
    with TestClient(create_app(rate_per_minute=60, burst=1, probe_yahoo=False)) as c:
        assert c.get("/models", headers={"X-API-Key": admin_key}).status_code == 200
        assert c.get("/models", headers={"X-API-Key": read_key}).status_code == 200
        assert c.get("/models", headers={"X-API-Key": admin_key}).status_code == 429
        assert c.get("/models", headers={"X-API-Key": "junk-1"}).status_code == 200
        assert c.get("/models", headers={"X-API-Key": "junk-2"}).status_code == 429
