"""Fixtures for the risk tests."""

from __future__ import annotations

import pytest

from tests.conftest import synthetic_ohlcv


@pytest.fixture(scope="session")
def synth():
    """Factory ``synth(n, seed)`` of SYNTHETIC OHLCV frames (tests only)."""
    return synthetic_ohlcv
