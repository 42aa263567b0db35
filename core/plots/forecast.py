"""Pure plotly figures of the Forecasts page (no streamlit)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.plots.candles import candlestick_figure, gap_breaks

BAND80 = "rgba(33, 150, 243, 0.30)"
BAND95 = "rgba(33, 150, 243, 0.13)"
MEDIAN = "#1565c0"


def fan_figure(frame: pd.DataFrame, preds: list, title: str = "", bars: int = 120) -> go.Figure:
    """Candlesticks of the last ``bars`` bars plus the forecast fan: the ensemble price path
    (last close -> each horizon's target bar) and its 80% / 95% conformal price bands.

    Args:
        frame: validated OHLCV frame (its last bar is the forecast origin).
        preds: ``core.predictions.Prediction`` list from ``predict_latest`` (any order);
            ``output["price"]`` holds the prices, ``target_ts`` the x positions.
    """
    fig = candlestick_figure(frame.tail(bars), title)
    preds = sorted([p for p in preds if p.target_ts is not None], key=lambda p: p.horizon)
    if not preds:
        return fig
    origin = frame.index[-1]
    last = float(frame["close"].iloc[-1])
    xs = [origin] + [p.target_ts for p in preds]
    pr = [p.output["price"] for p in preds]
    for lv, color in ((95, BAND95), (80, BAND80)):
        lo = [last] + [q[f"lo_{lv}"] for q in pr]
        hi = [last] + [q[f"hi_{lv}"] for q in pr]
        fig.add_trace(go.Scatter(x=xs + xs[::-1], y=hi + lo[::-1], fill="toself", mode="lines",
                                 fillcolor=color, line=dict(width=0), hoverinfo="skip",
                                 name=f"{lv}% interval", showlegend=True), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=xs, y=[last] + [q["ensemble"] for q in pr], mode="lines+markers",
        line=dict(color=MEDIAN, width=2), name="Ensemble forecast",
        text=["origin"] + [f"h={p.horizon} bars" for p in preds],
        hovertemplate="%{text}: %{y:,.2f}<extra></extra>"), row=1, col=1)
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=1.02, x=0))
    # the forecasts' target bars lie after the last bar: their weekends hidden too (unless
    # the market trades on weekends)
    fig.update_xaxes(rangebreaks=gap_breaks(frame.tail(bars).index, future_weekends=True))
    return fig


def importance_figure(importance: dict[str, float], top: int = 15, title: str = "") -> go.Figure:
    """Horizontal bars of the ``top`` features by ensemble-weighted gain share [%]."""
    items = sorted(importance.items(), key=lambda t: -t[1])[:top][::-1]
    fig = go.Figure(go.Bar(x=[100 * v for _, v in items], y=[k for k, _ in items],
                           orientation="h", marker_color=MEDIAN))
    fig.update_layout(title=title, height=30 * len(items) + 80,
                      margin=dict(l=124, r=10, t=40 if title else 10, b=70),
                      xaxis_title="Gain share [%]")
    return fig
