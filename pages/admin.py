"""Admin page: Retrain, promote and roll back models."""

import streamlit as st

from ui.layout import page_start, price_chart

sel, md = page_start("Admin", "Retrain, promote and roll back models.")
if md is not None:
    price_chart(md, bars=500)
    st.info("Admin actions arrive with the monitoring work.")
