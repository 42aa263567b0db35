"""Universes: index constituents from pytickersymbols (plain data), the bundled symbols,
watchlists, uploaded lists; unknown names refused with the known ones."""

from __future__ import annotations

import pytest

from core.errors import DataValidationError
from core.universe import MAX_UNIVERSE, parse_tickers, resolve
from core.store import save_watchlist, session_scope


def test_index_lists_are_yahoo_tickers_with_their_source():
    sp = resolve("sp500")
    assert 450 <= len(sp.symbols) <= 510 and "AAPL" in sp.symbols and "MSFT" in sp.symbols
    assert all("." not in s for s in sp.symbols)  # BRK.B is BRK-B on Yahoo
    assert sp.as_of.startswith("pytickersymbols ")
    assert 90 <= len(resolve("nasdaq100").symbols) <= 105
    assert resolve("bundled").symbols[:2] == ("AAPL", "MSFT")


def test_watchlist_universe():
    with session_scope() as s:
        save_watchlist("user:ann", ["NVDA", "AMD"], session=s)
    assert resolve("watchlist:user:ann").symbols == ("NVDA", "AMD")
    with pytest.raises(DataValidationError, match="No watchlist"):
        resolve("watchlist:user:bob")


def test_unknown_universe_names_the_known_ones():
    with pytest.raises(DataValidationError, match="sp500, nasdaq100"):
        resolve("ftse")


@pytest.mark.parametrize("text,want", [
    ("aapl\nmsft, nvda;brk-b  ^gspc", ["AAPL", "MSFT", "NVDA", "BRK-B", "^GSPC"]),
    ("name,Symbol\nApple,AAPL\nMicrosoft,MSFT\n", ["AAPL", "MSFT"]),
    ("\ufeffticker\nIBM\nIBM\n", ["IBM"]),
])
def test_parse_tickers(text, want):
    assert parse_tickers(text) == want


def test_parse_tickers_refusals():
    with pytest.raises(DataValidationError, match="not a ticker"):
        parse_tickers("AAPL\n=cmd|'/c calc'!A0")
    with pytest.raises(DataValidationError, match="no tickers"):
        parse_tickers(" \n ,")
    with pytest.raises(DataValidationError, match="at most"):
        parse_tickers("\n".join(f"T{i}" for i in range(MAX_UNIVERSE + 1)))
