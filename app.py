"""Quantdesk entry point: page config, navigation (Admin only for admins), shared sidebar.

The pages are declared in ``ui/navigation.py`` (scripts in ``views/``, see there why).

The sidebar's selection widgets are drawn here, in the entry point, so a choice survives page
switches; they are bound to the URL query string so a view can be shared (ui/sidebar.py).
"""

from pathlib import Path

import streamlit as st

from ui.auth import auth_sidebar, is_admin
from ui.navigation import st_pages
from ui.sidebar import begin_run, draw_sidebar, end_run
from ui.warmup import start as start_warmup

# a local favicon: a material-icon favicon makes the browser fetch it from fonts.gstatic.com
st.set_page_config(page_title="Quantdesk", page_icon=str(Path(__file__).parent / "ui" /
                                                         "favicon.png"), layout="wide")
start_warmup()  # once per server process: heavy imports and model loads in the background

pages = st_pages(admin=is_admin())  # Admin: unregistered, it cannot be opened by URL

NO_MARKET_SIDEBAR = {"admin", "monitoring", "screener"}  # pages with their own controls, no chart

page = st.navigation(pages)
if page.url_path not in NO_MARKET_SIDEBAR:
    begin_run(draw_sidebar())
auth_sidebar()
try:
    page.run()
finally:
    end_run()
