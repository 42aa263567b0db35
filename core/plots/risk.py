"""Pure plotly figures for the Risk Sizing page (no streamlit)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.plots.candles import bucket_size, candlestick_figure, gap_breaks

COLORS = {"fixed": "#636efa", "vol_target_cap1": "#00cc96", "vol_target_cap2": "#ab63fa",
          "dqn": "#ef553b"}


MAX_POINTS = 1200  # per trace on screen; more points only cost serialisation and drawing


def thin(series: pd.Series, max_points: int = MAX_POINTS, how: str = "last") -> pd.Series:
    """At most about ``max_points`` points of ``series`` for display: consecutive buckets of
    ``ceil(n / max_points)`` bars, each shown at its first bar's time with its last value
    (``how="last"``) or its lowest (``how="min"``, keeps the deepest drawdown visible). The
    last bar is always kept. Unchanged when already short enough."""
    n = len(series)
    if n <= max_points:
        return series
    k = bucket_size(n, max_points)
    groups = pd.Series(range(n), index=series.index) // k
    vals = series.groupby(groups.to_numpy()).agg(how).to_numpy()
    out = pd.Series(vals, index=series.index[::k][:len(vals)], name=series.name)
    if how == "last" and out.index[-1] != series.index[-1]:
        out = pd.concat([out.iloc[:-1], series.iloc[-1:]])
    return out


def policy_figure(results: dict, height: int = 640, max_points: int = MAX_POINTS
                  ) -> go.Figure:
    """Equity (growth of 1, log scale), drawdown [%] and exposure [% equity] per policy.

    Long histories are thinned for display (:func:`thin`, about ``max_points`` points per
    trace; the backtest itself is untouched); calendar-gap ``rangebreaks`` are only used when
    every bar is shown (thousands of break values make the browser slow to draw).

    Args:
        results: name -> :class:`core.risk.backtest.BacktestResult`.
    """
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, row_heights=[0.5, 0.25, 0.25],
                        vertical_spacing=0.04,
                        subplot_titles=("Equity (growth of 1, after costs)", "Drawdown [%]",
                                        "Exposure [% equity]"))
    for name, res in results.items():
        c = COLORS.get(name)
        eq, dd = thin(res.equity, max_points), thin(res.drawdown, max_points, "min")
        pos = thin(res.position, max_points)
        fig.add_trace(go.Scatter(x=eq.index, y=eq, name=name,
                                 line=dict(color=c, width=1.4), legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=dd.index, y=dd * 100, name=name,
                                 line=dict(color=c, width=1), legendgroup=name,
                                 showlegend=False), 2, 1)
        fig.add_trace(go.Scatter(x=pos.index, y=pos * 100, name=name,
                                 line=dict(color=c, width=0.8, shape="hv"), legendgroup=name,
                                 showlegend=False), 3, 1)
    if results:
        idx = next(iter(results.values())).equity.index
        if len(idx) <= max_points:
            fig.update_xaxes(rangebreaks=gap_breaks(idx))
    fig.update_yaxes(type="log", title_text="Equity [x]", row=1, col=1)
    fig.update_yaxes(title_text="Drawdown [%]", row=2, col=1)
    fig.update_yaxes(title_text="Exposure [%]", row=3, col=1)
    fig.update_layout(height=height, margin=dict(l=76, r=10, t=40, b=76), hovermode="x unified",
                      legend=dict(orientation="h", y=-0.06, x=0))
    return fig


def correlation_heatmap(corr: pd.DataFrame, title: str = "Correlation of daily returns"
                        ) -> go.Figure:
    """Heatmap of a correlation matrix (values in [-1, 1], annotated)."""
    fig = go.Figure(go.Heatmap(z=corr.to_numpy(), x=list(corr.columns), y=list(corr.index),
                               zmin=-1, zmax=1, colorscale="RdBu_r",
                               text=corr.round(2).to_numpy(), texttemplate="%{text}",
                               colorbar=dict(title="Corr")))
    fig.update_layout(title=title, height=380, margin=dict(l=62, r=94, t=40, b=48))
    fig.update_yaxes(autorange="reversed")
    return fig


def contribution_figure(contrib: pd.Series, title: str = "Euler contribution to 1-day VaR 95%"
                        ) -> go.Figure:
    """Bar chart of risk contributions [% equity] per position."""
    fig = go.Figure(go.Bar(x=list(contrib.index), y=contrib.to_numpy() * 100,
                           marker_color=["#ef553b" if v > 0 else "#00cc96" for v in contrib]))
    fig.update_layout(title=title, height=340, margin=dict(l=74, r=10, t=40, b=40),
                      yaxis_title="VaR contribution [% equity]")
    return fig


#: bars of recent history behind the trade levels
LEVEL_BARS = 120


def trade_levels_figure(frame: pd.DataFrame, entry: float, stop: float, take_profit: float,
                        title: str = "", bars: int = LEVEL_BARS, height: int = 420) -> go.Figure:
    """The last ``bars`` candles with the trade's entry, stop and take-profit as horizontal
    lines [price], so the stop's distance can be judged against recent ranges.

    Args:
        frame: OHLCV bars (the data contract). entry, stop, take_profit: prices (a
            non-finite one is left out).
    """
    fig = candlestick_figure(frame.tail(bars), title, height=height)
    for price, name, colour, dash in ((entry, "entry", "#90a4ae", "dot"),
                                      (stop, "stop", "#ef5350", "dash"),
                                      (take_profit, "take profit", "#26a69a", "dash")):
        if price is not None and math.isfinite(price):
            fig.add_hline(y=price, line_color=colour, line_dash=dash, line_width=1.5,
                          annotation_text=f"{name} {price:,.2f}",
                          annotation_position="top left", row=1, col=1)
    return fig
