"""Property-based fuzzing of every route from the OpenAPI schema (Schemathesis, ASGI, no
network): no 5xx, status codes and bodies as documented. Bounded: a handful of examples per
operation so the whole file stays well under a minute.

``POST /scan`` is fuzzed with a small body (at most 3 symbols, an index universe scanned as
the bundled one, never on Ray), so one example scores a few symbols at most; the models
are loaded once before the first example so no request waits on a cold load."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from core.api.app import create_app
from core.universe import INDEXES

schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(rate_per_minute=0, probe_yahoo=False))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
#: most symbols one fuzzed scan scores
SCAN_SYMBOLS = 3
_WARM: list[bool] = []


@schema.hook
def map_body(context, body):
    """A small scan: few symbols, no Ray, no index universe (hundreds of symbols)."""
    op = getattr(context, "operation", None)
    if op is None or op.path != "/scan" or not isinstance(body, dict):
        return body
    body = dict(body)
    if isinstance(body.get("symbols"), list):
        body["symbols"] = body["symbols"][:SCAN_SYMBOLS]
    if body.get("engine") in ("ray", "auto"):
        body["engine"] = "serial"
    if isinstance(body.get("universe"), str) and body["universe"].lower() in INDEXES:
        body["universe"] = "bundled"
    return body


@pytest.fixture(autouse=True)
def warm_models():
    """Load the scan's and the sentiment route's models once per process (in this test's
    own data dir): a cold MiniLM load on a busy 2-core machine outlasts the client's 10 s
    read timeout, and that is start-up time, not what the fuzzer checks."""
    if not _WARM:
        from core.api import service
        from core.screener.scan import scan
        from core.universe import custom

        scan(custom(["MSFT"]), "1d", engine="serial")
        service.predict_sentiment(["Shares rose after the results."])
        _WARM.append(True)


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_route_from_the_schema(case):
    case.call_and_validate(checks=CHECKS)
