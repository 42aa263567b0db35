"""Overview page: Market overview of the selected symbol."""

import streamlit as st

from ui.layout import page_start, price_chart

sel, md = page_start("Overview", "Market overview of the selected symbol.")
if md is not None:
    price_chart(md, bars=500)
    st.info("The live prediction panel (forecasts, patterns, volatility regime, fused signal) will appear here.")
