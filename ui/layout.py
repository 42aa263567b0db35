"""Shared page scaffolding: header, data, price chart."""

from __future__ import annotations

import streamlit as st

from core.data import MarketData
from core.plots.candles import candlestick_figure
from ui.sidebar import Selection, market_data, sidebar, status_line


def page_start(title: str, caption: str = "") -> tuple[Selection, MarketData | None]:
    """Title, sidebar selection and validated bars (None after an explained failure)."""
    st.title(title)
    if caption:
        st.caption(caption)
    sel = sidebar()
    md = market_data(sel)
    if md is not None:
        status_line(md)
    return sel, md


def price_chart(md: MarketData, bars: int | None = None, key: str = "price") -> None:
    """Interactive candlestick + volume of the last ``bars`` bars (all when None)."""
    frame = md.frame if bars is None else md.frame.tail(bars)
    st.plotly_chart(candlestick_figure(frame, f"{md.symbol} · {md.interval}"),
                    width="stretch", key=key)
