"""Streamlit side of the live panel (Overview): cached data/prediction calls and the
per-symbol card. All computation is in :mod:`core.panel`.

The cached calls are plain functions, separate from the auto-refreshing fragment of the
page (caching and fragments on one function is unsupported).
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from core.data import MarketData
from core.display import literal, markdown_table
from core.errors import QuantdeskError
from core.panel.symbol import SymbolPanel, symbol_panel
from ui.data import cached_market

ACTION_STYLE = {
    "STRONG_BUY": ("🟢🟢", "green"), "BUY": ("🟢", "green"), "HOLD": ("⚪", "gray"),
    "SELL": ("🔴", "red"), "STRONG_SELL": ("🔴🔴", "red"),
}

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


def fmt_pct(x, digits: int = 1) -> str:
    return "–" if x is None else f"{x:+.{digits}f}%"


def _interval_text(r: dict) -> str:
    v = f"{r['value_pct']:+.2f}"
    if r["lower_pct"] is None or r["upper_pct"] is None:
        return v
    return f"{v} [{r['lower_pct']:+.2f}, {r['upper_pct']:+.2f}]"


def forecast_frame(sp: SymbolPanel) -> pd.DataFrame:
    """Display table of the forecasts: simple return [%] with its 80% interval."""
    rows = []
    for r in sp.forecasts:
        skill = {True: "yes", False: "no", None: "untested"}[r["skill"]]
        naive = r["model"] == "naive"
        rows.append({"Model": r["model"],
                     "h [bars]": r["horizon"],
                     "Return [%] (80% interval)": _interval_text(r),
                     "Skill": "baseline" if naive else skill})
    return pd.DataFrame(rows)


def symbol_card(sp: SymbolPanel) -> None:
    """One bordered card: price, signal, forecasts, pattern, regime, sentiment (its reasons and
    model status are in :func:`card_details`). Symbols, notes and errors are shown literally
    (``core.display.literal``)."""
    # one markdown element per card, no columns, st.metric, help tooltip or expander: the
    # Overview draws a card per watchlist symbol and every element costs the browser time on
    # each visit (issue 15, docs/performance.md)
    with st.container(border=True):
        icon, color = ACTION_STYLE.get(sp.signal.action, ("⚪", "gray"))
        change = fmt_pct(sp.change_pct, 2)
        if sp.change_pct:
            change = f":{'green' if sp.change_pct > 0 else 'red'}[{change}]"
        score = round(sp.signal.score, 2) + 0.0  # no "-0.00"
        for fam, why in sp.fallbacks.items():
            st.warning(f"Model {literal(fam)} {why}.", icon="⚠️")  # why: a fixed text
        regime = sp.regime or _why(sp, "volatility")
        vol = f" · {sp.vol_ann:.1f}% ann." if sp.vol_ann is not None else ""
        sent = _why(sp, "sentiment") if sp.sentiment is None else f"{sp.sentiment:+.2f}"
        st.markdown(
            f"#### {literal(sp.symbol)} · {sp.last_price:,.2f} {change}\n"
            f"{icon} :{color}[**{sp.signal.action.replace('_', ' ')}**] · confidence "
            f"{sp.signal.confidence:.0%} · score {score:+.2f} · bar {sp.bar_ts:%Y-%m-%d}\n\n"
            + markdown_table(forecast_frame(sp)) + "\n\n"
            f"**Pattern:** {literal(sp.pattern or _why(sp, 'patterns'))}  \n"
            f"**Volatility regime:** {literal(regime + vol)}  \n"
            f"**Sentiment:** {literal(sent)}")


def _why(sp: SymbolPanel, domain: str) -> str:
    return f"n/a ({sp.skipped[domain]})" if domain in sp.skipped else "n/a"


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
