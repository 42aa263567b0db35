"""Quantdesk entry point: page config, navigation (Admin only for admins), shared sidebar.

Page scripts live in ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder as a v1
multi-page app and serves its files by URL on a fresh server before ``st.navigation`` has run
once, which would expose pages (Admin) that navigation registers only for admins.

The sidebar's selection widgets are drawn here, in the entry point, so a choice survives page
switches; they are bound to the URL query string so a view can be shared (ui/sidebar.py).
"""

from pathlib import Path

import streamlit as st

from ui.auth import auth_sidebar, is_admin
from ui.sidebar import begin_run, draw_sidebar, end_run
from ui.warmup import start as start_warmup

# a local favicon: a material-icon favicon makes the browser fetch it from fonts.gstatic.com
st.set_page_config(page_title="Quantdesk", page_icon=str(Path(__file__).parent / "ui" /
                                                         "favicon.png"), layout="wide")
start_warmup()  # once per server process: heavy imports and model loads in the background

pages = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/screener.py", title="Screener", icon=":material/filter_alt:",
            url_path="screener"),
    st.Page("views/patterns.py", title="Patterns", icon=":material/candlestick_chart:",
            url_path="patterns"),
    st.Page("views/forecasts.py", title="Forecasts", icon=":material/trending_up:",
            url_path="forecasts"),
    st.Page("views/sentiment.py", title="Sentiment", icon=":material/newspaper:",
            url_path="sentiment"),
    st.Page("views/volatility.py", title="Volatility", icon=":material/waves:",
            url_path="volatility"),
    st.Page("views/risk_sizing.py", title="Risk Sizing", icon=":material/balance:",
            url_path="risk-sizing"),
    st.Page("views/strategy_lab.py", title="Strategy Lab", icon=":material/science:",
            url_path="strategy-lab"),
    st.Page("views/paper.py", title="Paper Book", icon=":material/receipt_long:",
            url_path="paper"),
    st.Page("views/monitoring.py", title="Model Monitoring", icon=":material/monitoring:",
            url_path="monitoring"),
]
if is_admin():  # unregistered pages cannot be opened by URL ("Page not found" -> Overview)
    pages.append(st.Page("views/admin.py", title="Admin",
                         icon=":material/admin_panel_settings:", url_path="admin"))

NO_MARKET_SIDEBAR = {"admin", "monitoring", "screener"}  # pages with their own controls, no chart

page = st.navigation(pages)
if page.url_path not in NO_MARKET_SIDEBAR:
    begin_run(draw_sidebar())
auth_sidebar()
try:
    page.run()
finally:
    end_run()
