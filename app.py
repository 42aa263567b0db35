"""Quantdesk entry point: page config, navigation (Admin only for admins).

Page scripts live in ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder as a v1
multi-page app and serves its files by URL on a fresh server before ``st.navigation`` has run
once, which would expose pages (Admin) that navigation registers only for admins.
"""

import streamlit as st

from ui.auth import is_admin

st.set_page_config(page_title="Quantdesk", page_icon=":material/candlestick_chart:", layout="wide")

pages = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True, url_path="overview"),
    st.Page("views/patterns.py", title="Patterns", icon=":material/candlestick_chart:", url_path="patterns"),
    st.Page("views/forecasts.py", title="Forecasts", icon=":material/trending_up:", url_path="forecasts"),
    st.Page("views/sentiment.py", title="Sentiment", icon=":material/newspaper:", url_path="sentiment"),
    st.Page("views/volatility.py", title="Volatility", icon=":material/waves:", url_path="volatility"),
    st.Page("views/risk_sizing.py", title="Risk Sizing", icon=":material/balance:", url_path="risk-sizing"),
    st.Page("views/monitoring.py", title="Model Monitoring", icon=":material/monitoring:", url_path="monitoring"),
]
if is_admin():
    pages.append(st.Page("views/admin.py", title="Admin", icon=":material/admin_panel_settings:", url_path="admin"))

st.navigation(pages).run()
