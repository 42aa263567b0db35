"""Who is using the app. Admin login arrives with the monitoring/admin work; until then
nobody is an admin, so the Admin page is never registered."""

from __future__ import annotations

import streamlit as st


def is_admin() -> bool:
    """True when the current session belongs to a logged-in admin."""
    return bool(st.session_state.get("admin_user"))
