"""A SYNTHETIC universe for load tests and benchmarks only, never offered as market data.

Each synthetic symbol is a stationary block bootstrap (Politis & Romano, "The Stationary
Bootstrap", JASA 89(428), 1994) of the bars of one bundled real history: blocks of whole
bars (their close-to-close log return, and open/high/low relative to the previous close
and the close, and volume) are resampled with mean block length :data:`MEAN_BLOCK`, so
returns keep their fat tails and short-range volatility clustering. The prices are made
up: symbols are named ``SYNTH-0001``..., their ``source`` is ``synthetic``, and nothing in
the CLI offers them. The Screener page offers the universe ``synthetic`` (titled SYNTHETIC,
"not market data") only when the environment variable :data:`PAGE_ENV` gives its number of
symbols, for load tests of the page (``benchmarks/bench_screener_page.py``); otherwise
only tests and the screener benchmarks call :func:`synthetic_universe`.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pandas as pd

from core.data import BUNDLED_SYMBOLS, load_bundled
from core.screener.row import ScanInput
from core.universe import MAX_UNIVERSE, Universe

#: mean block length of the stationary bootstrap [bars]
MEAN_BLOCK = 20
#: the source label every synthetic frame carries
SOURCE = "synthetic"
#: the universe's name (page, scan cache); its title says SYNTHETIC and "not market data"
NAME = "synthetic"
#: environment variable: the number of symbols of the ``synthetic`` universe the Screener
#: page offers (unset or 0: not offered). Load tests and benchmarks only.
PAGE_ENV = "QUANTDESK_SYNTHETIC_UNIVERSE"
#: bars and seed of the page's synthetic universe (1,300 daily bars, as a scan loads)
PAGE_BARS, PAGE_SEED = 1300, 0
#: the note a scan of the synthetic universe carries (shown under the table)
NOTE = ("SYNTHETIC universe: made-up prices, block-bootstrapped from the bundled real "
        "returns, for load tests. Not market data.")


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


def page_size() -> int:
    """Symbols of the ``synthetic`` universe the Screener page offers (:data:`PAGE_ENV`);
    0 when it is not offered (unset, not a number, or not positive)."""
    try:
        n = int(os.environ.get(PAGE_ENV, "0") or 0)
    except ValueError:
        return 0
    return max(0, min(n, MAX_UNIVERSE))


def universe(n: int) -> Universe:
    """The ``synthetic`` universe of ``n`` symbols (names only; :func:`inputs` has the bars)."""
    return Universe(NAME, f"SYNTHETIC load test ({n:,} made-up symbols, not market data)",
                    tuple(f"SYNTH-{i + 1:04d}" for i in range(n)),
                    "synthetic: block bootstrap of the bundled real returns")


@functools.lru_cache(maxsize=1)
def inputs(n: int, n_bars: int = PAGE_BARS, seed: int = PAGE_SEED) -> tuple[ScanInput, ...]:
    """The scan inputs of :func:`universe` ``(n)`` (the same bars every call: made once per
    process, as a scan of real symbols reads their bars from the data cache)."""
    return tuple(synthetic_universe(n, n_bars=n_bars, seed=seed))
