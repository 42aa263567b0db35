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

The snippet also starts fetching the code of the elements a page shows on its first screen
or once it is used (:data:`ui.navigation.PRELOAD`, declared with each page), so the browser
loads and compiles it while the page loads instead of after the element's first message: the
Screener's result table is ~35 chunks (1.7 MB) of Streamlit's data grid, fetched one import
after another when Scan was pressed (~0.2 s), a chart page's Plotly chunk is 4.7 MB, and the
Strategy Lab's select box, window picker and HTML blocks were ~25 chunks requested 480-740 ms
into a warm visit (the Overview warm 1.05 → 0.88 s, 9 runs). At the root (the Overview) the
snippet only preloads. The Screener also evaluates the data grid's code once
the page is idle (:data:`ui.navigation.EVALUATE`), so a Scan's table draws without
evaluating it (a Scan with cached rows 0.46 → 0.37 s, 9 runs, the bare page's rerun 0.36 s);
the page's own first render has drawn by then, and evaluating shows nothing. The files come
from Streamlit's build manifest (``manifest.json``), so they follow the installed release;
without a manifest nothing is preloaded.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Iterable

from ui.navigation import EVALUATE, PRELOAD

log = logging.getLogger(__name__)

MARKER = "<!-- quantdesk: base URL -->"
#: runs before Streamlit's bundle; %s: the JSON list of page URL segments, then the JSON
#: objects of the files to preload and of those to evaluate when idle, by page URL segment
SNIPPET = MARKER + """
    <script>
      (function (pages, preload, evaluate) {
        var parts = window.location.pathname.replace(/\\/+$/, "").split("/");
        var page = parts[parts.length - 1], base;
        if (parts.length < 2) {  // the root: the default page; the frontend finds the base
          base = window.location.origin + "/";
        } else if (pages.indexOf(page) >= 0) {
          parts.pop();
          base = window.location.origin + parts.join("/") + "/";
          window.__streamlit = Object.assign({BACKEND_BASE_URL: base}, window.__streamlit || {});
        } else return;
        (preload[page] || []).forEach(function (file) {
          var link = document.createElement("link");
          link.rel = "modulepreload";
          link.crossOrigin = "anonymous";
          link.href = base + file;
          document.head.appendChild(link);
        });
        (evaluate[page] || []).forEach(function (file) {
          window.addEventListener("load", function () {
            (window.requestIdleCallback || setTimeout)(function () {
              import(base + file).catch(function () {});  // the element's own import retries
            });
          });
        });
      })(%s, %s, %s);
    </script>"""


def preload_files(manifest: dict, names: Iterable[str]) -> list[str]:
    """The JavaScript files (paths under Streamlit's static folder) of the chunks named
    ``names`` in a Vite build ``manifest``, with every chunk they import, less those the
    page's entry already loads; sorted. Unknown names are skipped."""
    def closure(keys: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        todo = [k for k in keys if k in manifest]
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(i for i in manifest[key].get("imports", []) if i in manifest)
        return seen

    entry = closure(k for k, v in manifest.items() if v.get("isEntry"))
    wanted = closure(k for k, v in manifest.items() if v.get("name") in set(names)
                     and v.get("file", "").endswith(".js"))
    return sorted(manifest[k]["file"] for k in wanted - entry
                  if manifest[k].get("file", "").endswith(".js"))


def entry_files(manifest: dict, names: Iterable[str]) -> list[str]:
    """The JavaScript file of each chunk named ``names`` in a Vite build ``manifest`` (the
    file a page imports to evaluate it), sorted; unknown names are skipped."""
    wanted = set(names)
    return sorted(v["file"] for v in manifest.values()
                  if v.get("name") in wanted and v.get("file", "").endswith(".js"))


def _manifest(static_dir: Path) -> dict | None:
    try:
        return json.loads((static_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log.info("No element code preloaded (%s).", err)
        return None


def page_preloads(static_dir: Path) -> dict[str, list[str]]:
    """:data:`ui.navigation.PRELOAD` as files of ``static_dir`` (Streamlit's static folder),
    from its ``manifest.json``; files that are not there are left out, and an unreadable manifest
    gives no preloads (logged)."""
    manifest = _manifest(static_dir)
    if manifest is None:
        return {}
    return {page: [f for f in preload_files(manifest, names) if (static_dir / f).is_file()]
            for page, names in PRELOAD.items()}


def page_evaluates(static_dir: Path) -> dict[str, list[str]]:
    """:data:`ui.navigation.EVALUATE` as files of ``static_dir`` (each chunk's own file),
    like :func:`page_preloads`."""
    manifest = _manifest(static_dir)
    if manifest is None:
        return {}
    return {page: [f for f in entry_files(manifest, names) if (static_dir / f).is_file()]
            for page, names in EVALUATE.items()}


def patched_index(html: str, url_paths: Iterable[str],
                  preloads: dict[str, list[str]] | None = None,
                  evaluates: dict[str, list[str]] | None = None) -> str:
    """``html`` (Streamlit's ``index.html``) with :data:`SNIPPET` right after ``<head>``;
    ``preloads``: files to preload by page URL segment (:func:`page_preloads`);
    ``evaluates``: files to evaluate when idle by page URL segment (:func:`page_evaluates`).

    Raises:
        ValueError: no ``<head>`` in ``html`` (a Streamlit release that changed its page).
    """
    if "<head>" not in html:
        raise ValueError("Streamlit's index.html has no <head>")
    snippet = SNIPPET % (json.dumps(sorted(url_paths)), json.dumps(preloads or {}),
                         json.dumps(evaluates or {}))
    return html.replace("<head>", "<head>\n    " + snippet, 1)


def mirror_static_dir(source: Path, dest: Path, url_paths: Iterable[str]) -> Path:
    """Fill ``dest`` with a symbolic link to each entry of ``source`` (Streamlit's static
    folder) and a patched copy of its ``index.html``; returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name != "index.html":
            os.symlink(entry, dest / entry.name)
    html = (source / "index.html").read_text(encoding="utf-8")
    (dest / "index.html").write_text(
        patched_index(html, url_paths, page_preloads(source), page_evaluates(source)),
        encoding="utf-8")
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
