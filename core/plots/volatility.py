"""Pure plotly figures of the Volatility page (no streamlit). Inputs in fractions; every
axis shows percent ("Volatility [% ann.]")."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

VOL_LABEL = "Volatility [% ann.]"
REGIME_COLORS = {"low": "rgba(46, 160, 67, 0.18)", "high": "rgba(215, 58, 73, 0.22)"}
MODEL_COLORS = {"gjr": "#1f77b4", "garch": "#7f7f7f", "ewma": "#ff7f0e", "har": "#2ca02c",
                "ml": "#9467bd"}


def _layout(fig: go.Figure, title: str, xlab: str, ylab: str = VOL_LABEL) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=xlab, yaxis_title=ylab, height=380,
                      margin=dict(l=76, r=10, t=50, b=92), legend=dict(orientation="h", y=-0.2),
                      template="plotly_white")
    return fig


def cone_figure(cone: pd.DataFrame, symbol: str = "") -> go.Figure:
    """Volatility cone: quantile lines of realised vol by window and today's value.

    Args: cone from :func:`core.volatility.estimators.volatility_cone` (fractions)."""
    fig = go.Figure()
    x = [int(w) for w in cone.index]
    qcols = [c for c in cone.columns if c.startswith("q")]
    dashes = {0: "dot", len(qcols) - 1: "dot"}
    for i, c in enumerate(qcols):
        fig.add_trace(go.Scatter(x=x, y=cone[c] * 100, mode="lines+markers",
                                 name=f"{int(c[1:])}th pct", line=dict(dash=dashes.get(i, "solid"),
                                                                        width=1.5)))
    fig.add_trace(go.Scatter(x=x, y=cone["today"] * 100, mode="lines+markers", name="today",
                             line=dict(color="#d62728", width=3), marker=dict(size=9)))
    fig.update_xaxes(type="category")
    return _layout(fig, f"{symbol} volatility cone (close-to-close)", "Window [bars]")


def forecast_figure(preds, periods_per_year: float = 252.0) -> go.Figure:
    """Annualised vol forecast per horizon: every model as a marker, the ML model with its
    80 % interval of the realised vol as an error bar, and the served (best) model as a
    diamond. ``preds``: list of ``core.predictions.Prediction``."""
    fig = go.Figure()
    xs = [f"h={p.horizon}" for p in preds]
    models = sorted({m for p in preds for m in p.output.get("models", {})})
    for m in models:
        ys = [p.output["models"].get(m, {}).get("vol_ann", math.nan) * 100 for p in preds]
        err = None
        if m == "ml":
            lo, hi = [], []
            for p, y in zip(preds, ys):
                if p.lower is not None and p.upper is not None and y == y:
                    lo.append(y - math.sqrt(max(p.lower, 0) * periods_per_year / p.horizon) * 100)
                    hi.append(math.sqrt(p.upper * periods_per_year / p.horizon) * 100 - y)
                else:
                    lo.append(0.0)
                    hi.append(0.0)
            err = dict(type="data", symmetric=False, array=hi, arrayminus=lo, thickness=2,
                       color=MODEL_COLORS["ml"])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", error_y=err,
                                 name="ml ± 80% interval" if m == "ml" else m,
                                 marker=dict(size=9, color=MODEL_COLORS.get(m))))
    fig.add_trace(go.Scatter(
        x=xs, y=[p.output["vol_ann"] * 100 for p in preds], mode="markers",
        name="served (lowest out-of-sample QLIKE)",
        marker=dict(symbol="diamond-open", size=16, color="#d62728", line=dict(width=2))))
    return _layout(fig, "Forecast volatility over the horizon (ML: 80% interval of realised)",
                   "Horizon [bars]")


def conditional_vol_figure(cond_vol: pd.Series, realized: pd.Series, regimes: pd.Series,
                           title: str = "GJR-GARCH conditional volatility") -> go.Figure:
    """GARCH conditional vol and 21-bar realised vol over history (annualised fractions),
    with shaded regime bands (green = low, red = high) drawn as two filled step traces
    (cheaper for the browser than one shape per regime spell)."""
    fig = go.Figure()
    top = float(max(cond_vol.max(skipna=True), realized.max(skipna=True)) * 100 * 1.05)
    for reg in ("low", "high"):
        band = pd.Series(top, index=regimes.index).where(regimes.eq(reg), 0.0)
        fig.add_trace(go.Scatter(x=band.index, y=band, mode="none", fill="tozeroy",
                                 fillcolor=REGIME_COLORS[reg], line_shape="hv",
                                 name=f"{reg} regime", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=realized.index, y=realized * 100, name="realised 21 bars",
                             line=dict(color="#aaaaaa", width=1)))
    fig.add_trace(go.Scatter(x=cond_vol.index, y=cond_vol * 100, name="GJR-GARCH conditional",
                             line=dict(color="#1f77b4", width=1.5)))
    fig.update_yaxes(range=[0, top])
    return _layout(fig, title, "Date")


def estimators_figure(est: pd.DataFrame, labels: dict | None = None, window: int = 21
                      ) -> go.Figure:
    """Realised vol of each estimator over time (columns of annualised fractions)."""
    fig = go.Figure()
    for c in est.columns:
        fig.add_trace(go.Scatter(x=est.index, y=est[c] * 100, name=(labels or {}).get(c, c),
                                 line=dict(width=1.3)))
    return _layout(fig, f"Realised volatility estimators ({window}-bar window)", "Date")


def vix_figure(vix: pd.Series, realized: pd.Series, symbol: str) -> go.Figure:
    """^VIX (index points = implied vol in % ann.) beside the index's 21-bar realised vol."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=vix.index, y=vix, name="^VIX (30-day implied)",
                             line=dict(color="#d62728", width=1.3)))
    fig.add_trace(go.Scatter(x=realized.index, y=realized * 100, name=f"{symbol} realised 21 bars",
                             line=dict(color="#1f77b4", width=1.3)))
    return _layout(fig, f"^VIX beside {symbol} realised volatility", "Date")
