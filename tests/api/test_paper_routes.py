"""The Paper Book over HTTP: a key's own book (owner ``api:<key name>``), orders filled by
/paper/mark on the replayed bundled history, the desk's signal followed with its
predictions logged, cancel and reset; every answer says it is simulated; auth and bad
input as 4xx naming the field."""

import pytest
from sqlmodel import select

from core.paper import desk
from core.store import PredictionRow, session_scope


def _h(key):
    return {"X-API-Key": key}


def test_paper_needs_a_key(client):
    assert client.get("/paper").status_code == 401
    r = client.post("/paper/orders", json={"symbol": "MSFT", "side": "buy", "qty": 1},
                    headers=_h("qd_wrong"))
    assert r.status_code == 401 and r.json()["error"] == "AuthError"


def test_order_mark_status_cancel_reset(client, read_key, admin_key):
    st = client.get("/paper", headers=_h(read_key)).json()
    assert st["owner"] == "api:dashboard" and st["simulated"] is True
    assert "broker" in st["note"] and st["positions"] == [] and st["cash"] == 100_000.0

    r = client.post("/paper/orders", headers=_h(read_key),
                    json={"symbol": "msft", "side": "buy", "qty": 10})
    assert r.status_code == 201, r.text
    order = r.json()["order"]
    assert r.json()["simulated"] is True
    assert order["status"] == "pending" and order["symbol"] == "MSFT"
    # offline the book replays the bundled history from REPLAY_BARS before its end
    assert order["placed_at"] < "2013-03-01"

    r = client.post("/paper/mark", headers=_h(read_key), json={"steps": 2})
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["simulated"] is True and m["symbols"][0]["bars"] == 2
    fill = m["symbols"][0]["fills"][0]
    assert fill["order_id"] == order["id"] and fill["price"] > fill["open"]  # costs paid
    pos = m["status"]["positions"][0]
    assert pos["quantity"] == 10 and m["status"]["open_orders"] == []
    assert m["status"]["cash"] == pytest.approx(100_000.0 - 10 * fill["price"]
                                                - fill["commission"])

    # another key has its own book
    assert client.get("/paper", headers=_h(admin_key)).json()["positions"] == []

    o2 = client.post("/paper/orders", headers=_h(read_key),
                     json={"symbol": "MSFT", "side": "sell", "qty": 4}).json()["order"]
    assert client.delete(f"/paper/orders/{o2['id']}", headers=_h(admin_key)).status_code == 404
    r = client.delete(f"/paper/orders/{o2['id']}", headers=_h(read_key))
    assert r.status_code == 200 and r.json()["cancelled"] == o2["id"]
    assert client.get("/paper", headers=_h(read_key)).json()["open_orders"] == []

    r = client.post("/paper/reset", headers=_h(read_key), json={"cash": 5000})
    assert r.status_code == 200 and r.json()["cash"] == 5000 and r.json()["positions"] == []


def test_follow_logs_predictions_and_links_the_order(client, read_key):
    r = client.post("/paper/follow/AAPL", headers=_h(read_key), json={"source": "bundled"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["simulated"] is True and body["symbol"] == "AAPL"
    assert body["action"] in ("STRONG_BUY", "BUY", "HOLD", "SELL", "STRONG_SELL")
    assert body["model_versions"] and body["logged"] > 0 and body["latency_ms"] > 0
    assert body["reasons"] and body["message"]
    with session_scope() as s:
        rows = s.exec(select(PredictionRow).where(PredictionRow.symbol == "AAPL")).all()
    assert len(rows) >= body["logged"]
    assert {r.origin_ts.date().isoformat() for r in rows} == {body["bar"][:10]}
    if body["order"] is not None:
        assert body["order"]["reason"] == "signal" and body["order"]["signal"] == body["action"]
    # the same book seen from the core
    with session_scope() as s:
        st = desk.status("api:dashboard", session=s)
    assert [p["symbol"] for p in st["positions"]] == ["AAPL"]


def test_paper_bad_input_names_the_field(client, read_key):
    h = _h(read_key)
    cases = [
        ("post", "/paper/orders", {"symbol": "MSFT", "side": "hold", "qty": 1}, 422, "side"),
        ("post", "/paper/orders", {"symbol": "MSFT", "side": "buy", "qty": 0}, 422, "qty"),
        ("post", "/paper/orders", {"symbol": "MSFT", "side": "buy", "qty": 1e8}, 422, "qty"),
        ("post", "/paper/orders", {"symbol": "MSFT", "side": "sell", "qty": 5}, 422, "qty"),
        ("post", "/paper/orders", {"symbol": "NOPE", "side": "buy", "qty": 1}, 404, "symbol"),
        ("post", "/paper/mark", {"steps": 10**6}, 422, "steps"),
        ("post", "/paper/reset", {"cash": -1}, 422, "cash"),
        ("post", "/paper/follow/NOPE", None, 404, "symbol"),
        ("delete", "/paper/orders/0", None, 422, "order_id"),
    ]
    for method, path, body, status, field in cases:
        r = getattr(client, method)(path, headers=h, **({"json": body} if body else {}))
        assert r.status_code == status, (path, body, r.text)
        assert r.json()["field"] == field, (path, body, r.json())
        assert "Traceback" not in r.text
    r = client.post("/paper/orders", headers=h, json={"symbol": "MSFT", "side": "buy",
                                                      "qty": 1e8})
    assert "Not enough cash" in r.json()["detail"]


def test_follow_a_strategy_over_http(client, read_key, admin_key):
    h = _h(read_key)
    r = client.post("/paper/strategies/MSFT", headers=h,
                    json={"example": "rsi_reversal", "source": "bundled"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["simulated"] is True and first["strategy"] == "RSI reversal"
    assert first["bar"] < "2013-03-01" and first["side"] == 0
    st = client.get("/paper", headers=h).json()
    assert st["strategies"] == [{"symbol": "MSFT", "interval": "1d", "strategy": "RSI reversal",
                                 "side": "long", "sizing": "fixed",
                                 "from_bar": first["bar"]}]
    r = client.post("/paper/mark", headers=h, json={"steps": 250, "source": "bundled"})
    assert r.status_code == 200, r.text
    sym = r.json()["symbols"][0]
    assert sym["bars"] == 250 and len(sym["decisions"]) == 250
    placed = [d for d in sym["decisions"] if d["order"] is not None]
    assert placed and all(d["order"]["reason"] == "strategy" for d in placed)
    assert placed[0]["wants"] == 1 and placed[0]["reason"] == "entry"
    assert placed[0]["signals"] == {"rsi": 1}
    # a strategy given as JSON, refused when it shorts on a book that does not
    spec = {"name": "shorty", "side": "short", "entry": {"signals": ["macd"]}}
    r = client.post("/paper/strategies/AAPL", headers=h, json={"strategy": spec,
                                                               "source": "bundled"})
    assert r.status_code == 422 and "does not go short" in r.json()["detail"], r.text
    assert client.delete("/paper/strategies/MSFT", headers=_h(admin_key)).status_code == 404
    r = client.delete("/paper/strategies/MSFT", headers=h)
    assert r.status_code == 200 and "stopped following" in r.json()["message"]
    assert client.get("/paper", headers=h).json()["strategies"] == []
    for body, field in [({"example": "nope", "source": "bundled"}, "example"),
                        ({"source": "bundled"}, "body"),
                        ({"strategy": {"name": "x", "entry": {"signals": ["rsx"]}}}, "body")]:
        r = client.post("/paper/strategies/MSFT", headers=h, json=body)
        assert r.status_code == 422, r.text
        assert "Traceback" not in r.text
