"""Risk Sizing page: Stops, position size and portfolio risk."""

import streamlit as st

from ui.layout import page_start, price_chart

sel, md = page_start("Risk Sizing", "Stops, position size and portfolio risk.")
if md is not None:
    price_chart(md, bars=500)
    st.info("This page will add the position-sizing calculator, portfolio VaR/CVaR and sizing-policy backtests.")
