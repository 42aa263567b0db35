"""Screener glue: the running scan with a progress bar, the last result per session, saved
screens per user (or browser session)."""

from __future__ import annotations

import secrets

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.display import csv_export, literal
from core.errors import QuantdeskError
from core.panel.watchlist import owner_key
from core.screener import filters
from core.screener.report import display_frame
from core.screener.scan import ScanResult, latest_scan, scan
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


def open_latest(universe: Universe, interval: str) -> ScanResult | None:
    """The latest cached scan of ``universe`` at ``interval`` (no bars loaded, nothing
    scored: :func:`core.screener.scan.latest_scan`), kept as this session's result; None
    when there is none."""
    res = latest_scan(universe, interval)
    if res is not None:
        st.session_state[K_RESULT] = res
    return res


Table = tuple[pd.DataFrame, pd.DataFrame, bytes]


def _table(rows: pd.DataFrame, conds: list[filters.Condition], sort: str | None,
           desc: bool) -> Table:
    shown = filters.apply(rows, conds, sort, desc)
    return shown, display_frame(shown), csv_export(shown)


@st.cache_data(max_entries=16, show_spinner=False)
def _cached_table(key: str, spec: tuple, sort: str | None, desc: bool,
                  _rows: pd.DataFrame) -> Table:
    return _table(_rows, [filters.Condition(*c) for c in spec], sort, desc)


def table(res: ScanResult, conds: list[filters.Condition], sort: str | None = None,
          desc: bool = False) -> Table:
    """``(rows shown, the page's table of them, their CSV export)``: ``res``' rows
    filtered and sorted (:func:`core.screener.filters.apply`),
    :func:`core.screener.report.display_frame` and :func:`core.display.csv_export` of
    them, computed once per (scan key, filters, sort) in this server process (the same key
    has the same rows), so a revisit or a rerun that changes neither redoes nothing.

    Raises:
        DataValidationError: as :func:`core.screener.filters.apply`.
    """
    if res.key is None:
        return _table(res.rows, conds, sort, desc)
    spec = tuple((c.column, c.op, c.value) for c in conds)
    return _cached_table(res.key, spec, sort, desc, res.rows)


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
