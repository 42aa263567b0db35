"""Sentiment page: News sentiment per symbol."""

import streamlit as st

from ui.layout import page_start, price_chart

sel, md = page_start("Sentiment", "News sentiment per symbol.")
if md is not None:
    price_chart(md, bars=500)
    st.info("This page will add headline scoring (VADER, Loughran-McDonald, transformer) and per-symbol sentiment.")
