"""Volatility page: Realised and forecast volatility."""

import streamlit as st

from ui.layout import page_start, price_chart

sel, md = page_start("Volatility", "Realised and forecast volatility.")
if md is not None:
    price_chart(md, bars=500)
    st.info("This page will add range estimators, GARCH/HAR/ML forecasts and their QLIKE evaluation.")
