"""Shared page scaffolding: header, data, price chart."""

from __future__ import annotations

import streamlit as st

from core.data import MarketData
from core.plots.candles import WINDOWS, candlestick_figure, last_window
from ui.data import follow_bars
from ui.figures import cached_figure, chart
from ui.sidebar import Selection, market_data, sidebar, status_line
from ui.widgets import keep_in_url

DEFAULT_WINDOW = "1Y"
K_WINDOW = "window"  # session key and URL query parameter of the chart window


def page_start(title: str, caption: str = "") -> tuple[Selection, MarketData | None]:
    """Title, sidebar selection and validated bars (None after an explained failure).

    Never raises for bad input: an unknown symbol, an intraday request offline, a malformed
    CSV or an empty date range is shown with ``st.error``/``st.info`` and gives ``None``.
    """
    st.title(title)
    if caption:
        st.caption(caption)
    sel = sidebar()
    md = market_data(sel)
    if md is not None:
        status_line(md)
        follow_bars(md)  # an expired copy is shown now; the page reruns when the new one lands
    return sel, md


def _default_window(sel_has_dates: bool) -> str:
    chosen = st.session_state.get(K_WINDOW) or st.query_params.get(K_WINDOW)
    if chosen in WINDOWS:
        return chosen
    return "All" if sel_has_dates else DEFAULT_WINDOW


def price_chart(md: MarketData, bars: int | None = None, key: str = "price", *,
                window: bool = True) -> None:
    """Interactive candlestick + volume chart with a window picker (3M … 5Y, All).

    Args:
        md: validated bars. key: unique per chart on a page.
        window: show the window picker (default). Its choice is shared by every page and
            kept in the URL (``?window=5Y``); the default is the last year, or every bar when
            the sidebar has a date range. ``bars`` is ignored while the picker is shown.
        bars: with ``window=False``, draw the last ``bars`` bars (all when None).
    """
    frame = md.frame
    if window:
        has_dates = bool(st.query_params.get("start") or st.query_params.get("end"))
        default = _default_window(has_dates)
        choice = st.segmented_control(
            "Chart window", list(WINDOWS), default=default, key=f"{key}_window",
            label_visibility="collapsed", help="How much history the chart shows.")
        choice = choice or default
        if choice != st.session_state.get(K_WINDOW):
            st.session_state[K_WINDOW] = choice
        keep_in_url(K_WINDOW, choice, DEFAULT_WINDOW if not has_dates else "All")
        frame = last_window(frame, choice)
    elif bars is not None:
        frame = frame.tail(bars)
    chart(cached_figure(candlestick_figure, frame, f"{md.symbol} · {md.interval}"),
          key=key)
