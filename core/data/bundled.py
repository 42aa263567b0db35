"""Real daily history that ships inside registry packages (no network needed).

* ``bokeh-sampledata`` (public domain): AAPL, MSFT, IBM (2000-03-01..2013-03-01) and GOOG
  (2004-08-19..2013-03-01). Raw OHLC there is *not* split-adjusted (AAPL halves on
  2000-06-21 and 2005-02-28, MSFT on 2003-02-18), so OHLC is rescaled by
  ``adj_close / close`` (the same factor Yahoo applies to adjust for splits and dividends)
  and volume by the split part of that factor only.
* ``arch.data`` (arch package): ^GSPC and ^IXIC daily OHLCV 1999-01-04..2018-12-31 and ^VIX
  close 2014-01-03..2019-01-03 (close only, so it is offered as a series, not as OHLCV).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from core.errors import UnknownSymbolError

BOKEH_SYMBOLS = ("AAPL", "MSFT", "IBM", "GOOG")
ARCH_SYMBOLS = {"^GSPC": "sp500", "^IXIC": "nasdaq"}
BUNDLED_SYMBOLS: tuple[str, ...] = BOKEH_SYMBOLS + tuple(ARCH_SYMBOLS)
SOURCE_NOTE = {
    **{s: "bokeh-sampledata (public domain), split-adjusted" for s in BOKEH_SYMBOLS},
    **{s: "arch.data (arch package)" for s in ARCH_SYMBOLS},
}


def split_factor(adj_ratio: pd.Series, threshold: float = 0.25) -> pd.Series:
    """Cumulative split factor from the ``adj_close / close`` ratio.

    A jump of the ratio by more than ``threshold`` (relative) between consecutive bars is a
    split (dividends move it by a few percent at most); its size is rounded to the nearest
    common split ratio (2, 3, 1.5, ...). Returns, per bar, the factor that converts that
    bar's raw share count to today's share count (1.0 on the last bar).
    """
    jump = adj_ratio / adj_ratio.shift(1)
    is_split = (jump - 1).abs() > threshold
    step = pd.Series(1.0, index=adj_ratio.index)
    step[is_split] = np.round(jump[is_split] * 2) / 2  # nearest half: 1.5, 2, 3, 7 ...
    # bars before a split carry that split's ratio (and those of all later splits)
    after = step.iloc[::-1].cumprod().iloc[::-1]
    return after.shift(-1, fill_value=1.0)


def adjust_to_adj_close(raw: pd.DataFrame) -> pd.DataFrame:
    """Rescale raw bars so that ``close == adj_close`` (the bundled and the Yahoo rule).

    OHLC are multiplied by ``adj_close / close`` (Yahoo's split-and-dividend factor); volume
    by the split part of it only (:func:`split_factor`), so share counts stay comparable
    across a split. Where the ratio is missing or non-positive, the previous bar's ratio is
    used. A frame without ``adj_close`` is returned as a copy, unchanged.

    Args:
        raw: columns ``open high low close volume`` and optionally ``adj_close`` [price].

    Returns:
        A new frame, columns ``open high low close volume adj_close`` (same index).
    """
    if "adj_close" not in raw.columns:
        return raw.copy()
    ratio = raw["adj_close"] / raw["close"]
    ratio = ratio.where(np.isfinite(ratio) & (ratio > 0)).ffill().bfill().fillna(1.0)
    out = pd.DataFrame(index=raw.index)
    for col in ("open", "high", "low", "close"):
        out[col] = raw[col] * ratio
    out["volume"] = raw["volume"] * split_factor(ratio)
    out["adj_close"] = raw["adj_close"]
    return out


def _bokeh(symbol: str) -> pd.DataFrame:
    from bokeh_sampledata import stocks

    raw = pd.DataFrame(getattr(stocks, symbol))
    raw.index = pd.to_datetime(raw.pop("date"), utc=True)
    return adjust_to_adj_close(raw)


def _arch(symbol: str) -> pd.DataFrame:
    import importlib

    mod = importlib.import_module(f"arch.data.{ARCH_SYMBOLS[symbol]}")
    raw = mod.load()
    out = pd.DataFrame(
        {
            "open": raw["Open"],
            "high": raw["High"],
            "low": raw["Low"],
            "close": raw["Close"],
            "volume": raw["Volume"],
            "adj_close": raw["Adj Close"],
        }
    )
    out.index = pd.to_datetime(raw.index, utc=True)
    return out


@lru_cache(maxsize=16)
def _load(symbol: str) -> pd.DataFrame:
    if symbol in BOKEH_SYMBOLS:
        frame = _bokeh(symbol)
    elif symbol in ARCH_SYMBOLS:
        frame = _arch(symbol)
    else:
        raise UnknownSymbolError(
            f"'{symbol}' is not in the bundled history ({', '.join(BUNDLED_SYMBOLS)}). "
            "Connect to the internet for Yahoo Finance, or upload a CSV."
        )
    frame.index.name = "timestamp"
    return frame.astype("float64")


def load_bundled(symbol: str) -> pd.DataFrame:
    """Raw (unvalidated) bundled daily bars for ``symbol``; a fresh copy each call.

    Raises:
        UnknownSymbolError: the symbol is not bundled.
    """
    return _load(symbol.upper()).copy()


def load_vix() -> pd.Series:
    """CBOE ^VIX daily close (index points, i.e. annualised implied vol in percent),
    2014-01-03..2019-01-03, from ``arch.data.vix``. UTC DatetimeIndex named timestamp."""
    from arch.data import vix  # deferred: arch is slow to import

    s = vix.load()["vix"].astype("float64")
    s.index = pd.to_datetime(s.index, utc=True).rename("timestamp")
    s.name = "vix"
    return s
