"""POST /batch pages a universe: ``offset``/``limit`` in, ``next_offset`` out, every symbol
scored exactly once over the pages, in the order given."""

from core.api.schemas import MAX_BATCH

UNIVERSE = ["MSFT", "AAPL", "NOPE", "IBM", "GOOG", "^GSPC", "^IXIC"]


def _page(client, offset, limit):
    r = client.post("/batch", json={"family": "volatility", "source": "bundled",
                                    "symbols": UNIVERSE, "offset": offset, "limit": limit})
    assert r.status_code == 200, r.text
    return r.json()


def test_pages_cover_the_universe_once_in_order(client):
    seen, offsets, offset = [], [], 0
    while offset is not None:
        body = _page(client, offset, 3)
        offsets.append(body["offset"])
        assert body["total"] == len(UNIVERSE) and body["limit"] == 3
        assert body["count"] == len(body["results"]) <= 3
        seen += [x["symbol"] for x in body["results"]]
        offset = body["next_offset"]
    assert offsets == [0, 3, 6]
    assert seen == UNIVERSE


def test_a_page_equals_the_same_symbols_in_one_call(client):
    page = _page(client, 3, 2)
    whole = _page(client, 0, MAX_BATCH)
    assert whole["next_offset"] is None and whole["count"] == len(UNIVERSE)
    assert whole["failed"] == 1 and page["failed"] == 0
    want = {x["symbol"]: x["result"]["predictions"] for x in whole["results"][3:5]}
    got = {x["symbol"]: x["result"]["predictions"] for x in page["results"]}
    assert got == want


def test_offset_past_the_end_is_an_empty_last_page(client):
    body = _page(client, len(UNIVERSE) + 5, 10)
    assert body["count"] == 0 and body["results"] == [] and body["next_offset"] is None


def test_default_page_is_the_first_fifty(client):
    r = client.post("/batch", json={"family": "volatility", "source": "bundled",
                                    "symbols": ["NOPE"] * (MAX_BATCH + 5)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == MAX_BATCH and body["next_offset"] == MAX_BATCH
    assert body["total"] == MAX_BATCH + 5 and body["failed"] == MAX_BATCH
