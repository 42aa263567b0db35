"""Streamlit glue: cached wrappers around core, shared widgets. Pages import from here.

Importing this package also closes a gap in Streamlit's navigation: because a ``pages/``
folder sits beside ``app.py``, a freshly started server runs Streamlit's *legacy* multipage
mode (every ``pages/*.py`` listed and runnable by URL, ``app.py`` skipped) until the first
``st.navigation`` call of the process. So the first visitor of ``/admin`` after a restart
would run the Admin page directly, past the gate in ``app.py``. Every page imports ``ui``
before anything else, so the first script run of the process lands here: we switch the
legacy mode off and rerun, and that rerun goes through ``app.py`` and ``st.navigation``
(where an unregistered page is "not found"). ``page_start`` and the Admin page call it again
on every run, in case ``ui`` was imported earlier. When ``app.py`` itself runs, its
``st.navigation`` call has already switched the mode off, so this is a no-op there. Pages still
re-check ``is_admin()``.
"""

from __future__ import annotations


def leave_legacy_multipage_mode() -> None:
    """Turn off Streamlit's ``pages/``-folder mode and rerun through ``app.py``.

    Uses ``streamlit.runtime.pages_manager.PagesManager.uses_pages_directory`` (the same
    class flag ``st.navigation`` clears). A no-op outside a running server (plain imports,
    ``AppTest``) and once ``st.navigation`` has run.
    """
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # a future Streamlit without the legacy mode
        return
    if not PagesManager.uses_pages_directory or get_script_run_ctx() is None:
        return
    if type(Runtime._instance) is not Runtime:  # AppTest (mock runtime) resets the mode on
        return  # every run by design; only a real server needs (and survives) the rerun
    PagesManager.uses_pages_directory = False
    import streamlit as st

    st.rerun()


leave_legacy_multipage_mode()
