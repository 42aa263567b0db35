"""Candlesticks with chart indicators: overlays on the price axis, one sub-panel per
oscillator, and optional rule-signal markers (pure plotly, no streamlit).

Indicators are computed on every bar given (so their warm-up lies before the window shown),
then the last ``window`` of bars is drawn. A window with more than ``max_bars`` bars is drawn
as coarser candles (``k`` consecutive bars merged: first open, highest high, lowest low, last
close, summed volume; each indicator at the bucket's last bar), and the title says so: more
candles than pixels cannot be read and only cost the browser time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.plots.candles import (DOWN, PRICE_MARGIN, UP, bucket_size, gap_breaks, last_window,
                                merge_bars, volume_traces)
from core.strategy import indicators as ind

#: most candles drawn; longer windows are merged into coarser candles for display
MAX_BARS = 600
OVERLAY_LABELS = {"sma": "SMA", "ema": "EMA", "bollinger": "Bollinger", "vwap": "VWAP"}
PANEL_LABELS = {"rsi": "RSI", "macd": "MACD", "stochastic": "Stochastic", "atr": "ATR",
                "obv": "OBV"}
SMA_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf")
EMA_COLORS = ("#e377c2", "#bcbd22", "#7f7f7f", "#d62728", "#17becf", "#8c564b")
BAND, VWAP_COLOR = "#7570b3", "#b8860b"
LONG_MARK, SHORT_MARK = "#1b9e77", "#d95f02"
LEGEND_BG = "rgba(128,128,128,0.18)"  # readable under light and dark theme text


def _merge_last(values: pd.DataFrame, k: int, index: pd.Index) -> pd.DataFrame:
    if k <= 1:
        return values
    g = np.arange(len(values)) // k
    out = values.groupby(g).last()
    out.index = index
    return out


def _overlay_traces(full: pd.DataFrame, name: str, params: dict) -> list[tuple[pd.Series, dict]]:
    """(series, trace options) per line of one overlay."""
    vals = ind.compute(full, name, **params)
    if name == "sma":
        n = int(params.get("period", 20))
        return [(vals.iloc[:, 0], dict(name=f"SMA({n})",
                                       line=dict(color=SMA_COLORS[0], width=1.4)))]
    if name == "ema":
        n = int(params.get("period", 20))
        return [(vals.iloc[:, 0], dict(name=f"EMA({n})",
                                       line=dict(color=EMA_COLORS[0], width=1.4, dash="dot")))]
    if name == "bollinger":
        n, k = int(params.get("period", 20)), float(params.get("k", 2.0))
        label = f"Bollinger({n}, {k:g}σ)"
        return [(vals["bb_upper"], dict(name=label, legendgroup="bb",
                                        line=dict(color=BAND, width=1))),
                (vals["bb_lower"], dict(name=label, legendgroup="bb", showlegend=False,
                                        line=dict(color=BAND, width=1), fill="tonexty",
                                        fillcolor="rgba(117,112,179,0.10)")),
                (vals["bb_mid"], dict(name=f"Bollinger mid SMA({n})", legendgroup="bb",
                                      showlegend=False,
                                      line=dict(color=BAND, width=0.8, dash="dash")))]
    if name == "vwap":
        return [(vals["vwap"], dict(name="VWAP (session)",
                                    line=dict(color=VWAP_COLOR, width=1.4)))]
    raise ValueError(f"'{name}' is not an overlay; overlays: {', '.join(OVERLAY_LABELS)}")


def _panel(full: pd.DataFrame, name: str, params: dict):
    """(y-axis title, [(series, trace kind, options)], reference lines, y range) of a panel."""
    vals = ind.compute(full, name, **params)
    if name == "rsi":
        n = int(params.get("period", 14))
        return (f"RSI({n})", [(vals.iloc[:, 0], "line", dict(name=f"RSI({n})",
                                                            line=dict(color="#6a3d9a")))],
                (30, 70), (0, 100))
    if name == "macd":
        f, s, g = (int(params.get(k, d)) for k, d in (("fast", 12), ("slow", 26), ("signal", 9)))
        return (f"MACD({f},{s},{g})",
                [(vals["macd_hist"], "bar", dict(name="MACD histogram")),
                 (vals["macd"], "line", dict(name="MACD", line=dict(color="#1f77b4"))),
                 (vals["macd_signal"], "line", dict(name="Signal line",
                                                    line=dict(color="#ff7f0e")))],
                (0,), None)
    if name == "stochastic":
        return ("Stochastic %K/%D",
                [(vals["stoch_k"], "line", dict(name="%K", line=dict(color="#1f77b4"))),
                 (vals["stoch_d"], "line", dict(name="%D", line=dict(color="#ff7f0e",
                                                                      dash="dot")))],
                (20, 80), (0, 100))
    if name == "atr":
        n = int(params.get("period", 14))
        return (f"ATR({n}) [price]", [(vals.iloc[:, 0], "line",
                                       dict(name=f"ATR({n})", line=dict(color="#8c564b")))],
                (), None)
    if name == "obv":
        return ("OBV [shares]", [(vals["obv"], "line", dict(name="On-balance volume",
                                                            line=dict(color="#17becf")))],
                (), None)
    raise ValueError(f"'{name}' is not a panel; panels: {', '.join(PANEL_LABELS)}")


def indicator_figure(frame: pd.DataFrame, *, overlays: Sequence[tuple[str, dict]] = (),
                     panels: Sequence[tuple[str, dict]] = (), window: str = "All",
                     markers: pd.Series | None = None, marker_label: str = "signal",
                     title: str = "", max_bars: int = MAX_BARS) -> go.Figure:
    """Candlesticks and volume with indicator overlays, sub-panels and signal markers.

    Args:
        frame: validated OHLCV frame, every bar (indicators warm up on the bars before the
            window).
        overlays: ``(name, params)`` pairs drawn on the price axis, names from
            :data:`OVERLAY_LABELS` (``("sma", {"period": 50})``; ``params`` go to
            :func:`core.strategy.indicators.compute`; an optional ``"color"`` is taken out).
        panels: ``(name, params)`` pairs, one sub-panel each, names from
            :data:`PANEL_LABELS`, in the order given.
        window: a :data:`core.plots.candles.WINDOWS` label (``"1Y"``), the bars drawn.
        markers: optional rule signal on ``frame.index`` in {-1, 0, +1}: ▲ under the low
            for +1 (long), ▼ over the high for -1 (short), named after ``marker_label``.
        title: figure title. max_bars: most candles drawn (module doc).
    Returns:
        ``go.Figure``: row 1 price (y "Price"), row 2 volume, then one row per panel, each
        row with its own legend at its top left.
    Raises:
        ValueError: an unknown overlay or panel, or a bad indicator parameter.
    """
    view = last_window(frame, window)
    k = bucket_size(len(view), max_bars)
    bars = merge_bars(view, k)
    n_rows = 2 + len(panels)
    price_h, vol_h, panel_h = 0.62 if panels else 0.8, 0.16 if panels else 0.2, 0.0
    if panels:
        panel_h = (1 - price_h - vol_h) / len(panels)
        if panel_h < 0.14:  # several panels: give them room and shrink the price pane
            price_h, vol_h = 0.46, 0.1
            panel_h = (1 - price_h - vol_h) / len(panels)
    heights = [price_h, vol_h] + [panel_h] * len(panels)
    fig = make_subplots(rows=n_rows, cols=1, shared_xaxes=True, row_heights=heights,
                        vertical_spacing=0.035 if panels else 0.03)
    legend_of = {r: "legend" if r == 1 else f"legend{r}" for r in range(1, n_rows + 1)}

    fig.add_trace(go.Candlestick(
        x=bars.index, open=bars["open"], high=bars["high"], low=bars["low"],
        close=bars["close"], name="OHLC" if k == 1 else f"OHLC ({k}-bar candles)",
        increasing_line_color=UP, decreasing_line_color=DOWN, legend=legend_of[1]), 1, 1)
    fig.add_traces(volume_traces(bars, legend=legend_of[2]), rows=2, cols=1)

    cut = view.index[0] if len(view) else None
    for name, params in overlays:
        params = dict(params)
        color = params.pop("color", None)
        for series, opts in _overlay_traces(frame, name, params):
            if color is not None and name in ("sma", "ema"):
                opts["line"] = {**opts["line"], "color": color}
            s = _merge_last(series.loc[cut:].to_frame(), k, bars.index).iloc[:, 0]
            fig.add_trace(go.Scatter(x=s.index, y=s, mode="lines", legend=legend_of[1],
                                     connectgaps=False, **opts), 1, 1)

    if markers is not None and len(view):
        m = markers.reindex(view.index).fillna(0).to_numpy()
        bucket = np.arange(len(view)) // k
        pad = float((bars["high"] - bars["low"]).median()) * 0.8 or 0.0
        for sign, sym, color, where, word in ((1, "triangle-up", LONG_MARK, "low", "long"),
                                              (-1, "triangle-down", SHORT_MARK, "high",
                                               "short")):
            pos = np.unique(bucket[m == sign])
            if not len(pos):
                continue
            ts = bars.index[pos]
            y = bars[where].to_numpy()[pos] + (pad if sign < 0 else -pad)
            fig.add_trace(go.Scatter(
                x=ts, y=y, mode="markers", name=f"{marker_label}: {word}",
                legend=legend_of[1],
                marker=dict(symbol=sym, size=10, color=color, line=dict(width=0.6,
                                                                         color="black")),
                hovertemplate=f"{marker_label}: {word} signal<extra></extra>"), 1, 1)

    for i, (name, params) in enumerate(panels):
        row = 3 + i
        ytitle, traces, refs, yrange = _panel(frame, name, dict(params))
        for series, kind, opts in traces:
            s = _merge_last(series.loc[cut:].to_frame(), k, bars.index).iloc[:, 0]
            if kind == "bar":
                colors = np.where(s.to_numpy() >= 0, UP, DOWN)
                fig.add_trace(go.Bar(x=s.index, y=s, marker_color=colors, opacity=0.5,
                                     legend=legend_of[row], **opts), row, 1)
            else:
                fig.add_trace(go.Scatter(x=s.index, y=s, mode="lines", legend=legend_of[row],
                                         **{"line": dict(width=1.3), **opts}), row, 1)
        for ref in refs:
            fig.add_hline(y=ref, line=dict(color="#9e9e9e", width=1, dash="dash"), row=row,
                          col=1)
        fig.update_yaxes(title_text=ytitle, row=row, col=1)
        if yrange is not None:
            fig.update_yaxes(range=list(yrange), row=row, col=1)

    if k == 1 and len(bars) > 1:
        fig.update_xaxes(rangebreaks=gap_breaks(bars.index))
    fig.update_yaxes(title_text="Price", row=1, col=1)
    fig.update_yaxes(title_text="Volume", row=2, col=1)
    fig.update_xaxes(rangeslider_visible=False)
    full_title = title + (f" · {k}-bar candles ({len(view):,} bars)" if k > 1 else "")
    height = 520 + 170 * len(panels)
    # the price legend sits above the chart, each panel's at its top left; a neutral grey
    # backing keeps them readable on light and dark themes alike (text follows the theme)
    legends = {"legend": dict(x=0, xanchor="left", y=1.0, yanchor="bottom", orientation="h",
                              font=dict(size=12), bgcolor="rgba(0,0,0,0)")}
    for r in range(3, n_rows + 1):
        top = fig.layout[f"yaxis{r}"].domain[1]
        legends[legend_of[r]] = dict(x=0.005, xanchor="left", y=top, yanchor="top",
                                     orientation="h", bgcolor=LEGEND_BG, font=dict(size=11),
                                     xref="paper", yref="paper")
    fig.update_layout(title=dict(text=full_title, x=0.01, y=0.995, yanchor="top",
                                 font=dict(size=15)), height=height,
                      margin=dict(PRICE_MARGIN, t=70),
                      hovermode="x unified", showlegend=True, **legends)
    return fig


def chart_specs(*, sma: Sequence[int] = (), ema: Sequence[int] = (),
                bollinger: tuple[int, float] | None = None, vwap: bool = False,
                panels: Sequence[str] = (), rsi_period: int = 14) -> tuple[list, list]:
    """``(overlays, panels)`` arguments of :func:`indicator_figure` from the page's choices:
    SMA and EMA lengths (each its own colour), Bollinger ``(period, k)``, VWAP, and panel
    names (RSI with ``rsi_period``, the others with their defaults)."""
    ov: list[tuple[str, dict]] = []
    for i, n in enumerate(sorted(set(int(x) for x in sma))):
        ov.append(("sma", {"period": n, "color": SMA_COLORS[i % len(SMA_COLORS)]}))
    for i, n in enumerate(sorted(set(int(x) for x in ema))):
        ov.append(("ema", {"period": n, "color": EMA_COLORS[i % len(EMA_COLORS)]}))
    if bollinger is not None:
        ov.append(("bollinger", {"period": int(bollinger[0]), "k": float(bollinger[1])}))
    if vwap:
        ov.append(("vwap", {}))
    pn = [(p, {"period": int(rsi_period)} if p == "rsi" else {}) for p in panels]
    return ov, pn
