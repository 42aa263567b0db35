"""A SYNTHETIC universe for load tests and benchmarks only, never offered as market data.

Each synthetic symbol is a stationary block bootstrap (Politis & Romano, "The Stationary
Bootstrap", JASA 89(428), 1994) of the bars of one bundled real history: blocks of whole
bars (their close-to-close log return, and open/high/low relative to the previous close
and the close, and volume) are resampled with mean block length :data:`MEAN_BLOCK`, so
returns keep their fat tails and short-range volatility clustering. The prices are made
up: symbols are named ``SYNTH-0001``..., their ``source`` is ``synthetic``, and nothing in
the pages or the CLI offers them; only tests and ``benchmarks/bench_screener.py`` call
:func:`synthetic_universe`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import BUNDLED_SYMBOLS, load_bundled
from core.screener.row import ScanInput

#: mean block length of the stationary bootstrap [bars]
MEAN_BLOCK = 20
#: the source label every synthetic frame carries
SOURCE = "synthetic"


def _shape(frame: pd.DataFrame) -> pd.DataFrame:
    """Per bar: log return of the close, and open/high/low as log ratios to the close."""
    c = frame["close"]
    return pd.DataFrame({
        "r": np.log(c / c.shift(1)),
        "o": np.log(frame["open"] / c), "h": np.log(frame["high"] / c),
        "l": np.log(frame["low"] / c), "v": frame["volume"],
    }).dropna()


def _indices(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    i = int(rng.integers(size))
    for t in range(n):
        if t and rng.random() < 1.0 / MEAN_BLOCK:
            i = int(rng.integers(size))
        out[t] = i
        i = (i + 1) % size
    return out


def synthetic_frame(n_bars: int, seed: int, source_symbol: str | None = None,
                    end: str = "2026-11-27") -> pd.DataFrame:
    """One SYNTHETIC daily OHLCV frame of ``n_bars`` bars (business days ending ``end``).

    Args:
        n_bars: bars (>= 2). seed: random seed (same seed, same frame).
        source_symbol: the bundled symbol whose bars are resampled (default: by seed).
    Returns:
        OHLCV frame (float64, UTC ``timestamp`` index) satisfying the data contract
        (low <= open, close <= high; volume >= 0).
    """
    rng = np.random.default_rng(seed)
    stocks = [s for s in BUNDLED_SYMBOLS if not s.startswith("^")]
    sym = source_symbol or stocks[seed % len(stocks)]
    shape = _shape(load_bundled(sym))
    idx = _indices(n_bars, len(shape), rng)
    s = shape.iloc[idx]
    close = float(rng.uniform(20, 400)) * np.exp(np.cumsum(s["r"].to_numpy()))
    o, h, lo = (close * np.exp(s[k].to_numpy()) for k in ("o", "h", "l"))
    high = np.maximum.reduce([h, o, close])
    low = np.minimum.reduce([lo, o, close])
    index = pd.bdate_range(end=end, periods=n_bars, tz="UTC", name="timestamp")
    return pd.DataFrame({"open": o, "high": high, "low": low, "close": close,
                         "volume": s["v"].to_numpy(dtype="float64")}, index=index)


def synthetic_universe(n_symbols: int, n_bars: int = 1300, seed: int = 0) -> list[ScanInput]:
    """``n_symbols`` SYNTHETIC scan inputs (``SYNTH-0001``...), source ``synthetic``."""
    return [ScanInput(f"SYNTH-{i + 1:04d}", "1d", SOURCE,
                      synthetic_frame(n_bars, seed * 100_003 + i))
            for i in range(n_symbols)]
