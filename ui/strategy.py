"""Cached wrappers around core.strategy for the Strategy Lab page.

Results are cached per (symbol, interval, first and last bar, bar count, strategy spec):
the frame itself is not hashed (``_frame``), the key names it. A new bar, another date
range or an edited parameter is a new key.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.context import VIX_YEARS, market_context
from core.data import MarketData
from core.display import Metric
from core.strategy.backtest import (
    BacktestResult,
    WalkForwardResult,
    backtest,
    walk_forward_backtest,
)
from core.strategy.qtuner import (
    QSettings,
    compare_methods,
    jsonable,
    qlearning_tune,
    run_tuning_job,
)
from core.strategy.report import PAGE_BUDGET
from core.strategy.rules import compute_signal, signal_edge_table
from core.strategy.spec import Strategy, load_strategy, parse_strategy
from core.strategy.tune import grid_configs, grid_search
from core.universe import named_universes
from ui.auth import is_admin

TTL = 3600  # seconds; the key already changes with every new bar


def frame_key(md: MarketData) -> tuple:
    """(symbol, interval, source, first bar, last bar, bars): names the bars without hashing
    them (a new bar or another range is another key)."""
    f = md.frame
    return (md.symbol, md.interval, md.source, str(f.index[0]), str(f.index[-1]), len(f))


def spec_key(spec: Strategy) -> str:
    """The strategy as canonical JSON (its cache key and what the cached function rebuilds)."""
    return json.dumps(spec.model_dump(), sort_keys=True)


@st.cache_data(show_spinner=False, max_entries=16, ttl=TTL)
def load_example(path: str, mtime: float) -> Strategy:
    """A strategy file, parsed once per modification time."""
    return load_strategy(path)


@st.cache_data(show_spinner="Measuring each rule's edge (bootstrap)…", max_entries=16, ttl=TTL)
def cached_edge(key: tuple, _frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`core.strategy.rules.signal_edge_table` of the bars named by ``key``."""
    return signal_edge_table(_frame)


@st.cache_data(show_spinner=False, max_entries=32, ttl=TTL)
def cached_signal(key: tuple, _frame: pd.DataFrame, name: str) -> pd.Series:
    """One rule's signal (defaults) on the bars named by ``key``."""
    return compute_signal(_frame, name)


@st.cache_data(show_spinner="Backtesting…", max_entries=16, ttl=TTL)
def cached_backtest(key: tuple, _frame: pd.DataFrame, spec_json: str, interval: str
                    ) -> BacktestResult:
    """Full-history backtest of the strategy ``spec_json`` (:func:`spec_key`)."""
    spec = parse_strategy(spec_json, "json", "strategy")
    return backtest(_frame, spec, interval=interval)


@st.cache_data(show_spinner="Walk-forward: re-picking the grid's best on each training "
               "window…", max_entries=8, ttl=TTL)
def cached_walk_forward(key: tuple, _frame: pd.DataFrame, spec_json: str, interval: str
                        ) -> WalkForwardResult:
    """Walk-forward backtest with the strategy's ``[tune]`` grid re-picked on each fold."""
    spec = parse_strategy(spec_json, "json", "strategy")
    return walk_forward_backtest(_frame, spec, interval=interval, grid=grid_configs(spec))


def tuning_who() -> str:
    """Who the tuning job is recorded as: the signed-in admin, else ``strategy-lab``."""
    name = str(st.session_state.get("admin_user") or "") if is_admin() else ""
    return name or "strategy-lab"


