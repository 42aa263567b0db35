"""Pure plotly figure builders for the Sentiment page (no streamlit)."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.plots.candles import PRICE_MARGIN
from core.sentiment.aggregate import TOPICS


def _color(v: float) -> str:
    return "#2ca02c" if v > 0.1 else "#d62728" if v < -0.1 else "#7f7f7f"


def gauge_figure(score: float, title: str = "News sentiment [-1, 1]") -> go.Figure:
    """Gauge of an aggregate score in [-1, 1] with red/grey/green bands."""
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=float(score), number={"valueformat": "+.2f"},
        title={"text": html.escape(title)},  # the symbol is user text: no plotly <a> tags
        gauge={"axis": {"range": [-1, 1]}, "bar": {"color": _color(score)},
               "steps": [{"range": [-1, -0.1], "color": "#f6d5d5"},
                         {"range": [-0.1, 0.1], "color": "#eeeeee"},
                         {"range": [0.1, 1], "color": "#d5f0d5"}]}))
    fig.update_layout(height=260, margin=dict(l=20, r=20, t=50, b=10))
    return fig


def topic_bars_figure(topics: dict, counts: dict) -> go.Figure:
    """Horizontal bars: topic score in [-1, 1] (topics without news shown empty)."""
    names = list(TOPICS)
    vals = [topics.get(t) if topics.get(t) is not None else 0.0 for t in names]
    text = [f"{v:+.2f} ({counts.get(t, 0)})" if topics.get(t) is not None else "no news"
            for t, v in zip(names, vals)]
    fig = go.Figure(go.Bar(x=vals, y=names, orientation="h", text=text,
                           marker_color=[_color(v) for v in vals]))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=40, b=30),
                      title="Sentiment by topic (headlines)",
                      xaxis=dict(title="Score [-1, 1]", range=[-1, 1]))
    return fig


def sentiment_price_figure(close: pd.Series | None, daily: pd.DataFrame,
                           symbol: str = "") -> go.Figure:
    """Close price (line, left axis) and mean daily headline score (bars, right axis).

    Args:
        close: close prices with a UTC DatetimeIndex, or None. daily: ``score``/``count`` per
            UTC day (``core.sentiment.aggregate.daily_sentiment``).
    """
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if close is not None and len(close):
        fig.add_trace(go.Scatter(x=close.index, y=close.values, name=html.escape(f"{symbol} close"),
                                 line=dict(color="#1f77b4")), secondary_y=False)
    if daily is not None and len(daily):
        fig.add_trace(go.Bar(x=daily.index, y=daily["score"], name="Daily sentiment",
                             marker_color=[_color(v) for v in daily["score"]], opacity=0.6,
                             customdata=daily["count"],
                             hovertemplate="%{x|%Y-%m-%d}: %{y:+.2f} (%{customdata} "
                                           "headlines)<extra></extra>"), secondary_y=True)
    fig.update_yaxes(title_text="Price", secondary_y=False)
    fig.update_yaxes(title_text="Sentiment [-1, 1]", range=[-1, 1], secondary_y=True)
    fig.update_layout(height=360, margin=dict(PRICE_MARGIN, t=40),
                      title="Headline sentiment vs price", legend=dict(orientation="h"))
    return fig
