"""Quantdesk entry point: page config, navigation (Admin only for admins)."""

import streamlit as st

from ui.auth import is_admin

st.set_page_config(page_title="Quantdesk", page_icon="📈", layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon="🏠", default=True, url_path="overview"),
    st.Page("pages/patterns.py", title="Patterns", icon="🕯️", url_path="patterns"),
    st.Page("pages/forecasts.py", title="Forecasts", icon="🔮", url_path="forecasts"),
    st.Page("pages/sentiment.py", title="Sentiment", icon="📰", url_path="sentiment"),
    st.Page("pages/volatility.py", title="Volatility", icon="🌊", url_path="volatility"),
    st.Page("pages/risk_sizing.py", title="Risk Sizing", icon="⚖️", url_path="risk-sizing"),
    st.Page("pages/monitoring.py", title="Model Monitoring", icon="📊", url_path="monitoring"),
]
if is_admin():
    pages.append(st.Page("pages/admin.py", title="Admin", icon="🔐", url_path="admin"))

st.navigation(pages).run()
