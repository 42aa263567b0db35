"""Streamlit's ``index.html`` told where the app is, so a page opened by its URL connects at once.

Opened at a page's URL (``/volatility``), Streamlit's frontend does not know whether
``/volatility`` is the app's base path or a page under it: it asks ``/volatility/_stcore/health``
and ``/volatility/_stcore/host-config`` first, gets two 404s, waits its 100 ms retry delay and
only then connects at ``/``. That cost ~150 ms on every visit of every page but the Overview,
a third of the bare reference page's whole warm visit (issue 15, docs/performance.md). The
frontend skips the guess when the page that loads it sets ``window.__streamlit.BACKEND_BASE_URL``
(its embedding configuration), so the launcher serves a copy of Streamlit's static folder
whose ``index.html`` first runs :data:`SNIPPET`: when the last segment of the address is one of
the app's pages (:data:`ui.navigation.URL_PATHS`), the rest of the address is the base. Any
other address (the root, a base path behind a proxy, an unknown page) leaves the frontend's
own discovery as it was. Everything else in the copy is a symbolic link to Streamlit's file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

MARKER = "<!-- quantdesk: base URL -->"
#: runs before Streamlit's bundle; %s: the JSON list of page URL segments
SNIPPET = MARKER + """
    <script>
      (function (pages) {
        var parts = window.location.pathname.replace(/\\/+$/, "").split("/");
        if (parts.length < 2 || pages.indexOf(parts[parts.length - 1]) < 0) return;
        parts.pop();
        window.__streamlit = Object.assign(
          {BACKEND_BASE_URL: window.location.origin + parts.join("/") + "/"},
          window.__streamlit || {});
      })(%s);
    </script>"""


def patched_index(html: str, url_paths: Iterable[str]) -> str:
    """``html`` (Streamlit's ``index.html``) with :data:`SNIPPET` right after ``<head>``.

    Raises:
        ValueError: no ``<head>`` in ``html`` (a Streamlit release that changed its page).
    """
    if "<head>" not in html:
        raise ValueError("Streamlit's index.html has no <head>")
    snippet = SNIPPET % json.dumps(sorted(url_paths))
    return html.replace("<head>", "<head>\n    " + snippet, 1)


def mirror_static_dir(source: Path, dest: Path, url_paths: Iterable[str]) -> Path:
    """Fill ``dest`` with a symbolic link to each entry of ``source`` (Streamlit's static
    folder) and a patched copy of its ``index.html``; returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name != "index.html":
            os.symlink(entry, dest / entry.name)
    html = (source / "index.html").read_text(encoding="utf-8")
    (dest / "index.html").write_text(patched_index(html, url_paths), encoding="utf-8")
    return dest


def install(url_paths: Iterable[str]) -> Path | None:
    """Make this process's Streamlit server serve the patched copy (call before it starts).

    Returns:
        The copy's folder, or None when it could not be made (the unpatched page is served:
        every page still works, ~150 ms slower; the reason is logged).
    """
    from streamlit import file_util

    source = Path(file_util.get_static_dir())
    try:
        dest = mirror_static_dir(source, Path(tempfile.mkdtemp(prefix="quantdesk-static-")),
                                 url_paths)
    except (OSError, ValueError) as err:
        log.warning("Serving Streamlit's own index.html (%s): pages opened by URL connect "
                    "~150 ms later.", err)
        return None
    file_util.get_static_dir = lambda: str(dest)
    return dest
