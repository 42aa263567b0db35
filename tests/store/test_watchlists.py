"""Watchlists in the store: per owner, ordered, validated, survive a new session."""

import pytest

from core.errors import DataValidationError
from core.store import get_watchlist, normalise_symbols, save_watchlist, session_scope
from core.store.watchlists import MAX_SYMBOLS
from tests.pg import both_backends

pytestmark = both_backends


def test_saved_per_owner_in_order_and_read_back():
    with session_scope() as s:
        assert get_watchlist("user:alice", session=s) is None
        assert save_watchlist("user:alice", [" nvda", "^gspc", "NVDA", "brk-b"],
                              session=s) == ["NVDA", "^GSPC", "BRK-B"]
        save_watchlist("session:abc", ["MSFT"], session=s)
    with session_scope() as s:
        assert get_watchlist("user:alice", session=s) == ["NVDA", "^GSPC", "BRK-B"]
        assert get_watchlist("session:abc", session=s) == ["MSFT"]
        save_watchlist("user:alice", ["TSLA"], session=s)  # replaced, not appended
    with session_scope() as s:
        assert get_watchlist("user:alice", session=s) == ["TSLA"]


@pytest.mark.parametrize("bad", ["[x](http://evil.example)", "A" * 16, "MS FT", "<b>", "$AAPL"])
def test_hostile_or_malformed_tickers_are_refused_by_name(bad):
    with pytest.raises(DataValidationError, match="is not a ticker"):
        normalise_symbols(["MSFT", bad])


def test_size_limit_is_named():
    with pytest.raises(DataValidationError, match=f"at most {MAX_SYMBOLS}"):
        normalise_symbols([f"S{i}" for i in range(MAX_SYMBOLS + 1)])
    with session_scope() as s:  # nothing stored on refusal
        with pytest.raises(DataValidationError):
            save_watchlist("user:bob", ["OK", "not ok"], session=s)
        assert get_watchlist("user:bob", session=s) is None
