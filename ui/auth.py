"""Who is using the app: admin sign-in/out in the sidebar, session glue only.

Verification lives in :mod:`core.auth` (bcrypt, no streamlit). Two ways to become admin:

* **OIDC** (``st.login``) when ``.streamlit/secrets.toml`` has an ``[auth]`` section; the
  signed-in account is an admin when its e-mail is listed by
  :func:`core.auth.admin_emails` (``QUANTDESK_ADMIN_EMAILS`` or ``admin_emails`` in secrets).
* **Local accounts** otherwise: an "Admin sign-in" form (sidebar popover) checked by
  :func:`core.auth.verify_admin` (``quantdesk admin create-user NAME``). No account exists
  until someone creates one, so no default password ever works. Failed attempts are
  throttled per name by :class:`core.auth.LoginThrottle`.

``app.py`` registers the Admin page in ``st.navigation`` only when :func:`is_admin` is true
(an unregistered page cannot be opened by URL) and the Admin page re-checks it before every
action.
"""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.auth import LoginThrottle, admin_emails, verify_admin
from core.display import literal
from core.errors import QuantdeskError
from core.store import audit, session_scope

log = logging.getLogger(__name__)

ADMIN_KEY = "admin_user"  # session key read by the Admin page (name or e-mail)
SOURCE_KEY = "admin_source"  # "local" | "oidc"
_THROTTLE = LoginThrottle()  # process-wide: one attacker, many sessions, same counters


def oidc_configured() -> bool:
    """True when ``st.login`` is set up (an ``[auth]`` section in Streamlit secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file, or an unreadable one
        return False


def _oidc_email() -> str | None:
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or "") or None
    except Exception:
        return None
    return None


def is_admin() -> bool:
    """True when the current session belongs to a signed-in admin.

    A local sign-in is remembered in the session; an OIDC sign-in is re-derived from
    ``st.user`` on every call, so signing out of the provider ends admin rights at once.
    """
    user = st.session_state.get(ADMIN_KEY)
    if not user:
        return False
    if st.session_state.get(SOURCE_KEY) == "oidc":
        email = _oidc_email()
        return bool(email) and email.lower() == str(user).lower() and \
            email.lower() in admin_emails()
    return True


def sign_out() -> None:
    """Forget the admin session (and the OIDC login when there is one)."""
    source = st.session_state.pop(SOURCE_KEY, None)
    st.session_state.pop(ADMIN_KEY, None)
    if source == "oidc":
        st.logout()  # reruns the app
    st.rerun()


def _sync_oidc() -> None:
    """Mirror ``st.user`` into the session keys (admin only for listed e-mails)."""
    email = _oidc_email()
    if email and email.lower() in admin_emails():
        st.session_state[ADMIN_KEY] = email
        st.session_state[SOURCE_KEY] = "oidc"
    elif st.session_state.get(SOURCE_KEY) == "oidc":
        st.session_state.pop(ADMIN_KEY, None)
        st.session_state.pop(SOURCE_KEY, None)


def _local_form(box) -> None:
    with box.popover("Admin sign-in", icon=":material/lock:", width="stretch"):
        with st.form("qd_admin_login", clear_on_submit=True, border=False):
            name = st.text_input("Admin name", key="qd_login_name", autocomplete="username")
            password = st.text_input("Password", type="password", key="qd_login_password",
                                     autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", width="stretch", key="qd_sign_in")
    if not submitted:
        return
    name = name.strip()
    client = _client()
    wait = _THROTTLE.begin(name, client)  # check and count the attempt in one step
    if wait > 0:
        box.error(f"Too many failed sign-ins for this name. Try again in {wait:.0f} s.")
        return
    if verify_admin(name, password):
        _THROTTLE.success(name, client)
        _audit_sign_in(name, "sign_in", client)
        st.session_state[ADMIN_KEY] = name
        st.session_state[SOURCE_KEY] = "local"
        st.rerun()  # rebuild the navigation with the Admin page
    _audit_sign_in(name, "sign_in_failed", client)
    box.error("Wrong admin name or password.")


def _client() -> str:
    """Who is signing in, for the throttle: the browser's address when Streamlit knows it."""
    try:
        ip = st.context.ip_address
    except Exception:  # no runtime context (bare script)
        ip = None
    return ip if isinstance(ip, str) and ip else "local"


def _audit_sign_in(name: str, action: str, client: str) -> None:
    """Audit a sign-in attempt (never the password); a store fault must not block sign-in."""
    try:
        with session_scope() as s:
            audit(name[:80] or "(empty)", action, "admin", {"client": client}, session=s)
    except (QuantdeskError, SQLAlchemyError) as err:
        log.warning("Sign-in not audited (%s).", type(err).__name__)


def auth_sidebar() -> None:
    """Draw the sign-in form, or who is signed in with a Sign out button, in the sidebar."""
    box = st.sidebar  # no container of its own: one element fewer per run (issue 15)
    oidc = oidc_configured()
    if oidc:
        _sync_oidc()
    if is_admin():
        # the name is what was typed at sign-in (or the provider's e-mail): shown literally
        box.caption(f"Signed in as **{literal(st.session_state[ADMIN_KEY])}** (admin)")
        if box.button("Sign out", key="qd_sign_out", icon=":material/logout:"):
            sign_out()
        return
    if oidc:
        email = _oidc_email()
        if email:
            box.caption(f"Signed in as {literal(email)} — not an admin.")
            if box.button("Sign out", key="qd_sign_out_user", icon=":material/logout:"):
                st.logout()
        elif box.button("Admin sign-in", key="qd_oidc_login", icon=":material/lock:"):
            st.login()
        return
    _local_form(box)
