"""Plotly figures of the Patterns page (pure functions, no streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.plots.candles import candlestick_figure

BULL, BEAR, NEUTRAL = "#1b9e77", "#d95f02", "#7570b3"


def pattern_chart(frame: pd.DataFrame, detections: pd.DataFrame, *, resistance=(), support=(),
                  breakouts: pd.DataFrame | None = None, title: str = "") -> go.Figure:
    """Candlesticks with pattern markers and support/resistance lines.

    Args:
        frame: OHLCV bars to draw. detections: :func:`core.patterns.serve.detections`
            rows (markers above the high for bearish, below the low for bullish/neutral;
            hover shows pattern name, rule hit and CNN confidence [%]).
        resistance / support: active level prices (horizontal dashed lines).
        breakouts: optional events (index timestamp, ``direction``, ``level``) drawn as
            triangles at the close.
    """
    fig = candlestick_figure(frame, title)
    det = detections[detections["timestamp"].isin(frame.index)] if len(detections) else detections
    if len(det):
        pad = (frame["high"] - frame["low"]).mean() * 0.6
        for direction, color, sym in (("bullish", BULL, "triangle-up"), ("bearish", BEAR,
                                                                         "triangle-down"),
                                      ("neutral", NEUTRAL, "diamond")):
            d = det[det["direction"] == direction]
            if not len(d):
                continue
            ts = pd.DatetimeIndex(d["timestamp"])
            # stack several patterns on one bar
            rank = d.groupby("timestamp").cumcount().to_numpy()
            if direction == "bearish":
                y = frame["high"].reindex(ts).to_numpy() + pad * (1 + rank)
            else:
                y = frame["low"].reindex(ts).to_numpy() - pad * (1 + rank)
            conf = [("–" if not np.isfinite(p) else f"{p * 100:.0f}%") for p in d["cnn_probability"]]
            text = [f"{p.replace('_', ' ')} ({direction})<br>rule: {'yes' if r else 'no'} · "
                    f"CNN confidence: {c}"
                    for p, r, c in zip(d["pattern"], d["rule_hit"], conf)]
            fig.add_trace(go.Scatter(x=ts, y=y, mode="markers", name=f"{direction} pattern",
                                     marker=dict(symbol=sym, size=9, color=color,
                                                 line=dict(width=0.5, color="black")),
                                     text=text, hovertemplate="%{text}<extra></extra>"),
                          row=1, col=1)
    for levels, label, color, where in ((resistance, "R", BEAR, "top right"),
                                        (support, "S", BULL, "bottom right")):
        trace = level_lines(frame.index, levels, label, color, where)
        if trace is not None:
            fig.add_trace(trace, row=1, col=1)
    if breakouts is not None and len(breakouts):
        b = breakouts[breakouts.index.isin(frame.index)]
        for d, color, sym, name in ((1, BULL, "star-triangle-up", "breakout UP"),
                                    (-1, BEAR, "star-triangle-down", "breakout DOWN")):
            e = b[b["direction"] == d]
            if len(e):
                fig.add_trace(go.Scatter(
                    x=e.index, y=frame["close"].reindex(e.index), mode="markers", name=name,
                    marker=dict(symbol=sym, size=12, color=color, line=dict(width=1)),
                    text=[f"{name} through {lv:,.2f}" for lv in e["level"]],
                    hovertemplate="%{text}<extra></extra>"), row=1, col=1)
    fig.update_layout(hovermode="closest")
    return fig


def level_lines(index: pd.DatetimeIndex, levels, label: str, color: str,
                where: str) -> go.Scatter | None:
    """Horizontal dashed lines at ``levels`` (prices) across ``index``'s first to last bar,
    each named ``"<label> <price>"`` at its left end, as one trace; None without levels.

    One trace, not a shape and an annotation per level: Plotly lays out and measures each
    annotation on its own, ~40 ms of a page's first draw for six levels (issue 15).
    ``where``: the labels' ``textposition`` (``"top right"`` above the line)."""
    levels = [float(v) for v in levels]
    if not levels or not len(index):
        return None
    x, y, text = [], [], []
    for lvl in levels:
        x += [index[0], index[-1], None]
        y += [lvl, lvl, None]
        text += [f"{label} {lvl:,.2f}", "", ""]
    return go.Scatter(x=x, y=y, text=text, mode="lines+text", textposition=where,
                      textfont=dict(color=color), line=dict(color=color, dash="dash", width=1),
                      hoverinfo="skip", showlegend=False, name=f"{label} levels")


def reliability_figure(reliability: list[dict], base_rate: float | None = None) -> go.Figure:
    """Reliability curve: mean predicted probability [%] vs observed success [%]."""
    x = [r["mean_predicted"] * 100 for r in reliability]
    y = [r["observed"] * 100 for r in reliability]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", name="perfect",
                             line=dict(dash="dot", color="gray")))
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name="model (walk-forward)"))
    if base_rate is not None:
        fig.add_hline(y=base_rate * 100, line=dict(dash="dash", color=BEAR),
                      annotation_text="base rate")
    lim = max([*x, *y, 10]) * 1.15
    fig.update_layout(height=340, margin=dict(l=70, r=174, t=30, b=70),
                      title="Reliability (out of sample)", xaxis_title="Predicted success [%]",
                      yaxis_title="Observed success [%]", xaxis_range=[0, lim],
                      yaxis_range=[0, lim])
    return fig
