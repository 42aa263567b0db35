"""Quantdesk entry point: page config, navigation (Admin only for admins), shared sidebar.

The sidebar's selection widgets live here, in the entry point, so a choice survives page
switches; they are bound to the URL query string so a view can be shared (ui/sidebar.py).
"""

import streamlit as st

from ui.auth import auth_sidebar, is_admin
from ui.sidebar import begin_run, draw_sidebar, end_run

st.set_page_config(page_title="Quantdesk", page_icon=":material/candlestick_chart:",
                   layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/patterns.py", title="Patterns", icon=":material/candlestick_chart:",
            url_path="patterns"),
    st.Page("pages/forecasts.py", title="Forecasts", icon=":material/timeline:",
            url_path="forecasts"),
    st.Page("pages/sentiment.py", title="Sentiment", icon=":material/newspaper:",
            url_path="sentiment"),
    st.Page("pages/volatility.py", title="Volatility", icon=":material/waves:",
            url_path="volatility"),
    st.Page("pages/risk_sizing.py", title="Risk Sizing", icon=":material/balance:",
            url_path="risk-sizing"),
    st.Page("pages/monitoring.py", title="Model Monitoring", icon=":material/monitoring:",
            url_path="monitoring"),
]
admin = is_admin()
if admin:  # unregistered pages cannot be opened by URL ("Page not found" -> Overview)
    pages.append(st.Page("pages/admin.py", title="Admin", icon=":material/shield_person:",
                         url_path="admin"))

page = st.navigation(pages)
if page.url_path != "admin":
    begin_run(draw_sidebar())
auth_sidebar()
try:
    page.run()
finally:
    end_run()
