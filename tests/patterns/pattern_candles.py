"""Hand-built SYNTHETIC candles for detector tests (never shown to users)."""

from __future__ import annotations

import pandas as pd

X = 100.0  # price level where the pattern starts


def context(kind: str, n: int = 20, end: float = X) -> list[tuple[float, float, float, float]]:
    """``n`` candles ending with close ``end``: 'down' (black bars, -1/bar, range 1.6),
    'up' (white bars, +1/bar) or 'flat' (alternating +-0.2 bodies, range 1.6)."""
    bars = []
    if kind in ("down", "up"):
        step = -1.0 if kind == "down" else 1.0
        for i in range(n):
            c = end - step * (n - 1 - i)
            o = c - step
            bars.append((o, max(o, c) + 0.3, min(o, c) - 0.3, c))
    else:
        for i in range(n):
            o, c = (end, end + 0.2) if i % 2 else (end + 0.2, end)
            bars.append((o, max(o, c) + 0.7, min(o, c) - 0.7, c))
    return bars


def frame(bars) -> pd.DataFrame:
    """OHLCV frame (volume 1000) from (open, high, low, close) tuples, business days."""
    idx = pd.bdate_range("2021-01-04", periods=len(bars), tz="UTC", name="timestamp")
    df = pd.DataFrame(bars, columns=["open", "high", "low", "close"], index=idx, dtype="float64")
    df["volume"] = 1000.0
    return df
