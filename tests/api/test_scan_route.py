"""POST /scan: the Screener page over HTTP. Rows with the screener's columns, filters and
sort as the core applies them, paging like /batch (every matching row exactly once, in
order, from one scoring), and bad input as 4xx naming the field."""

from core.screener import filters
from core.screener.row import COLUMNS
from core.screener.scan import scan
from core.universe import custom

SYMBOLS = ["MSFT", "aapl", "NOPE", "MSFT"]


def _scan(client, **extra):
    body = {"symbols": SYMBOLS, "engine": "serial", **extra}
    r = client.post("/scan", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_scan_rows_equal_the_core_and_pages_cover_them_once(client, monkeypatch):
    first = _scan(client, limit=1)
    assert first["universe"]["name"] == "custom" and first["universe"]["symbols"] == 3
    assert first["scanned"] == first["total"] == 3 and first["failed"] == 1
    assert first["engine"] == "serial" and first["cached"] is False
    assert first["count"] == 1 and first["next_offset"] == 1
    row = first["rows"][0]
    assert set(row) == set(COLUMNS) and row["symbol"] == "MSFT" and row["error"] is None
    assert row["source"] == "bundled" and isinstance(row["bars"], int)
    assert any("Bundled history" in n for n in first["notes"])
    assert first["versions"] and first["latency_ms"] > 0

    # the next pages never rescore: the scan is reused, and the core's cache holds the rows
    import core.screener.scan as core_scan

    def no_scoring(*a, **k):
        raise AssertionError("a page rescored the universe")
    monkeypatch.setattr(core_scan, "scan_inputs", no_scoring)
    seen, offset = [], 0
    while offset is not None:
        page = _scan(client, offset=offset, limit=1)
        assert page["total"] == 3
        seen += [r["symbol"] for r in page["rows"]]
        offset = page["next_offset"]
    assert seen == ["MSFT", "AAPL", "NOPE"]
    # a new app (cold API cache) still pages from the core's scan cache
    client.app.state.caches.clear()
    again = _scan(client, offset=1, limit=5)
    assert again["cached"] is True and again["engine"] == "cache"
    assert [r["symbol"] for r in again["rows"]] == ["AAPL", "NOPE"]
    assert again["next_offset"] is None

    # the values equal the core's own scan, filtered and sorted like the page does
    monkeypatch.undo()
    res = scan(custom(["MSFT", "AAPL", "NOPE"]), "1d", engine="serial")
    want = filters.apply(res.rows, [filters.parse_condition("error = none")], "close", True)
    got = _scan(client, filters=["error = none"], sort="close", descending=True)
    assert [r["symbol"] for r in got["rows"]] == list(want["symbol"])
    assert got["total"] == 2 and got["filters"] == ["error = none"]
    assert [r["close"] for r in got["rows"]] == [float(x) for x in want["close"]]


def test_scan_bad_input_names_the_field(client):
    cases = [
        ({"universe": "nope"}, "universe", "bundled"),
        ({"symbols": ["MSFT"], "universe": "bundled"}, "body", "not both"),
        ({}, "body", "universe"),
        ({"symbols": ["MS FT"]}, "symbols.0", "pattern"),
        ({"symbols": ["MSFT"], "filters": ["rsi_14 < abc"]}, "filters.0", "number"),
        ({"symbols": ["MSFT"], "filters": ["nope > 1"]}, "filters.0", "Unknown column"),
        ({"symbols": ["MSFT"], "sort": "nope"}, "sort", "rsi_14"),
        ({"symbols": ["MSFT"], "limit": 0}, "limit", "greater"),
        ({"symbols": ["MSFT"], "engine": "spark"}, "engine", "serial"),
        ({"symbols": ["MSFT"], "filters": ["close > 1"] * 21}, "filters", "21"),
    ]
    for body, field, words in cases:
        r = client.post("/scan", json=body)
        assert r.status_code == 422, (body, r.text)
        got = r.json()
        assert got["field"] == field, (body, got)
        assert words.lower() in got["detail"].lower(), (body, got)
        assert "Traceback" not in r.text
