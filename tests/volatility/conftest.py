"""Fixtures of the volatility tests."""

from functools import partial

import pytest

from tests.conftest import synthetic_ohlcv as _synthetic

_synthetic_ohlcv = partial(_synthetic, start="2015-01-01")


@pytest.fixture
def synthetic_ohlcv():
    """Factory ``synthetic_ohlcv(n, seed)`` of SYNTHETIC OHLCV frames."""
    return _synthetic_ohlcv
