"""Cached data access for pages (st.cache_data at the page edge), and the session's uploads
(the sidebar's bars CSV, the Sentiment page's news CSV, the Risk Sizing page's portfolio CSV),
each parsed once and kept per session (never in a cache shared by every session), all under one
upload budget per session (:mod:`core.data.uploads`)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

from core.data import MarketData, bars_update, bars_version, load_csv, load_ohlcv
from core.data.uploads import SessionUploads

T = TypeVar("T")

#: session-state key of this session's :class:`SessionUploads` of bars (the sidebar's CSV);
#: the other kinds sit under ``_qd_uploads_<kind>`` and share its budget
_UPLOADS = "_qd_uploads"
#: the kinds of upload, one kept parse each: "bars" (sidebar), "news" (Sentiment), "portfolio"
#: (Risk Sizing)
UPLOAD_KINDS = ("bars", "news", "portfolio", "tickers")


@st.cache_data(ttl=60, max_entries=64, show_spinner="Loading market data…")
def _market(symbol: str, interval: str, start, end, source: str, version: tuple) -> MarketData:
    return load_ohlcv(symbol, interval, start, end, source=source, wait=False)


def cached_market(symbol: str, interval: str, start=None, end=None,
                  source: str = "auto") -> MarketData:
    """``core.data.load_ohlcv`` for a page: once a cached copy exists it never waits on Yahoo
    Finance. A copy past its TTL is shown while it is downloaded again in the background
    (``load_ohlcv(..., wait=False)``; :func:`follow_bars` reruns the page when it
    lands, the Overview's panel reruns by itself). Memory-cached per (symbol, interval,
    range, source) and :func:`core.data.bars_version`, so a run after the download landed
    reads the new bars and nothing is parsed twice; at most 64 entries, 60 s each.

    ``source``: ``auto`` (live first, bundled when offline) or ``bundled`` (offline demo).
    Raises what ``load_ohlcv`` raises (core.errors types with plain messages).
    """
    return _market(symbol, interval, start, end, source, bars_version(symbol, interval))


def follow_bars(*mds: MarketData) -> None:
    """While any of ``mds``' bars are downloaded again in the background, look once a second
    and rerun the page as soon as a new copy landed or a download failed (so the page shows
    the new bars, or says the copy is stale): a page shows an expired copy at once instead
    of waiting on Yahoo Finance (:func:`cached_market`). Draws nothing; nothing at all when
    no download is under way (offline, bundled, CSV, fresh copies)."""
    if any(bars_update(md) != "none" for md in mds):
        _follow(mds)


@st.fragment(run_every=1.0)
def _follow(mds: tuple[MarketData, ...]) -> None:
    if any(bars_update(md) in ("landed", "failed") for md in mds):
        st.rerun()


def session_uploads(kind: str = "bars") -> SessionUploads:
    """This browser session's uploads of ``kind`` (one of :data:`UPLOAD_KINDS`): the last
    parsed upload of that kind and the session's one budget, shared by every kind; created on
    first use in ``st.session_state``, so they go when the session closes."""
    if kind not in UPLOAD_KINDS:
        raise ValueError(f"unknown upload kind {kind!r}; one of {UPLOAD_KINDS}")
    bars = st.session_state.get(_UPLOADS)
    if not isinstance(bars, SessionUploads):
        bars = st.session_state[_UPLOADS] = SessionUploads()
    if kind == "bars":
        return bars
    key = f"{_UPLOADS}_{kind}"
    uploads = st.session_state.get(key)
    if not isinstance(uploads, SessionUploads) or uploads.budget is not bars.budget:
        uploads = st.session_state[key] = SessionUploads(bars.budget)
    return uploads


def _file(upload) -> tuple[str, int, Callable[[], bytes]]:
    """(id, size in bytes, reader) of a Streamlit ``UploadedFile`` or of raw bytes (id: their
    sha256); nothing is read here."""
    if isinstance(upload, (bytes, bytearray)):
        data = bytes(upload)

        def read() -> bytes:
            return data
        return "sha256:" + hashlib.sha256(data).hexdigest(), len(data), read
    return upload.file_id, upload.size, upload.getvalue


def session_upload(upload, kind: str, parse: Callable[[bytes], T], variant: Hashable = None
                   ) -> T:
    """``parse`` of an uploaded file, once per session, file and ``variant`` (whatever else
    changes the parse, e.g. the symbol): kept as the last upload of ``kind``, never its bytes.

    The file counts once against the session's budget (:func:`session_uploads`), and is
    refused before it is read when it is over the per-file limit or the budget.

    Raises:
        UploadLimitError: over 50 MB, or past the session's 200 MB budget (the message
            names the limit); nothing read, nothing parsed.
        QuantdeskError: what ``parse`` raised (kept, shown again on a rerun without parsing).
    """
    file_id, size, read = _file(upload)
    return session_uploads(kind).load((file_id, variant), size, read, parse, file_id=file_id)


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
    md = session_upload(upload, "bars", lambda b: load_csv(b, symbol), symbol)
    return dataclasses.replace(md, frame=md.frame.copy(deep=False), notes=list(md.notes))
