"""Property-based fuzzing of every route from the OpenAPI schema (Schemathesis, ASGI, no
network): no 5xx, status codes and bodies as documented. Bounded: a handful of examples per
operation so the whole file stays well under a minute."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from core.api.app import create_app

schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(rate_per_minute=0, probe_yahoo=False))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_route_from_the_schema(case):
    case.call_and_validate(checks=CHECKS)
