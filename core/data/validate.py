"""The one OHLCV data contract, checked once at the entry of :mod:`core.data`.

A valid frame has lowercase float columns ``open high low close volume`` (plus ``adj_close``
when known), a sorted, unique, tz-aware UTC :class:`pandas.DatetimeIndex` named
``timestamp``, and ``frame.attrs["symbol"]`` upper-case.

Rules (reject = raise :class:`DataValidationError`; repair = fix and report):

============================================  =========================================
empty input, missing column, non-numeric      reject, naming the column / rows
NaN / inf in a price                          repair: drop the bar (reported)
non-positive price                            reject, naming the rows
price outside [MIN_PRICE, MAX_PRICE]          reject, naming the rows
bar-to-bar |ln(close/prev close)| or          reject, naming the rows
ln(high/low) above MAX_ABS_LOG_MOVE
volume above MAX_VOLUME                       reject, naming the rows
high < max(open, close), low > min(o, c)      repair: widen high/low (reported)
negative volume                               reject, naming the rows
NaN volume                                    repair: 0 (reported)
duplicate timestamps                          repair: keep the last (reported)
unsorted timestamps                           repair: sort (reported)
fewer bars than ``min_bars``                  reject (:class:`InsufficientDataError`)
============================================  =========================================

Pattern after backtesting.py's ``_Data`` checks, with messages that say how to fix the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError, InsufficientDataError

OHLCV = ["open", "high", "low", "close", "volume"]
PRICE_COLUMNS = ["open", "high", "low", "close"]
#: the sane price range (any currency unit): below 1e-8 (under the smallest quoted crypto
#: prices, ~1e-7) or above 1e9 (a thousand times Berkshire Hathaway class A) a price is a
#: data error, and the models' exp/var arithmetic stops being finite near 1e-300 / 1e308
MIN_PRICE, MAX_PRICE = 1e-8, 1e9
#: the largest move one bar may show, as a log ratio: ln(1000), a thousandfold rise or a
#: fall to a thousandth, close to close or low to high. Beyond the largest real splits and
#: reverse splits (1:200 is ln 5.3) that unadjusted data may show; anything more is a unit or
#: typing error that would make every volatility and forecast meaningless
MAX_ABS_LOG_MOVE = float(np.log(1000.0))
#: most units traded in one bar (10^16: above any real share or coin volume)
MAX_VOLUME = 1e16


@dataclass
class ValidationReport:
    """A validated frame and the list of repairs made to it (plain sentences)."""

    frame: pd.DataFrame
    repairs: list[str] = field(default_factory=list)


def _rows(index: pd.Index, limit: int = 5) -> str:
    shown = ", ".join(str(x) for x in list(index[:limit]))
    more = len(index) - limit
    return shown + (f" (+{more} more)" if more > 0 else "")


def validate_ohlcv(
    frame: pd.DataFrame,
    symbol: str,
    *,
    min_bars: int = 1,
    repair: bool = True,
) -> ValidationReport:
    """Check ``frame`` against the OHLCV contract and return a clean copy.

    Args:
        frame: rows = bars; columns at least ``open high low close volume`` (lowercase);
            index convertible to datetimes (naive values are taken as UTC).
        symbol: ticker; stored upper-case in ``attrs["symbol"]``.
        min_bars: fewest bars the caller needs after repairs.
        repair: when False, any repairable defect is rejected instead.

    Returns:
        ValidationReport with float64 columns and a UTC index named ``timestamp``.

    Raises:
        DataValidationError: on a defect that cannot be repaired (message names the rows).
        InsufficientDataError: when fewer than ``min_bars`` bars remain.
    """
    if frame is None or len(frame) == 0:
        raise DataValidationError(
            f"No bars for {symbol}: the input is empty. Check the symbol, interval and dates."
        )
    repairs: list[str] = []
    missing = [c for c in OHLCV if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"Missing column(s) {', '.join(missing)} for {symbol}; expected "
            f"{', '.join(OHLCV)} (found: {', '.join(map(str, frame.columns))})."
        )
    cols = OHLCV + (["adj_close"] if "adj_close" in frame.columns else [])
    out = frame[cols].copy()

    # index
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(out.index, utc=True))
    except (ValueError, TypeError) as err:
        raise DataValidationError(
            f"Timestamps for {symbol} could not be read as dates ({err}). "
            "Use ISO dates such as 2024-01-31 or 2024-01-31 15:30:00+00:00."
        ) from None
    if idx.hasnans:
        bad = out.index[idx.isna()]
        raise DataValidationError(f"Empty or unreadable timestamp in row(s) {_rows(bad)}.")
    out.index = idx.rename("timestamp")

    # numeric
    for col in cols:
        if not pd.api.types.is_numeric_dtype(out[col]):
            conv = pd.to_numeric(out[col], errors="coerce")
            bad = out.index[conv.isna() & out[col].notna()]
            if len(bad):
                raise DataValidationError(
                    f"Column '{col}' has non-numeric values at {_rows(bad)} "
                    f"(e.g. {out.loc[bad[0], col]!r}). Remove or correct those rows."
                )
            out[col] = conv
        out[col] = out[col].astype("float64")

    # order and duplicates
    if not out.index.is_monotonic_increasing:
        if not repair:
            raise DataValidationError(f"Timestamps for {symbol} are not in ascending order.")
        out = out.sort_index(kind="stable")
        repairs.append("sorted bars into ascending time order")
    dup = out.index.duplicated(keep="last")
    if dup.any():
        if not repair:
            raise DataValidationError(f"Duplicate timestamps: {_rows(out.index[dup])}.")
        repairs.append(f"dropped {int(dup.sum())} duplicate timestamp(s), kept the last: "
                       f"{_rows(out.index[dup])}")
        out = out[~dup]

    # NaN / inf prices
    prices = out[PRICE_COLUMNS].to_numpy()
    bad_mask = ~np.isfinite(prices).all(axis=1)
    if bad_mask.any():
        bad = out.index[bad_mask]
        if not repair:
            raise DataValidationError(f"NaN or infinite prices at {_rows(bad)}.")
        out = out[~bad_mask]
        repairs.append(f"dropped {len(bad)} bar(s) with NaN/inf prices: {_rows(bad)}")
    if "adj_close" in out.columns and not np.isfinite(out["adj_close"]).all():
        out = out.drop(columns="adj_close")
        repairs.append("dropped adj_close (it had NaN/inf values)")

    # non-positive prices
    nonpos = (out[PRICE_COLUMNS] <= 0).any(axis=1)
    if nonpos.any():
        raise DataValidationError(
            f"Non-positive prices at {_rows(out.index[nonpos])}. Prices must be > 0."
        )

    # absurd but well-formed prices
    absurd = ((out[PRICE_COLUMNS] < MIN_PRICE) | (out[PRICE_COLUMNS] > MAX_PRICE)).any(axis=1)
    if absurd.any():
        raise DataValidationError(
            f"Prices outside the sane range [{MIN_PRICE:g}, {MAX_PRICE:g}] at "
            f"{_rows(out.index[absurd])}. Check the units and the decimal point."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        jump = np.abs(np.log(out["close"] / out["close"].shift(1))) > MAX_ABS_LOG_MOVE
        span = np.log(np.maximum(out["high"], out[["open", "close"]].max(axis=1))
                      / np.minimum(out["low"], out[["open", "close"]].min(axis=1))) \
            > MAX_ABS_LOG_MOVE
    if (jump | span).any():
        raise DataValidationError(
            f"Moves of more than a factor of 1,000 within or between bars at "
            f"{_rows(out.index[jump | span])}: a unit, split or typing error. Correct or remove "
            "those rows."
        )

    # volume
    vol = out["volume"]
    if (vol > MAX_VOLUME).any():
        raise DataValidationError(
            f"Volume above {MAX_VOLUME:g} at {_rows(out.index[vol > MAX_VOLUME])}. Check the "
            "volume column's units."
        )
    if (vol < 0).any():
        raise DataValidationError(
            f"Negative volume at {_rows(out.index[vol < 0])}. Volume must be >= 0."
        )
    if not np.isfinite(vol).all():
        n = int((~np.isfinite(vol)).sum())
        if not repair:
            raise DataValidationError(f"{n} bar(s) have NaN/inf volume.")
        out["volume"] = vol.where(np.isfinite(vol), 0.0)
        repairs.append(f"set {n} missing volume value(s) to 0")

    # high / low consistency
    body_hi = out[["open", "close"]].max(axis=1)
    body_lo = out[["open", "close"]].min(axis=1)
    bad_hi = out["high"] < body_hi
    bad_lo = out["low"] > body_lo
    if bad_hi.any() or bad_lo.any():
        if not repair:
            rows = out.index[bad_hi | bad_lo]
            raise DataValidationError(
                f"high < max(open, close) or low > min(open, close) at {_rows(rows)}."
            )
        out["high"] = np.maximum(out["high"], body_hi)
        out["low"] = np.minimum(out["low"], body_lo)
        repairs.append(
            f"widened high/low on {int((bad_hi | bad_lo).sum())} bar(s) where they did not "
            f"contain open and close: {_rows(out.index[bad_hi | bad_lo])}"
        )

    if len(out) < min_bars:
        raise InsufficientDataError(
            f"{symbol} has {len(out)} usable bar(s); this needs at least {min_bars}. "
            "Choose a longer date range or a coarser interval."
        )
    out.attrs["symbol"] = symbol.upper()
    return ValidationReport(out, repairs)
