"""The Overview watchlist: any tickers, stored per signed-in user or browser session.

A trader's list starts from ``QUANTDESK_WATCHLIST`` (the bundled symbols when unset), is
kept in the store (:mod:`core.store.watchlists`) and mirrored in the URL by the page. A
typed ticker is accepted only when the data layer can serve it now: checked against Yahoo
when online, refused with the reason when offline and neither bundled nor cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import get_settings
from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.errors import DataValidationError, QuantdeskError
from core.store import get_watchlist, normalise_symbols, save_watchlist


@dataclass
class WatchlistChange:
    """The outcome of adding tickers: the list now stored and what was refused, and why."""

    symbols: list[str]
    added: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def owner_key(user: str | None, session_id: str) -> str:
    """Store key of a watchlist: ``user:<name>`` when signed in, else ``session:<id>``."""
    return f"user:{user}" if user else f"session:{session_id}"


def default_watchlist() -> list[str]:
    """``QUANTDESK_WATCHLIST`` (comma-separated) or the bundled symbols. A malformed
    setting falls back to the bundled symbols (the page says nothing is lost)."""
    raw = get_settings().watchlist
    if raw:
        try:
            syms = normalise_symbols(raw.split(","))
        except DataValidationError:
            syms = []
        if syms:
            return syms
    return list(BUNDLED_SYMBOLS)


def load_watchlist(owner: str, *, session) -> list[str]:
    """The stored watchlist of ``owner``, or :func:`default_watchlist` when it has none."""
    stored = get_watchlist(owner, session=session)
    return stored if stored is not None else default_watchlist()


def check_symbol(symbol: str, interval: str = "1d") -> str | None:
    """Why ``symbol`` cannot be served now (a plain sentence), or None when it can: a bundled
    symbol always can; any other is loaded once through :func:`core.data.load_ohlcv` (live
    Yahoo when reachable, else a cached copy)."""
    if symbol in BUNDLED_SYMBOLS and interval == "1d":
        return None
    try:
        load_ohlcv(symbol, interval)
    except QuantdeskError as err:
        return str(err)
    return None


def add_symbols(owner: str, current: list[str], new, *, session,
                interval: str = "1d") -> WatchlistChange:
    """Append the servable tickers of ``new`` to ``current`` and store the result.

    Args:
        owner: see :func:`owner_key`. current: the list shown now. new: typed tickers
            (strings; case and spaces ignored). interval: checked at this interval.

    Returns:
        :class:`WatchlistChange`; refused tickers keep their reason, accepted ones are
        appended in order, duplicates are ignored.

    Raises:
        DataValidationError: a string that cannot be a ticker, or the list would exceed
            :data:`core.store.watchlists.MAX_SYMBOLS` (nothing is stored then).
    """
    wanted = [s for s in normalise_symbols(new) if s not in current]
    refused = {s: why for s in wanted if (why := check_symbol(s, interval)) is not None}
    added = [s for s in wanted if s not in refused]
    stored = save_watchlist(owner, list(current) + added, session=session)
    return WatchlistChange(stored, added, refused)


def set_symbols(owner: str, symbols, *, session) -> list[str]:
    """Store ``symbols`` as ``owner``'s watchlist as they are (removals, reordering, or a
    list from the URL); returns the normalised list. Raises like :func:`add_symbols`."""
    return save_watchlist(owner, symbols, session=session)
