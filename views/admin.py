"""Admin page: retrain, promote, roll back, disable models; A/B tests; audit log.

Registered in ``st.navigation`` only for admins (app.py); the gate below re-checks anyway.
"""

import streamlit as st

from ui.auth import is_admin

st.title("Admin")
if not is_admin():
    st.error("This page is for admins. Log in as an admin first.")
    st.stop()

# ---- body (ui/admin.py) ----
from ui.admin import admin_body  # noqa: E402

admin_body()