def run_page_tune(key: tuple, frame: pd.DataFrame, spec_json: str, interval: str,
                  test_start: str, method: str, progress=None) -> dict:
    """Tune on this symbol alone (bars before ``test_start``; judged on the rest) as a
    single-flight ``tuning`` job shared with ``quantdesk tune`` and retraining
    (:func:`core.strategy.qtuner.run_tuning_job`). ``method``: ``grid`` (the whole grid),
    ``qlearning`` or ``both`` (at most :data:`core.strategy.report.PAGE_BUDGET`
    configurations' worth, so a run takes seconds). Returns the result as plain JSON data
    (the page keeps it in its session; nothing heavy is kept).

    Raises:
        TrainingInProgressError: another tuning job or a retrain is running.
        QuantdeskError / ValueError: the tuner's own refusals.
    """
    spec = parse_strategy(spec_json, "json", "strategy")
    symbol = key[0]
    frames = {symbol: frame}

    def work(progress=None):
        if method == "grid":
            return grid_search(frames, spec, train_symbols=[symbol], heldout_symbols=[],
                               test_start=test_start, interval=interval)
        fn = qlearning_tune if method == "qlearning" else compare_methods
        return fn(frames, spec, train_symbols=[symbol], heldout_symbols=[],
                  test_start=test_start, interval=interval,
                  budget=min(PAGE_BUDGET, len(grid_configs(spec))), settings=QSettings(),
                  progress=progress)

    return jsonable(run_tuning_job(work, who=tuning_who(), progress=progress, label=method))


# ---------------------------------------------------------------- market context strip

def context_universes() -> dict[str, str]:
    """Universes the strip's breadth may be measured over (name -> title)."""
    return named_universes()


def context_source(md: MarketData) -> str:
    """Where ^GSPC, ^VIX and the universe come from beside ``md``: the bundled history when
    the symbol's bars are the bundled ones (same history, same dates), else live first."""
    return "bundled" if md.source == "bundled" else "auto"


@st.cache_data(show_spinner="Reading the market context…", max_entries=16, ttl=TTL)
def cached_context(key: tuple, _frame: pd.DataFrame, interval: str, universe: str,
                   source: str, fallback: str | None) -> dict:
    """:func:`core.context.market_context` as of the last bar named by ``key``; an expired
    daily copy of ^VIX, ^GSPC or the universe is used at once and downloaded again in the
    background (the page never waits on Yahoo Finance once a copy exists)."""
    return market_context(key[0], _frame, interval=interval, universe=universe,
                          source=source, data_source=key[2], fallback=fallback, wait=False)


def _money(v: float) -> str:
    for cut, suffix in ((1e12, " T"), (1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(v) >= cut:
            return f"{v / cut:,.1f}{suffix}"
    return f"{v:,.0f}"


def context_cells(ctx: dict) -> list[Metric]:
    """The strip's four cells as figures (label, value, and its caption as the second line),
    plain text (``metric_row`` escapes them); every caption names the date of the data it
    used, or why there is none."""
    v, b, br, liq = ctx["vix"], ctx["benchmark"], ctx["breadth"], ctx["liquidity"]
    if v["level"] is None:
        vix = Metric("^VIX", "n/a", v["note"] or "no ^VIX data")
    else:
        pct = ("" if v["percentile"] is None else
               f"{v['percentile']:.0%} of the previous {VIX_YEARS} years' closes at or below · ")
        vix = Metric("^VIX", f"{v['level']:.2f} · {v['regime']}",
                     f"{pct}as of {v['as_of']} ({v['source']})"
                     + (f". {v['note']}" if v["note"] else ""))
    if b["trend"] == "n/a":
        bench = Metric(f"{b['symbol']} trend", "n/a", b["note"] or "no data")
    else:
        text = (f"close {b['close']:,.0f} vs 50-bar {b['sma50']:,.0f} and 200-bar "
                f"{b['sma200']:,.0f} averages · as of {b['as_of']} ({b['source']})")
        bench = Metric(f"{b['symbol']} trend", b["trend"], text)
    if br["share"] is None:
        text = f"none of the {br['symbols']} {br['title']} had 50 bars by {ctx['as_of'][:10]}"
        brd = Metric("Breadth", "n/a", text)
    else:
        text = (f"{br['above']} of {br['with_data']} {br['title']} with data "
                f"({br['symbols']} listed) · latest close {br['as_of']}")
        brd = Metric("Breadth", f"{br['share']:.0%} above 50-bar avg", text)
    if liq["amihud"] is None:
        lq = Metric("Liquidity", "n/a", liq.get("note") or
                    f"{liq['bars']} bars with volume in the last {liq['window']}")
    else:
        text = (f"{liq['window']}-bar median per bar; Amihud "
                f"{liq['amihud_per_million']:.3g} per million traded · as of {liq['as_of']}")
        lq = Metric("Liquidity", f"{_money(liq['median_dollar_volume'])} dollar volume", text)
    return [vix, bench, brd, lq]
