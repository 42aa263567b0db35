"""Patterns page: Candlestick patterns and support/resistance breakouts."""

import streamlit as st

from ui.layout import page_start, price_chart

sel, md = page_start("Patterns", "Candlestick patterns and support/resistance breakouts.")
if md is not None:
    price_chart(md, bars=500)
    st.info("This page will add pattern markers, each pattern's measured edge and breakout predictions.")
