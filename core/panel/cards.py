"""The Overview's symbol cards as one HTML block, for ``st.html``.

One element for the whole watchlist instead of a bordered container with a markdown card
per symbol in two columns: the browser renders it without Streamlit's markdown parser and
its per-element layout (issue 15, docs/performance.md, eleventh pass). Each card shows the
last close and its change, the fused signal, the forecasts with their 80% intervals beside
the naive baseline, and the pattern, volatility regime and sentiment lines. Every text is
HTML-escaped (``html.escape``): a symbol, pattern or note cannot become a tag or a link.
"""

from __future__ import annotations

import html

import pandas as pd

from core.data import MarketData
from core.display import html_table
from core.panel.symbol import SymbolPanel

#: the signal's icon and colour class (``qd-up``, ``qd-down``, ``qd-flat``) per action
ACTIONS = {"STRONG_BUY": ("🟢🟢", "up"), "BUY": ("🟢", "up"), "HOLD": ("⚪", "flat"),
           "SELL": ("🔴", "down"), "STRONG_SELL": ("🔴🔴", "down")}


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """``x`` [%] with its sign (``+1.2%``), or ``–`` for None."""
    return "–" if x is None else f"{x:+.{digits}f}%"


def _interval_text(r: dict) -> str:
    v = f"{r['value_pct']:+.2f}"
    if r["lower_pct"] is None or r["upper_pct"] is None:
        return v
    return f"{v} [{r['lower_pct']:+.2f}, {r['upper_pct']:+.2f}]"


def forecast_frame(sp: SymbolPanel) -> pd.DataFrame:
    """The card's forecast table: per model and horizon [bars] the simple return [%] with
    its 80% interval, and whether the model beat the naive baseline walk-forward (``yes``,
    ``no``, ``untested``; the baseline's own rows say ``baseline``)."""
    rows = []
    for r in sp.forecasts:
        skill = {True: "yes", False: "no", None: "untested"}[r["skill"]]
        rows.append({"Model": r["model"],
                     "h [bars]": r["horizon"],
                     "Return [%] (80% interval)": _interval_text(r),
                     "Skill": "baseline" if r["model"] == "naive" else skill})
    return pd.DataFrame(rows)


def _why(sp: SymbolPanel, domain: str) -> str:
    return f"n/a ({sp.skipped[domain]})" if domain in sp.skipped else "n/a"


def card_html(sp: SymbolPanel) -> str:
    """One symbol's card: ``<div class="qd-card">`` with its head (``qd-card-head``: symbol,
    last close, change in ``qd-up``/``qd-down``), signal line (``qd-card-signal``), forecast
    table (:func:`core.display.html_table`) and context lines (``qd-card-lines``)."""
    esc = html.escape
    icon, tone = ACTIONS.get(sp.signal.action, ("⚪", "flat"))
    change = esc(fmt_pct(sp.change_pct, 2))
    if sp.change_pct:
        change = f'<span class="qd-{"up" if sp.change_pct > 0 else "down"}">{change}</span>'
    score = round(sp.signal.score, 2) + 0.0  # no "-0.00"
    regime = sp.regime or _why(sp, "volatility")
    vol = f" · {sp.vol_ann:.1f}% ann." if sp.vol_ann is not None else ""
    sent = _why(sp, "sentiment") if sp.sentiment is None else f"{sp.sentiment:+.2f}"
    lines = (("Pattern", sp.pattern or _why(sp, "patterns")),
             ("Volatility regime", regime + vol), ("Sentiment", sent))
    return (f'<div class="qd-card"><div class="qd-card-head">{esc(sp.symbol)} · '
            f'{sp.last_price:,.2f} {change}</div>'
            f'<div class="qd-card-signal">{icon} <b class="qd-{tone}">'
            f'{esc(sp.signal.action.replace("_", " "))}</b> · confidence '
            f'{sp.signal.confidence:.0%} · score {score:+.2f} · bar {sp.bar_ts:%Y-%m-%d}</div>'
            + html_table(forecast_frame(sp))
            + '<div class="qd-card-lines">'
            + "<br>".join(f"<b>{label}:</b> {esc(text)}" for label, text in lines)
            + "</div></div>")


def cards_html(panels: list[SymbolPanel]) -> str:
    """Every symbol's :func:`card_html` in one ``<div class="qd-cards">`` grid, in order."""
    return f'<div class="qd-cards">{"".join(card_html(sp) for sp in panels)}</div>'


def source_notes(markets: list[MarketData]) -> tuple[list[str], list[str]]:
    """Which watchlist symbols are not live, grouped by their data's fallback sentence (the
    source and as-of date :func:`core.data.load_ohlcv` gives), in watchlist order:
    ``(stale, other)``. *stale*: a failed download's fallback, or a cached copy a background
    download has not renewed, e.g. ``"AAPL, MSFT: Cached copy from 2026-12-01 14:02 UTC,
    last bar 2026-12-01; updating it in the background."``; *other*: data chosen to be
    offline (the bundled demo history, offline mode). Live symbols are in neither."""
    groups: dict[tuple[bool, str], list[str]] = {}
    for md in markets:
        if md.fallback:
            groups.setdefault((bool(md.stale), md.fallback), []).append(md.symbol)
    lines: tuple[list[str], list[str]] = ([], [])
    for (stale, text), symbols in groups.items():
        lines[0 if stale else 1].append(f"{', '.join(symbols)}: {text}")
    return lines
