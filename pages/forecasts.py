"""Forecasts page: Multi-horizon price forecasts with intervals."""

import streamlit as st

from ui.layout import page_start, price_chart

sel, md = page_start("Forecasts", "Multi-horizon price forecasts with intervals.")
if md is not None:
    price_chart(md, bars=500)
    st.info("This page will add multi-horizon forecasts with conformal intervals and their walk-forward skill against a random walk.")
