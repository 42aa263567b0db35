"""Naive baselines every model is reported beside.

- ``naive_zero``: zero log-return forecast = random walk in log price (Meese & Rogoff 1983).
- ``always_up`` / ``majority_direction``: majority-class direction classifier.
"""

from __future__ import annotations

import numpy as np


def naive_zero(n: int) -> np.ndarray:
    """Zero forecasts of length ``n`` (float64): tomorrow's price = today's price."""
    return np.zeros(int(n), dtype="float64")


def always_up(y) -> tuple[float, int, int]:
    """Directional accuracy of predicting "up" on every bar: (share of y > 0, hits, n)."""
    y = np.asarray(y, float)
    y = y[np.isfinite(y)]
    if not len(y):
        return float("nan"), 0, 0
    hits = int(np.sum(y > 0))
    return hits / len(y), hits, len(y)


def majority_direction(y_train) -> int:
    """+1 when most training targets are > 0, else -1 (the majority-class baseline learned on
    the training window only)."""
    y = np.asarray(y_train, float)
    y = y[np.isfinite(y)]
    return 1 if len(y) and np.mean(y > 0) >= 0.5 else -1
