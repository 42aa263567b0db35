"""Read OHLCV bars from a CSV file or upload.

Accepted header spellings (case and spacing ignored): ``Date``/``Datetime``/``timestamp``/
``time``; ``Open``, ``High``, ``Low``, ``Close``, ``Adj Close``/``adj_close``, ``Volume``.
Any other column is rejected with a message naming it, so a mislabelled file fails loudly
instead of being half-read.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

import pandas as pd

from core.errors import DataValidationError

HEADER_ALIASES = {
    "date": "timestamp",
    "datetime": "timestamp",
    "timestamp": "timestamp",
    "time": "timestamp",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adjclose": "adj_close",
    "adj_close": "adj_close",
    "adjustedclose": "adj_close",
    "volume": "volume",
}


def _canon(name: str) -> str | None:
    key = str(name).strip().lower().replace(" ", "").replace("-", "")
    return HEADER_ALIASES.get(key) or HEADER_ALIASES.get(key.replace("_", ""))


def read_ohlcv_csv(source: str | Path | IO[bytes] | IO[str] | bytes) -> pd.DataFrame:
    """Parse a CSV of bars into a raw OHLCV frame (validate it with ``validate_ohlcv``).

    Args:
        source: path, file-like object or raw bytes (e.g. a Streamlit upload).

    Returns:
        DataFrame with canonical lowercase columns and the timestamp column as index
        (strings, parsed later by validation).

    Raises:
        DataValidationError: unreadable file, unknown or duplicate column, no timestamp.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        raw = pd.read_csv(source, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise DataValidationError(f"CSV file not found: {source}") from None
    except IsADirectoryError:
        raise DataValidationError(f"{source} is a directory, not a CSV file.") from None
    except OSError as err:  # permission denied, a device, ...
        raise DataValidationError(f"Could not open the CSV {source}: "
                                  f"{err.strerror or type(err).__name__}.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataValidationError(f"Could not read the CSV ({err}). Is it comma-separated text?") from None
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    for col in raw.columns:
        canon = _canon(col)
        if canon is None:
            unknown.append(str(col))
        elif canon in mapping.values():
            raise DataValidationError(f"Column '{col}' duplicates another column meaning '{canon}'.")
        else:
            mapping[col] = canon
    if unknown:
        raise DataValidationError(
            f"Unrecognised column(s): {', '.join(unknown)}. Accepted headers: Date (or Datetime/"
            "timestamp), Open, High, Low, Close, Adj Close (optional), Volume."
        )
    frame = raw.rename(columns=mapping)
    if "timestamp" not in frame.columns:
        raise DataValidationError("The CSV needs a Date (or Datetime/timestamp) column.")
    if "volume" not in frame.columns:
        raise DataValidationError("The CSV needs a Volume column (use 0 where unknown).")
    frame = frame.set_index("timestamp")
    frame.index = frame.index.str.strip()
    return frame
