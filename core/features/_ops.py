"""Small causal array helpers for the feature builder (no lookahead by construction).

Every helper here reads values at positions <= t to produce the value at t. Arrays are 1-D
float64 numpy arrays; windows and lags are counted in bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def f64(x) -> np.ndarray:
    """C-contiguous float64 array (what TA-Lib's C functions require)."""
    return np.ascontiguousarray(x, dtype=np.float64)


def lag(x: np.ndarray, k: int) -> np.ndarray:
    """Value ``k`` bars earlier (``k >= 1``); the first ``k`` entries are NaN.

    Raises:
        ValueError: ``k < 1`` (a non-positive lag would read the present or the future).
    """
    if k < 1:
        raise ValueError("lag must be >= 1 bar (a negative lag would look ahead)")
    out = np.full_like(x, np.nan)
    if k < len(x):
        out[k:] = x[:-k]
    return out


def div(num: np.ndarray, den: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """``num / den`` with ``fill`` where ``den == 0`` (0/0 from flat bars or zero volume).

    NaN inputs stay NaN (warm-up); the result never holds +-inf (inf becomes NaN).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num / den, dtype=np.float64)
    zero = den == 0
    if zero.any():
        out = np.where(zero & ~np.isnan(num), fill, out)
    out[np.isinf(out)] = np.nan
    return out


def rolling_skew(x: np.ndarray, n: int) -> np.ndarray:
    """Trailing ``n``-bar sample skewness (bias-corrected, as pandas ``Series.rolling.skew``)."""
    return pd.Series(x).rolling(n).skew().to_numpy()


def rolling_kurt(x: np.ndarray, n: int) -> np.ndarray:
    """Trailing ``n``-bar sample excess kurtosis (Fisher, bias-corrected; pandas ``kurt``)."""
    return pd.Series(x).rolling(n).kurt().to_numpy()
