"""Screener glue: the running scan with a progress bar, the last result per session, saved
screens per user (or browser session)."""

from __future__ import annotations

import secrets

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.display import literal
from core.errors import QuantdeskError
from core.panel.watchlist import owner_key
from core.screener.scan import ScanResult, scan
from core.universe import Universe
from core.store import delete_screen, list_screens, save_screen, session_scope
from ui.auth import ADMIN_KEY
from ui.watchlist import K_SID

K_RESULT = "_scr_result"
STAGES = {"download": "Downloading bars from Yahoo", "load": "Loading bars",
          "score": "Scoring"}


def owner() -> str:
    """Store key of this user's (or browser session's) screens and watchlist."""
    sid = st.session_state.setdefault(K_SID, secrets.token_hex(8))
    return owner_key(st.session_state.get(ADMIN_KEY), sid)


def run_scan(universe: Universe, interval: str, *, fresh: bool = False) -> ScanResult | None:
    """Scan with a progress bar; keep the result for this session. None after an explained
    failure (Ray unavailable, a store fault)."""
    bar = st.progress(0.0, text="Starting the scan…")

    def progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)),
                     text=f"{STAGES.get(stage, stage)}: {done:,}/{total:,}")

    try:
        res = scan(universe, interval, progress=progress, use_cache=not fresh)
    except QuantdeskError as err:
        bar.empty()
        st.error(literal(err))
        return None
    bar.empty()
    st.session_state[K_RESULT] = res
    return res


def last_result() -> ScanResult | None:
    """This session's last scan, or None."""
    return st.session_state.get(K_RESULT)


def _store(fn, *args):
    try:
        with session_scope() as s:
            return fn(owner(), *args, session=s)
    except QuantdeskError as err:
        st.warning(literal(err))
    except SQLAlchemyError as err:
        st.warning(f"Saved screens are unavailable ({type(err).__name__}); check "
                   "DATABASE_URL / the data directory. Your filters are kept on the page.")
    return None


def screens() -> dict[str, dict]:
    """This owner's saved screens (empty when the store cannot be read, with a warning)."""
    return _store(list_screens) or {}


def save(name: str, spec: dict) -> str | None:
    """Save a screen; the stored name, or None after a message."""
    return _store(save_screen, name, spec)


def delete(name: str) -> bool:
    """Delete a saved screen; False when it did not exist or the store failed."""
    return bool(_store(delete_screen, name))
