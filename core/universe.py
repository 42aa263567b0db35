"""Named universes a scan runs over: index constituents, the bundled symbols, a watchlist,
an uploaded list of tickers.

* ``sp500``, ``nasdaq100``, ``dow30``: constituents from ``pytickersymbols`` (MIT), which
  ships them as plain Python data (no pickles); the list's as-of is the package's version
  and release (:data:`LIST_SOURCE`). The US listing's Yahoo ticker is used (``BRK-B``).
* ``bundled``: the symbols whose real daily history ships with Quantdesk (offline).
* ``watchlist:OWNER``: a watchlist in the store (``user:NAME`` or ``session:ID``).
* An uploaded list: :func:`parse_tickers` on its text (one per line, or comma/space
  separated, or a CSV with a ``symbol``/``ticker`` column).

A synthetic universe for load tests lives in :mod:`core.screener.synthetic` and is never
offered here.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import metadata

from core.data import BUNDLED_SYMBOLS
from core.errors import DataValidationError
from core.store import get_watchlist, session_scope
from core.store.watchlists import TICKER, ticker

#: the largest universe a scan accepts (symbols); a Ray cluster handles more, but a page
#: table of more rows is not readable and Yahoo's limits make a bigger live scan unwise
MAX_UNIVERSE = 5000

#: universe name -> (title, pytickersymbols index name)
INDEXES: dict[str, tuple[str, str]] = {
    "sp500": ("S&P 500", "S&P 500"),
    "nasdaq100": ("Nasdaq-100", "NASDAQ 100"),
    "dow30": ("Dow Jones Industrial Average", "DOW JONES"),
}
#: the pytickersymbols release the constituent lists were checked against, and its date
_CHECKED_RELEASE = ("1.17.10", "2026-03")


def _list_source() -> str:
    try:
        version = metadata.version("pytickersymbols")
    except metadata.PackageNotFoundError:  # pragma: no cover - a core dependency
        return "pytickersymbols (not installed)"
    when = f", released {_CHECKED_RELEASE[1]}" if version == _CHECKED_RELEASE[0] else ""
    return f"pytickersymbols {version}{when}"


#: where the index lists come from and how old they are (shown beside every index scan)
LIST_SOURCE = _list_source()


@dataclass(frozen=True)
class Universe:
    """A resolved universe: ``name`` (what the CLI/URL use), ``title`` (what the page
    shows), ``symbols`` (upper-case Yahoo tickers, order kept), ``as_of`` (where the list
    comes from and its date)."""

    name: str
    title: str
    symbols: tuple[str, ...]
    as_of: str


def index_symbols(index: str) -> list[str]:
    """Yahoo tickers of the US listings of ``index`` (a pytickersymbols index name).

    A company is kept under the ticker of its USD listing without an exchange suffix;
    a dot in a US ticker becomes Yahoo's dash (``BF.B`` -> ``BF-B``)."""
    from pytickersymbols import PyTickerSymbols  # deferred: loads every index's data

    out: list[str] = []
    for company in PyTickerSymbols().get_stocks_by_index(index):
        listings = company.get("symbols") or []
        usd = [s["yahoo"] for s in listings
               if s.get("currency") == "USD" and "." not in s.get("yahoo", ".")]
        sym = (usd[0] if usd else str(company.get("symbol", ""))).upper().replace(".", "-")
        if TICKER.match(sym) and sym not in out:
            out.append(sym)
    return out


def parse_tickers(text: str) -> list[str]:
    """Tickers from an uploaded list: a CSV with a ``symbol`` or ``ticker`` column, or
    tickers separated by newlines, commas, semicolons or spaces. Upper-cased, de-duplicated
    (order kept).

    Raises:
        DataValidationError: nothing that looks like a ticker, a string that cannot be one
            (shown literally, cut to 20 characters), or more than :data:`MAX_UNIVERSE`.
    """
    text = (text or "").lstrip("\ufeff")
    first = text.splitlines()[0].strip().lower() if text.strip() else ""
    cells: list[str]
    header = [c.strip().lower() for c in first.split(",")]
    col = next((header.index(c) for c in ("symbol", "ticker") if c in header), None)
    if col is not None:
        rows = list(csv.reader(io.StringIO(text)))[1:]
        cells = [r[col] for r in rows if len(r) > col]
    else:
        cells = re.split(r"[\s,;]+", text)
    out: list[str] = []
    for raw in cells:
        sym = ticker(raw)
        if sym and sym not in out:
            out.append(sym)
    if not out:
        raise DataValidationError("The list has no tickers: give one per line, or a CSV "
                                  "with a 'symbol' column.")
    if len(out) > MAX_UNIVERSE:
        raise DataValidationError(f"A scan takes at most {MAX_UNIVERSE:,} symbols; the list "
                                  f"has {len(out):,}. Split it.")
    return out


def named_universes() -> dict[str, str]:
    """Universe names a user can pick (name -> title), watchlists excluded."""
    return {"bundled": "Bundled symbols (real history, offline)",
            **{k: title for k, (title, _) in INDEXES.items()}}


def resolve(name: str) -> Universe:
    """The universe called ``name`` (see the module docstring).

    Raises:
        DataValidationError: an unknown name (the message lists the known ones), or a
            watchlist that does not exist.
    """
    key = (name or "").strip()
    low = key.lower()
    if low == "bundled":
        return Universe("bundled", "Bundled symbols", tuple(BUNDLED_SYMBOLS),
                        "real daily history shipped with Quantdesk")
    if low in INDEXES:
        title, index = INDEXES[low]
        return Universe(low, title, tuple(index_symbols(index)), LIST_SOURCE)
    if low.startswith("watchlist:") and len(key) > len("watchlist:"):
        owner = key.split(":", 1)[1]
        with session_scope() as s:
            syms = get_watchlist(owner, session=s)
        if not syms:
            raise DataValidationError(f"No watchlist is stored for {owner!r}; save one on "
                                      "the Overview page first.")
        return Universe(f"watchlist:{owner}", "Watchlist", tuple(syms), "your watchlist")
    known = ", ".join(list(named_universes()) + ["watchlist:OWNER"])
    shown = key[:30]
    raise DataValidationError(f"Unknown universe {shown!r}: use one of {known}, or upload a "
                              "list of tickers.")


def custom(symbols: list[str], title: str = "Uploaded list") -> Universe:
    """A universe from a user's list (already parsed by :func:`parse_tickers`)."""
    return Universe("custom", title, tuple(symbols), "your list")
