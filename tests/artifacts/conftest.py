"""Checks of the committed model artifacts: the results they record (and the README quotes)
still hold. Named apart from the behaviour tests; run alone with `make check-artifacts`."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/artifacts/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.artifacts)
