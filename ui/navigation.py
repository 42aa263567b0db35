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
    served at the app's root)."""

    script: str
    title: str
    icon: str
    url_path: str | None


PAGES = (
    PageSpec("views/overview.py", "Overview", ":material/dashboard:", None),
    PageSpec("views/screener.py", "Screener", ":material/filter_alt:", "screener"),
    PageSpec("views/patterns.py", "Patterns", ":material/candlestick_chart:", "patterns"),
    PageSpec("views/forecasts.py", "Forecasts", ":material/trending_up:", "forecasts"),
    PageSpec("views/sentiment.py", "Sentiment", ":material/newspaper:", "sentiment"),
    PageSpec("views/volatility.py", "Volatility", ":material/waves:", "volatility"),
    PageSpec("views/risk_sizing.py", "Risk Sizing", ":material/balance:", "risk-sizing"),
    PageSpec("views/strategy_lab.py", "Strategy Lab", ":material/science:", "strategy-lab"),
    PageSpec("views/paper.py", "Paper Book", ":material/receipt_long:", "paper"),
    PageSpec("views/monitoring.py", "Model Monitoring", ":material/monitoring:", "monitoring"),
)
#: registered only for a signed-in admin (an unregistered page cannot be opened by URL)
ADMIN = PageSpec("views/admin.py", "Admin", ":material/admin_panel_settings:", "admin")
#: the URL segment of every page (the default page has none)
URL_PATHS = tuple(p.url_path for p in (*PAGES, ADMIN) if p.url_path)


def st_pages(admin: bool) -> list:
    """The ``st.Page`` list for ``st.navigation``: every page, and Admin when ``admin``."""
    specs = (*PAGES, ADMIN) if admin else PAGES
    return [st.Page(p.script, title=p.title, icon=p.icon, default=p.url_path is None,
                    **({"url_path": p.url_path} if p.url_path else {})) for p in specs]
