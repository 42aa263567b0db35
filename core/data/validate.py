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
    repeated = set(frame.columns[frame.columns.duplicated()])  # one pass, not one per column
    twice = [c for c in cols if c in repeated]
    if twice:
        raise DataValidationError(f"Column(s) {', '.join(twice)} appear more than once for "
                                  f"{symbol}; keep one of each.")

    # index
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(frame.index, utc=True))
    except (ValueError, TypeError) as err:
        raise DataValidationError(
            f"Timestamps for {symbol} could not be read as dates ({err}). "
            "Use ISO dates such as 2024-01-31 or 2024-01-31 15:30:00+00:00."
        ) from None
    if idx.hasnans:
        bad = frame.index[idx.isna()]
        raise DataValidationError(f"Empty or unreadable timestamp in row(s) {_rows(bad)}.")

    # numeric: the checks below run on float64 arrays, not on pandas frames (a tenth of the
    # time: column selections and row-wise reductions dominate on a few thousand bars)
    values: dict[str, np.ndarray] = {}
    for col in cols:
        ser = frame[col]
        if not pd.api.types.is_numeric_dtype(ser):
            conv = pd.to_numeric(ser, errors="coerce")
            bad_at = (conv.isna() & ser.notna()).to_numpy()
            if bad_at.any():
                raise DataValidationError(
                    f"Column '{col}' has non-numeric values at {_rows(idx[bad_at])} "
                    f"(e.g. {ser.iloc[int(np.flatnonzero(bad_at)[0])]!r}). Remove or correct "
                    "those rows."
                )
            ser = conv
        values[col] = ser.to_numpy(dtype="float64", copy=True)  # no float Series in between

    def keep(rows: np.ndarray) -> None:  # rows: positions or a boolean mask
        nonlocal idx
        idx = idx[rows]
        for k in values:
            values[k] = values[k][rows]

    # order and duplicates
    if not idx.is_monotonic_increasing:
        if not repair:
            raise DataValidationError(f"Timestamps for {symbol} are not in ascending order.")
        keep(np.argsort(idx.asi8, kind="stable"))
        repairs.append("sorted bars into ascending time order")
    dup = idx.duplicated(keep="last")
    if dup.any():
        if not repair:
            raise DataValidationError(f"Duplicate timestamps: {_rows(idx[dup])}.")
        repairs.append(f"dropped {int(dup.sum())} duplicate timestamp(s), kept the last: "
                       f"{_rows(idx[dup])}")
        keep(~dup)

    # NaN / inf prices
    bad_mask = ~np.isfinite(np.column_stack([values[c] for c in PRICE_COLUMNS])).all(axis=1)
    if bad_mask.any():
        bad = idx[bad_mask]
        if not repair:
            raise DataValidationError(f"NaN or infinite prices at {_rows(bad)}.")
        keep(~bad_mask)
        repairs.append(f"dropped {len(bad)} bar(s) with NaN/inf prices: {_rows(bad)}")
    if "adj_close" in values and not np.isfinite(values["adj_close"]).all():
        del values["adj_close"]
        repairs.append("dropped adj_close (it had NaN/inf values)")
    o, h, lo, c = (values[k] for k in PRICE_COLUMNS)
    prices = np.column_stack([o, h, lo, c])

    # non-positive prices
    nonpos = (prices <= 0).any(axis=1)
    if nonpos.any():
        raise DataValidationError(
            f"Non-positive prices at {_rows(idx[nonpos])}. Prices must be > 0."
        )

    # absurd but well-formed prices
    absurd = ((prices < MIN_PRICE) | (prices > MAX_PRICE)).any(axis=1)
    if absurd.any():
        raise DataValidationError(
            f"Prices outside the sane range [{MIN_PRICE:g}, {MAX_PRICE:g}] at "
            f"{_rows(idx[absurd])}. Check the units and the decimal point."
        )
    body_hi, body_lo = np.maximum(o, c), np.minimum(o, c)
    with np.errstate(divide="ignore", invalid="ignore"):
        jump = np.zeros(len(c), dtype=bool)
        jump[1:] = np.abs(np.log(c[1:] / c[:-1])) > MAX_ABS_LOG_MOVE
        span = np.log(np.maximum(h, body_hi) / np.minimum(lo, body_lo)) > MAX_ABS_LOG_MOVE
    if (jump | span).any():
        raise DataValidationError(
            f"Moves of more than a factor of 1,000 within or between bars at "
            f"{_rows(idx[jump | span])}: a unit, split or typing error. Correct or remove "
            "those rows."
        )

    # volume
    vol = values["volume"]
    if (vol > MAX_VOLUME).any():
        raise DataValidationError(
            f"Volume above {MAX_VOLUME:g} at {_rows(idx[vol > MAX_VOLUME])}. Check the "
            "volume column's units."
        )
    if (vol < 0).any():
        raise DataValidationError(
            f"Negative volume at {_rows(idx[vol < 0])}. Volume must be >= 0."
        )
    if not np.isfinite(vol).all():
        n = int((~np.isfinite(vol)).sum())
        if not repair:
            raise DataValidationError(f"{n} bar(s) have NaN/inf volume.")
        values["volume"] = np.where(np.isfinite(vol), vol, 0.0)
        repairs.append(f"set {n} missing volume value(s) to 0")

    # high / low consistency
    bad_hl = (h < body_hi) | (lo > body_lo)
    if bad_hl.any():
        if not repair:
            raise DataValidationError(
                f"high < max(open, close) or low > min(open, close) at {_rows(idx[bad_hl])}."
            )
        values["high"] = np.maximum(h, body_hi)
        values["low"] = np.minimum(lo, body_lo)
        repairs.append(
            f"widened high/low on {int(bad_hl.sum())} bar(s) where they did not "
            f"contain open and close: {_rows(idx[bad_hl])}"
        )

    if len(idx) < min_bars:
        raise InsufficientDataError(
            f"{symbol} has {len(idx)} usable bar(s); this needs at least {min_bars}. "
            "Choose a longer date range or a coarser interval."
        )
    out = pd.DataFrame(values, index=idx.rename("timestamp"))
    out.attrs.update(frame.attrs)
    out.attrs["symbol"] = symbol.upper()
    return ValidationReport(out, repairs)
