"""Streamlit side of the live panel (Overview): cached data/prediction calls, the symbol
cards (their HTML from :mod:`core.panel.cards`) and the details under them. All computation
is in :mod:`core.panel`.

The cached calls are plain functions, separate from the auto-refreshing fragment of the
page (caching and fragments on one function is unsupported).
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from core.data import MarketData
from core.display import literal
from core.errors import QuantdeskError
from core.panel.cards import cards_html
from core.panel.symbol import SymbolPanel, symbol_panel
from ui.data import cached_market
from ui.widgets import TABLE_STYLE

_MISSES = {"n": 0}


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _cached_panel(symbol: str, interval: str, bar_key: str, source: str, ab_key: str,
                  _md: MarketData, _experiments: dict) -> SymbolPanel:
    """Predictions + signal of one symbol's latest bar, cached per (symbol, bar, source,
    running A/B tests)."""
    _MISSES["n"] += 1
    return symbol_panel(_md, experiments=_experiments)


def panels_for(markets: list[MarketData], experiments: dict | None = None
               ) -> tuple[list[SymbolPanel], list[str], int, int]:
    """Cached :func:`core.panel.symbol.symbol_panel` per market (``experiments``: running
    A/B tests by family, from :func:`core.panel.predictors.running_experiments`).

    Returns:
        ``(panels, errors, cache_hits, cache_misses)``.
    """
    panels, errors, hits, misses = [], [], 0, 0
    experiments = experiments or {}
    ab_key = repr(sorted(experiments.items()))
    for md in markets:
        before = _MISSES["n"]
        try:
            panels.append(_cached_panel(md.symbol, md.interval, md.frame.index[-1].isoformat(),
                                        md.source, ab_key, md, experiments))
        except QuantdeskError as err:
            errors.append(f"{md.symbol}: {err}")
            continue
        if _MISSES["n"] > before:
            misses += 1
        else:
            hits += 1
    return panels, errors, hits, misses


#: the look of :func:`core.panel.cards.cards_html`: bordered cards in a grid of two columns
#: (one on a narrow window), colours of the dark theme's green/red/gray text
CARD_STYLE = (
    "<style>.qd-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(24rem,1fr));"
    "gap:1rem;margin:0 0 1rem}.qd-card{border:1px solid rgba(250,250,250,.2);"
    "border-radius:.5rem;padding:1rem;min-width:0;overflow-x:auto}"
    ".qd-card-head{font-size:1.25rem;font-weight:600;padding-bottom:.75rem}"
    ".qd-card-signal{padding-bottom:1rem}.qd-card .qd-table{width:100%}"
    ".qd-up{color:#3dd56d}.qd-down{color:#ff6c6c}.qd-flat{color:#a3a8b8}</style>")


def symbol_cards(panels: list[SymbolPanel]) -> None:
    """The watchlist's cards (:func:`core.panel.cards.cards_html`) as one ``st.html``
    element, after a warning per model that fell back to its baseline (symbol named); their
    reasons and model status are in :func:`card_details`."""
    for sp in panels:
        for fam, why in sp.fallbacks.items():
            st.warning(f"{literal(sp.symbol)}: model {literal(fam)} {why}.", icon="⚠️")
    if panels:
        st.html(CARD_STYLE + TABLE_STYLE + cards_html(panels))


def card_details(panels: list[SymbolPanel], statuses: dict[str, str]) -> None:
    """One expander under the cards: per symbol the signal's reasons, its data source, the
    model versions shown, skipped domains and errors; then the model families' status.
    Everything from the user or a model's metadata is shown literally."""
    # drawn only while open (``on_change="rerun"``): a closed expander's content is still
    # mounted by the browser on every visit (issue 15)
    box = st.expander("Signal reasons, sources and model status", key="ov_details",
                      on_change="rerun")
    if not box.open:
        return
    with box:
        for sp in panels:
            lines = [f"**{literal(sp.symbol)}** · source {literal(sp.source)}"]
            lines += ["• " + literal(r) for r in sp.signal.reasons]
            lines += ["• " + literal(f"{name}: {why}") for name, why in sp.skipped.items()]
            versions = sorted({f"{p.model_name} {p.model_version}" for p in sp.predictions
                               if p.model_name != "naive"})
            if versions:
                lines.append("• Versions shown: " + literal(", ".join(versions)))
            shadow = sorted({f"{p.model_name} {p.model_version}" for p in sp.shadow})
            if shadow:
                lines.append("• A/B test: also logged (not shown) " + literal(", ".join(shadow)))
            lines += ["• " + literal(f"error: {e}") for e in sp.errors]
            st.markdown("  \n".join(lines))
        notes = ["Each card: the last close and its change vs the previous bar [%], the fused "
                 "signal, the forecasts with 80% intervals. Skill: 'no' = did not beat the "
                 "naive baseline walk-forward (ignored by the signal); 'untested' = no "
                 "evaluation in the artifact."]
        notes += [literal(f"{fam}: {text}") for fam, text in statuses.items()]
        st.caption("  \n".join(notes))


def replay_frame(symbol: str, interval: str) -> pd.DataFrame:
    """Full history of a replayed symbol (cached by :func:`ui.data.cached_market`)."""
    return cached_market(symbol, interval, None, None).frame


def step_due(key: str, period: float) -> bool:
    """True once per ``period`` seconds for ``key`` in this session (replay steps happen on
    refresh ticks, not on every widget interaction)."""
    now = time.monotonic()
    last = st.session_state.get(key)
    if last is None or now - last >= 0.8 * period:
        st.session_state[key] = now
        return last is not None
    return False
