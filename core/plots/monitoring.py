"""Pure plotly figure builders for the Model Monitoring page (no streamlit).

Inputs are :class:`core.monitoring.GroupFigures` / :class:`core.monitoring.MonitoringReport`
and the drift table of :func:`core.monitoring.drift.drift_table`. Every builder returns a
figure, with a centred note instead of traces when there is nothing to draw yet.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

MODEL, BASE, NOMINAL, ALERT = "#1f77b4", "#9e9e9e", "#2ca02c", "#d62728"


def _empty(title: str, note: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=note, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title, xaxis_visible=False, yaxis_visible=False, height=300)
    return fig


def _layout(fig: go.Figure, title: str, ytitle: str) -> go.Figure:
    fig.update_layout(title=title, height=320, margin=dict(l=66, r=20, t=50, b=88),
                      legend=dict(orientation="h", y=-0.2), yaxis_title=ytitle,
                      xaxis_title="Forecast origin (bar)")
    return fig


def accuracy_figure(g, floor: float | None = 0.5) -> go.Figure:
    """Rolling directional accuracy [%] of the model vs the naive always-up call."""
    title = f"Directional accuracy · {g.label}"
    s = g.series
    if s.empty or "accuracy" not in s and "baseline_accuracy" not in s:
        return _empty(title, "No directional outcomes yet.")
    fig = go.Figure()
    if "accuracy" in s:
        fig.add_scatter(x=s.index, y=s["accuracy"] * 100, name="model", line_color=MODEL)
    if "baseline_accuracy" in s:
        fig.add_scatter(x=s.index, y=s["baseline_accuracy"] * 100, name="naive (always up)",
                        line=dict(color=BASE, dash="dash"))
    if floor is not None:
        fig.add_hline(y=floor * 100, line=dict(color=ALERT, dash="dot"),
                      annotation_text=f"floor {floor:.0%}")
    return _layout(fig, title, "Accuracy [%]")


def _scale(kind: str) -> tuple[float, str]:
    return (100.0, "MAE [log return, %]") if kind == "log_return" else (1.0, f"MAE [{kind}]")


def mae_figure(g) -> go.Figure:
    """Rolling MAE of the model vs the naive zero-return forecast (log returns in %)."""
    title = f"Mean absolute error · {g.label}"
    s = g.series
    if s.empty:
        return _empty(title, "No realised outcomes yet.")
    k, ytitle = _scale(g.kind)
    fig = go.Figure()
    fig.add_scatter(x=s.index, y=s["mae"] * k, name="model", line_color=MODEL)
    if "baseline_mae" in s:
        fig.add_scatter(x=s.index, y=s["baseline_mae"] * k, name="naive (zero return)",
                        line=dict(color=BASE, dash="dash"))
    return _layout(fig, title, ytitle)


def coverage_figure(g, nominal: float = 0.8) -> go.Figure:
    """Rolling share [%] of outcomes inside the 80% interval, with the nominal level."""
    title = f"Interval coverage · {g.label}"
    s = g.series
    if s.empty or "coverage" not in s:
        return _empty(title, "No interval outcomes yet.")
    fig = go.Figure()
    fig.add_scatter(x=s.index, y=s["coverage"] * 100, name="coverage", line_color=MODEL)
    fig.add_hline(y=nominal * 100, line=dict(color=NOMINAL, dash="dash"),
                  annotation_text=f"nominal {nominal:.0%}")
    fig.update_yaxes(range=[0, 100])
    return _layout(fig, title, "Coverage [%]")


def reliability_figure(g) -> go.Figure:
    """Reliability curve (observed frequency vs mean predicted probability) with the Brier
    score in the title; marker size grows with the bin count."""
    title = f"Reliability · {g.label}"
    if not g.reliability:
        return _empty(title, "No realised probability forecasts yet.")
    r = pd.DataFrame(g.reliability)
    fig = go.Figure()
    fig.add_scatter(x=[0, 100], y=[0, 100], mode="lines", name="perfect calibration",
                    line=dict(color=BASE, dash="dash"))
    fig.add_scatter(x=r["mean_predicted"] * 100, y=r["observed"] * 100, mode="lines+markers",
                    name="model", line_color=MODEL, text=r["n"],
                    marker=dict(size=6 + 14 * r["n"] / r["n"].max()),
                    hovertemplate="predicted %{x:.1f}%<br>observed %{y:.1f}%<br>n=%{text}")
    fig.update_layout(title=f"{title} · Brier {g.brier:.3f} (climatology {g.brier_climatology:.3f})",
                      height=340, xaxis_title="Predicted probability [%]",
                      yaxis_title="Observed frequency [%]")
    return fig


def volume_figure(report) -> go.Figure:
    """Predictions logged per origin date and model."""
    v = report.volume
    if v.empty:
        return _empty("Prediction volume", "No predictions logged yet.")
    fig = go.Figure()
    for name, g in v.groupby("model_name"):
        fig.add_bar(x=pd.to_datetime(g["date"]), y=g["n"], name=str(name))
    fig.update_layout(barmode="stack")
    return _layout(fig, "Prediction volume", "Predictions [count]")


def drift_figure(table: pd.DataFrame, threshold: float = 0.2, top: int = 25) -> go.Figure:
    """Horizontal bars of the ``top`` largest PSI values, alert threshold marked."""
    if table is None or table.empty:
        return _empty("Feature drift (PSI)", "No drift figures yet.")
    t = table.dropna(subset=["psi"]).nlargest(top, "psi").iloc[::-1]
    colors = [ALERT if p > threshold else MODEL for p in t["psi"]]
    fig = go.Figure(go.Bar(x=t["psi"], y=t["feature"], orientation="h", marker_color=colors))
    fig.add_vline(x=threshold, line=dict(color=ALERT, dash="dash"),
                  annotation_text=f"alert > {threshold}")
    fig.update_layout(title="Feature drift: PSI, reference vs recent window",
                      height=max(300, 22 * len(t) + 100), xaxis_title="PSI [-]",
                      margin=dict(l=160, r=20, t=50, b=40))
    return fig
