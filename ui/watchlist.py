"""The Overview's watchlist widget: any tickers, stored per user (or browser session) in the
database through :mod:`core.panel.watchlist`, and mirrored in the URL as
``?watchlist=AAPL,NVDA,^GSPC`` so a view can be shared."""

from __future__ import annotations

import secrets

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.data import BUNDLED_SYMBOLS
from core.display import literal
from core.errors import QuantdeskError
from core.panel.watchlist import add_symbols, load_watchlist, owner_key, set_symbols
from core.store import session_scope
from ui.auth import ADMIN_KEY

K_LIST, K_ADD, K_SID, URL_KEY = "ov_watchlist", "ov_add", "qd_session_id", "watchlist"
_PENDING, _SAVED = "_ov_watchlist_pending", "_ov_saved"
# the list as the Overview last drew it: Streamlit drops a widget's state after a run that
# does not draw the widget (any other page), so a return to the Overview restores it from here
_KEPT = "_ov_watchlist_kept"
_NOTES = "_ov_watchlist_notes"  # refusals of the last "Add", shown after its rerun


def _owner() -> str:
    sid = st.session_state.setdefault(K_SID, secrets.token_hex(8))
    return owner_key(st.session_state.get(ADMIN_KEY), sid)


def _mirror(symbols: list[str]) -> None:
    value = ",".join(symbols)
    if st.query_params.get(URL_KEY) != value:
        st.query_params[URL_KEY] = value


def _store(fn, *args) -> list[str] | None:
    """Run a store call; say what happened instead of raising (the list stays on screen)."""
    try:
        with session_scope() as s:
            return fn(_owner(), *args, session=s)
    except QuantdeskError as err:
        st.warning(literal(err))
    except SQLAlchemyError as err:
        st.warning(f"The watchlist could not be saved ({type(err).__name__}); it is kept for "
                   "this session. Check DATABASE_URL / the data directory.")
    return None


def _initial() -> list[str]:
    url = st.query_params.get(URL_KEY)
    if url:  # a shared link wins, and becomes this owner's list
        syms = _store(set_symbols, url.split(","))
        if syms is not None:
            return syms
    try:
        with session_scope() as s:
            return load_watchlist(_owner(), session=s)
    except (QuantdeskError, SQLAlchemyError):
        return list(BUNDLED_SYMBOLS)


def watchlist_widget(container, interval: str = "1d") -> list[str]:
    """Draw the watchlist (multiselect to remove, a text box to add tickers) in
    ``container`` (the Overview's popover) and return the symbols to show, in order. Notes on
    refused tickers go to the page, where they are seen with the popover closed."""
    if _PENDING in st.session_state:  # set by "Add" on the previous run
        st.session_state[K_LIST] = st.session_state.pop(_PENDING)
    elif K_LIST not in st.session_state:  # the first visit, or back from another page
        kept = st.session_state.get(_KEPT)
        st.session_state[K_LIST] = list(kept) if kept is not None else _initial()
    for note in st.session_state.pop(_NOTES, []):
        st.warning(note)  # on the page, not in a closed popover
    current = list(st.session_state[K_LIST])
    options = list(dict.fromkeys(current + list(BUNDLED_SYMBOLS)))
    chosen = container.multiselect("Watchlist", options, key=K_LIST,
                                   help="Remove a symbol with its x; add any Yahoo Finance "
                                        "ticker below.")
    st.session_state[_KEPT] = list(chosen)
    if st.session_state.get(_SAVED) != chosen:
        if _store(set_symbols, chosen) is not None:
            st.session_state[_SAVED] = list(chosen)
    with container.form("ov_add_form", clear_on_submit=True, border=False):
        c1, c2 = st.columns([4, 1])
        typed = c1.text_input("Add tickers", key=K_ADD, max_chars=200,
                              placeholder="e.g. NVDA, BTC-USD, ^FTSE",
                              label_visibility="collapsed")
        submitted = c2.form_submit_button("Add")
    if submitted and typed.strip():
        change = _store(lambda owner, session: add_symbols(
            owner, chosen, typed.split(","), session=session, interval=interval))
        if change is not None:
            notes = [f"{literal(sym)} was not added: {literal(why)}"
                     for sym, why in change.refused.items()]
            if change.added:
                st.session_state[_NOTES] = notes
                st.session_state[_PENDING] = change.symbols
                st.session_state[_SAVED] = change.symbols
                _mirror(change.symbols)
                st.rerun()
            for note in notes:
                st.warning(note)  # on the page, not in a closed popover
    _mirror(chosen)
    return chosen
