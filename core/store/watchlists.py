"""Watchlists in the store: read and replace one owner's ordered list of tickers.

The store checks only the shape of a ticker (what a database may hold); whether a ticker
exists is the data layer's question (:func:`core.data.check_symbols`).
"""

from __future__ import annotations

import re

from sqlmodel import Session

from core.errors import DataValidationError
from core.store.db import utcnow
from core.store.tables import Watchlist

#: longest watchlist a user may keep (the panel predicts every symbol on every refresh)
MAX_SYMBOLS = 30
#: a Yahoo-style ticker: letters, digits and ^ . - = (e.g. ^GSPC, BRK-B, EURUSD=X)
TICKER = re.compile(r"^[A-Z0-9^][A-Z0-9^.=\-]{0,14}$")


def ticker(raw) -> str:
    """``raw`` stripped and upper-cased ("" for blank).

    Raises:
        DataValidationError: a string that cannot be a ticker (shown literally, cut to 20
            characters).
    """
    sym = str(raw).strip().upper()
    if sym and not TICKER.match(sym):
        shown = sym[:20] + ("..." if len(sym) > 20 else "")
        raise DataValidationError(
            f"{shown!r} is not a ticker: use letters, digits and ^ . - = only, at most "
            "15 characters (e.g. MSFT, ^GSPC, BRK-B).")
    return sym


def normalise_symbols(symbols) -> list[str]:
    """Upper-case, strip and de-duplicate ``symbols`` (order kept).

    Raises:
        DataValidationError: a string that cannot be a ticker (named, shown literally), or
            more than :data:`MAX_SYMBOLS` symbols.
    """
    out: list[str] = []
    for raw in symbols:
        sym = ticker(raw)
        if sym and sym not in out:
            out.append(sym)
    if len(out) > MAX_SYMBOLS:
        raise DataValidationError(f"A watchlist holds at most {MAX_SYMBOLS} symbols; "
                                  f"{len(out)} given. Remove some first.")
    return out


def get_watchlist(owner: str, *, session: Session) -> list[str] | None:
    """The stored watchlist of ``owner``, or None when it has none."""
    row = session.get(Watchlist, owner)
    return None if row is None else list(row.symbols)


def save_watchlist(owner: str, symbols, *, session: Session) -> list[str]:
    """Replace ``owner``'s watchlist with ``symbols`` (normalised); returns what was stored.

    Raises:
        DataValidationError: see :func:`normalise_symbols`.
    """
    syms = normalise_symbols(symbols)
    row = session.get(Watchlist, owner) or Watchlist(owner=owner)
    row.symbols, row.updated_at = syms, utcnow()
    session.add(row)
    session.flush()
    return syms
