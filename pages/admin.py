"""Admin page: retrain, promote, roll back, disable models; audit log.

Registered in ``st.navigation`` only for admins (app.py); the gate below re-checks anyway
(and every admin action re-checks ``is_admin()`` right before it runs).
"""

import streamlit as st

from ui import leave_legacy_multipage_mode
from ui.auth import is_admin

leave_legacy_multipage_mode()  # run directly by a fresh server? go through app.py instead
st.title("Admin")
if not is_admin():
    st.error("This page is for admins. Log in as an admin first.")
    st.stop()

st.caption(f"Signed in as {st.session_state.get('admin_user')}.")
st.info("Retrain, promote, roll back and the audit log arrive with the monitoring work.")
