"""The shared sidebar: symbol, interval and date range, mirrored in the URL query string."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from core.data import BUNDLED_SYMBOLS, INTERVALS, MarketData
from core.errors import QuantdeskError
from ui.data import cached_csv, cached_market

CUSTOM = "Other (Yahoo)…"
UPLOAD = "Upload CSV…"


@dataclass
class Selection:
    symbol: str
    interval: str
    start: dt.date | None
    end: dt.date | None


def _qp(name: str, default: str) -> str:
    val = st.query_params.get(name)
    return val if val else default


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def sidebar() -> Selection:
    """Draw the sidebar once per run and return the current selection (kept in the URL)."""
    sb = st.sidebar
    sym_q = _qp("symbol", "MSFT").upper()
    options = list(BUNDLED_SYMBOLS) + [CUSTOM, UPLOAD]
    choice = sb.selectbox("Symbol", options,
                          index=options.index(sym_q) if sym_q in BUNDLED_SYMBOLS else
                          options.index(UPLOAD) if sym_q == "CSV" else options.index(CUSTOM),
                          key="sb_symbol")
    if choice == CUSTOM:
        symbol = sb.text_input("Ticker", value=sym_q if sym_q not in BUNDLED_SYMBOLS else "",
                               placeholder="e.g. NVDA, BTC-USD", key="sb_ticker").strip().upper()
        symbol = symbol or "MSFT"
    elif choice == UPLOAD:
        symbol = "CSV"
    else:
        symbol = choice
    intervals = list(INTERVALS)
    interval = sb.selectbox("Interval", intervals,
                            index=intervals.index(_qp("interval", "1d")) if _qp("interval", "1d")
                            in intervals else intervals.index("1d"), key="sb_interval")
    start = sb.date_input("Start", value=_date(st.query_params.get("start")), key="sb_start",
                          min_value=dt.date(1990, 1, 1), max_value=dt.date.today())
    end = sb.date_input("End", value=_date(st.query_params.get("end")), key="sb_end",
                        min_value=dt.date(1990, 1, 1), max_value=dt.date.today())
    params = {"symbol": symbol, "interval": interval}
    if start:
        params["start"] = start.isoformat()
    if end:
        params["end"] = end.isoformat()
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)
    return Selection(symbol, interval, start or None, end or None)


def market_data(sel: Selection) -> MarketData | None:
    """Load the selection's bars; on failure show the reason and return None (never raise)."""
    try:
        if sel.symbol == "CSV":
            up = st.sidebar.file_uploader("OHLCV CSV", type=["csv"], key="sb_upload",
                                          help="Columns: Date, Open, High, Low, Close, "
                                               "[Adj Close], Volume")
            if up is None:
                st.info("Upload a CSV with Date, Open, High, Low, Close and Volume columns "
                        "in the sidebar.")
                return None
            return cached_csv(up.getvalue(), up.name.rsplit(".", 1)[0][:12] or "CSV")
        return cached_market(sel.symbol, sel.interval, sel.start, sel.end)
    except QuantdeskError as err:
        st.error(str(err))
        return None


def status_line(md: MarketData) -> None:
    """One caption line: source, bars, as-of; a warning when stale; validation notes."""
    if md.stale:
        st.warning(f"Stale data as of {md.as_of:%Y-%m-%d %H:%M} UTC — the live source failed.")
    st.caption(md.status_line)
    if md.notes:
        with st.expander(f"{len(md.notes)} data note(s)"):
            for n in md.notes:
                st.write("• " + n)
