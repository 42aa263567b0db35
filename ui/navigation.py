"""The app's pages, declared once: ``app.py`` builds its navigation from them, and the launcher
(:mod:`ui.warmup`) tells the browser which URL segments are pages (:mod:`ui.static_index`).

Page scripts live in ``views/``, not ``pages/``: Streamlit treats a ``pages/`` folder as a v1
multi-page app and serves its files by URL on a fresh server before ``st.navigation`` has run
once, which would expose pages (Admin) that navigation registers only for admins.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageSpec:
    """One page: its script, title, Material icon and URL segment (None: the default page,
    served at the app's root); ``preload``: Streamlit element chunks (names in its build
    manifest) the page shows as soon as it is opened or used, whose code the browser reads
    while the page connects; ``evaluate``: those of them also evaluated once the page is
    idle (:mod:`ui.static_index`, issue 15)."""

    script: str
    title: str
    icon: str
    url_path: str | None
    preload: tuple[str, ...] = ()
    evaluate: tuple[str, ...] = ()


#: a page that opens on a chart: Plotly's chunk (4.7 MB). A warm visit takes it from the
#: memory cache only if no garbage collection dropped it since the last visit; from the HTTP
#: cache it took 250-400 ms on the 2-core machine, requested only once the chart's message
#: had arrived
CHART = ("PlotlyChart",)
#: the element code a page shows on its first screen, beside its chart: otherwise each is
#: requested only when React first renders it, ~350-750 ms into a warm visit, and its element
#: drawn again once it came (issue 15, eighteenth pass). ``st.html`` blocks (cards, metric
#: rows, bar lists) and their sanitiser
HTML = ("Html",)
#: a segmented control or pills (the chart's window picker)
BUTTONS = ("ButtonGroup",)
#: a select box with its ~18 chunks (the Screener's universe, Model Monitoring's model)
SELECT = ("Selectbox",)
#: the Screener: its Scan button, result table, export button, links to the symbol's pages
#: and the scan's progress bar (the grid is ~35 chunks, 1.7 MB, fetched one import after
#: another)
SCREENER = ("Button", "DataFrame", "DownloadButton", "PageLink", "Progress")
#: the Paper Book's order ticket and account
TICKET = ("NumberInput", "Metric", "Slider", "Checkbox", "Button")


PAGES = (
    PageSpec("views/overview.py", "Overview", ":material/dashboard:", None,
             CHART + HTML + BUTTONS),
    PageSpec("views/screener.py", "Screener", ":material/filter_alt:", "screener",
             SCREENER + SELECT, evaluate=("DataFrame",)),
    PageSpec("views/patterns.py", "Patterns", ":material/candlestick_chart:", "patterns",
             CHART + HTML),
    PageSpec("views/forecasts.py", "Forecasts", ":material/trending_up:", "forecasts",
             CHART + HTML + ("DownloadButton",)),
    PageSpec("views/sentiment.py", "Sentiment", ":material/newspaper:", "sentiment",
             CHART + HTML + BUTTONS),
    PageSpec("views/volatility.py", "Volatility", ":material/waves:", "volatility",
             CHART + HTML),
    PageSpec("views/risk_sizing.py", "Risk Sizing", ":material/balance:", "risk-sizing",
             CHART + HTML),
    PageSpec("views/strategy_lab.py", "Strategy Lab", ":material/science:", "strategy-lab",
             CHART + HTML + BUTTONS),
    PageSpec("views/paper.py", "Paper Book", ":material/receipt_long:", "paper",
             CHART + SELECT + TICKET),
    PageSpec("views/monitoring.py", "Model Monitoring", ":material/monitoring:", "monitoring",
             CHART + HTML + SELECT),
)
#: registered only for a signed-in admin (an unregistered page cannot be opened by URL)
ADMIN = PageSpec("views/admin.py", "Admin", ":material/admin_panel_settings:", "admin")
#: the URL segment of every page (the default page has none)
URL_PATHS = tuple(p.url_path for p in (*PAGES, ADMIN) if p.url_path)
#: element chunks to preload, and to evaluate when idle, by URL segment ("" the root)
PRELOAD = {p.url_path or "": p.preload for p in (*PAGES, ADMIN) if p.preload}
EVALUATE = {p.url_path or "": p.evaluate for p in (*PAGES, ADMIN) if p.evaluate}


def st_pages(admin: bool) -> list:
    """The ``st.Page`` list for ``st.navigation``: every page, and Admin when ``admin``."""
    specs = (*PAGES, ADMIN) if admin else PAGES
    return [st.Page(p.script, title=p.title, icon=p.icon, default=p.url_path is None,
                    **({"url_path": p.url_path} if p.url_path else {})) for p in specs]
