"""Fixtures of the volatility tests."""

import numpy as np
import pandas as pd
import pytest


def _synthetic_ohlcv(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A SYNTHETIC random-walk OHLCV frame (1 % daily noise) for tests only."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * np.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.004, n)))
    idx = pd.bdate_range("2015-01-01", periods=n, tz="UTC", name="timestamp")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.integers(1_000, 10_000, n).astype(float)}, index=idx)


@pytest.fixture
def synthetic_ohlcv():
    """Factory ``synthetic_ohlcv(n, seed)`` of SYNTHETIC OHLCV frames."""
    return _synthetic_ohlcv
