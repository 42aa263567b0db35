"""Model Monitoring page: Predictions against realised outcomes."""

import streamlit as st

from ui.layout import page_start, price_chart

sel, md = page_start("Model Monitoring", "Predictions against realised outcomes.")
if md is not None:
    price_chart(md, bars=500)
    st.info("This page will chart accuracy, coverage, latency and drift from stored predictions and outcomes.")
