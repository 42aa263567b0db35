"""Point-forecast and interval metrics on aligned 1-D arrays (NaN pairs are dropped).

All inputs are array-likes of float (same length); returns are in the unit of the inputs
(e.g. log return per ``horizon`` bars, a fraction, not percent). Definitions follow
Hyndman & Koehler (2006) "Another look at measures of forecast accuracy" (RMSE/MAE ratios to
a naive benchmark; ``rmse_ratio`` = Theil's U2 with a zero-return naive forecast) and Grinold &
Kahn, *Active Portfolio Management* (2000) for the information coefficient (Spearman rank IC).
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _st


def _pair(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype="float64").ravel()
    p = np.asarray(p, dtype="float64").ravel()
    if y.shape != p.shape:
        raise ValueError(f"length mismatch: {y.shape[0]} targets vs {p.shape[0]} predictions")
    ok = np.isfinite(y) & np.isfinite(p)
    return y[ok], p[ok]


def mae(y, p) -> float:
    """Mean absolute error; NaN when no finite pair."""
    y, p = _pair(y, p)
    return float(np.mean(np.abs(y - p))) if len(y) else float("nan")


def rmse(y, p) -> float:
    """Root mean squared error; NaN when no finite pair."""
    y, p = _pair(y, p)
    return float(np.sqrt(np.mean((y - p) ** 2))) if len(y) else float("nan")


def rmse_ratio(y, p, baseline=None) -> float:
    """RMSE(model) / RMSE(baseline); baseline defaults to the zero forecast (random walk in
    log price). < 1 means the model beats the baseline. NaN when the baseline RMSE is 0."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    b = np.zeros_like(y) if baseline is None else np.asarray(baseline, float)
    ok = np.isfinite(y) & np.isfinite(p) & np.isfinite(b)
    den = rmse(y[ok], b[ok])
    return rmse(y[ok], p[ok]) / den if den and np.isfinite(den) else float("nan")


def mae_ratio(y, p, baseline=None) -> float:
    """MAE(model) / MAE(baseline) (baseline default: zero forecast)."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    b = np.zeros_like(y) if baseline is None else np.asarray(baseline, float)
    ok = np.isfinite(y) & np.isfinite(p) & np.isfinite(b)
    den = mae(y[ok], b[ok])
    return mae(y[ok], p[ok]) / den if den and np.isfinite(den) else float("nan")


def directional_accuracy(y, p) -> tuple[float, int, int]:
    """Share of bars where ``sign(p) == sign(y)`` (a zero prediction counts as "up", matching
    the always-up baseline; zero targets count as "down" i.e. not up).

    Returns:
        (accuracy in [0, 1], hits, n).
    """
    y, p = _pair(y, p)
    if not len(y):
        return float("nan"), 0, 0
    hits = int(np.sum((p >= 0) == (y > 0)))
    return hits / len(y), hits, len(y)


def spearman_ic(y, p) -> float:
    """Spearman rank correlation between predictions and realised targets (the IC);
    NaN when either side is constant or fewer than 3 pairs."""
    y, p = _pair(y, p)
    if len(y) < 3 or np.ptp(y) == 0 or np.ptp(p) == 0:
        return float("nan")
    return float(_st.spearmanr(p, y).statistic)


def coverage(y, lower, upper) -> float:
    """Share of targets inside ``[lower, upper]`` (inclusive), in [0, 1]."""
    y = np.asarray(y, float)
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    ok = np.isfinite(y) & np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return float("nan")
    return float(np.mean((y[ok] >= lo[ok]) & (y[ok] <= hi[ok])))
