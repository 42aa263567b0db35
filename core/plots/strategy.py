"""Plotly figures of the Strategy Lab's tester and tuner (pure functions, no streamlit)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.plots.candles import gap_breaks
from core.plots.risk import MAX_POINTS, thin

STRATEGY, BUY_HOLD = "#1f77b4", "#9e9e9e"
TUNED, UNTUNED = "#d95f02", "#1b9e77"


def drawdown(equity: pd.Series) -> pd.Series:
    """Drawdown from the running peak [fraction, <= 0] of an equity curve."""
    return equity / equity.cummax() - 1


def equity_figure(equity: pd.Series, benchmark: pd.Series, *, title: str = "",
                  strategy_name: str = "Strategy", fold_starts: Sequence = (),
                  height: int = 520, max_points: int = MAX_POINTS) -> go.Figure:
    """Equity of the strategy against buy-and-hold (top, log scale) and both drawdowns.

    Args:
        equity, benchmark: equity at each close [currency], the same start value.
        strategy_name: legend name of the strategy. fold_starts: walk-forward test-block
            starts, drawn as thin vertical lines.
        max_points: long curves are thinned for display (:func:`core.plots.risk.thin`; the
            deepest drawdown of each bucket is kept).
    Returns:
        ``go.Figure``: row 1 equity [currency, log], row 2 drawdown [%].
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3],
                        vertical_spacing=0.05)
    for series, name, color, width in ((benchmark, "Buy & hold", BUY_HOLD, 1.3),
                                       (equity, strategy_name, STRATEGY, 1.8)):
        if series is None or not len(series):
            continue
        eq, dd = thin(series, max_points), thin(drawdown(series), max_points, "min")
        fig.add_trace(go.Scatter(x=eq.index, y=eq, name=name, legendgroup=name,
                                 line=dict(color=color, width=width),
                                 hovertemplate="%{y:,.0f}<extra>" + name + "</extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=dd.index, y=dd * 100, name=name, legendgroup=name,
                                 showlegend=False, line=dict(color=color, width=1),
                                 fill="tozeroy" if series is equity else None,
                                 fillcolor="rgba(31,119,180,0.12)",
                                 hovertemplate="%{y:.1f}%<extra>" + name + "</extra>"), 2, 1)
    for ts in fold_starts:
        fig.add_vline(x=pd.Timestamp(ts), line=dict(color="#bdbdbd", width=1, dash="dot"))
    if len(equity) and len(equity) <= max_points:
        fig.update_xaxes(rangebreaks=gap_breaks(equity.index))
    fig.update_yaxes(type="log", title_text="Equity [$, log]", row=1, col=1)
    fig.update_yaxes(title_text="Drawdown [%]", row=2, col=1)
    fig.update_layout(title=dict(text=title, x=0.01, y=0.995, yanchor="top",
                                 font=dict(size=15)), height=height,
                      margin=dict(l=10, r=10, t=70, b=10),
                      hovermode="x unified",
                      legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom",
                                  bgcolor="rgba(0,0,0,0)"))
    return fig


def tune_test_figure(result: dict) -> go.Figure:
    """Out-of-sample Sharpe per symbol: tuned, untuned file and buy-and-hold, grouped bars
    (a :func:`core.strategy.tune.grid_search` result)."""
    rows = result["test"]
    syms = [r["symbol"] + (" (held out)" if r.get("heldout_symbol") else "") for r in rows]
    fig = go.Figure()
    for key, name, color in (("tuned", "Tuned", TUNED), ("untuned", "Untuned file", UNTUNED),
                             ("buy_and_hold", "Buy & hold", BUY_HOLD)):
        vals = [r[key]["sharpe"] for r in rows]
        vals = [v if v is not None and np.isfinite(v) else None for v in vals]
        fig.add_trace(go.Bar(x=syms, y=vals, name=name, marker_color=color,
                             text=["–" if v is None else f"{v:.2f}" for v in vals],
                             textposition="outside"))
    fig.add_hline(y=0, line=dict(color="#616161", width=1))
    fig.update_layout(barmode="group", height=320,
                      title=dict(text=f"Out-of-sample Sharpe from {result['test_start']} "
                                      "(no bar = no trades)", x=0.01, font=dict(size=14)),
                      yaxis_title="Sharpe (annualised)", margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.12, x=0, yanchor="top"))
    return fig
