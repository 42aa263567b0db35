"""Cached data access for pages (st.cache_data at the page edge)."""

from __future__ import annotations

import streamlit as st

from core.data import MarketData, load_csv, load_ohlcv


@st.cache_data(ttl=60, show_spinner="Loading market data…")
def cached_market(symbol: str, interval: str, start, end, source: str = "auto") -> MarketData:
    """``core.data.load_ohlcv`` cached for 60 s per (symbol, interval, range, source).

    ``source``: ``auto`` (live first, bundled when offline) or ``bundled`` (offline demo).
    Raises what ``load_ohlcv`` raises (core.errors types with plain messages).
    """
    return load_ohlcv(symbol, interval, start, end, source=source)


@st.cache_data(show_spinner="Reading CSV…")
def cached_csv(data: bytes, name: str) -> MarketData:
    """Uploaded CSV bytes -> validated bars (cached by content)."""
    return load_csv(data, name)
