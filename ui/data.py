"""Cached data access for pages (st.cache_data at the page edge), and the session's CSV
upload, parsed once and kept per session (never in a cache shared by every session)."""

from __future__ import annotations

import dataclasses
import hashlib

import streamlit as st

from core.data import MarketData, load_csv, load_ohlcv
from core.data.uploads import SessionUploads

#: session-state key of this session's :class:`SessionUploads`
_UPLOADS = "_qd_uploads"


@st.cache_data(ttl=60, max_entries=64, show_spinner="Loading market data…")
def cached_market(symbol: str, interval: str, start, end, source: str = "auto") -> MarketData:
    """``core.data.load_ohlcv`` cached for 60 s per (symbol, interval, range, source), at
    most 64 entries.

    ``source``: ``auto`` (live first, bundled when offline) or ``bundled`` (offline demo).
    Raises what ``load_ohlcv`` raises (core.errors types with plain messages).
    """
    return load_ohlcv(symbol, interval, start, end, source=source)


def session_uploads() -> SessionUploads:
    """This browser session's uploads (budget and last parsed upload), created on first use
    in ``st.session_state``, so they go when the session closes."""
    uploads = st.session_state.get(_UPLOADS)
    if not isinstance(uploads, SessionUploads):
        uploads = st.session_state[_UPLOADS] = SessionUploads()
    return uploads


def session_csv(upload, symbol: str) -> MarketData:
    """Validated bars of an uploaded CSV, parsed once per session and file; only the parsed
    bars of the last upload are kept, never the bytes.

    Args:
        upload: a Streamlit ``UploadedFile`` (read only when first seen), or raw bytes.
        symbol: the name the bars are shown under.

    Returns:
        The bars (a shallow copy, so a page's change does not reach the kept copy).

    Raises:
        UploadLimitError: the file is over 50 MB or past the session's 200 MB budget
            (``core.data.uploads``), refused before it is read.
        DataValidationError: what ``core.data.load_csv`` raises.
    """
    if isinstance(upload, (bytes, bytearray)):
        data = bytes(upload)
        file_id, size = "sha256:" + hashlib.sha256(data).hexdigest(), len(data)

        def read() -> bytes:
            return data
    else:
        file_id, size, read = upload.file_id, upload.size, upload.getvalue
    md = session_uploads().load((file_id, symbol), size, read, lambda b: load_csv(b, symbol))
    return dataclasses.replace(md, frame=md.frame.copy(deep=False), notes=list(md.notes))
