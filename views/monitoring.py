"""Model Monitoring: stored predictions against realised outcomes, operations, drift."""

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.data import BUNDLED_SYMBOLS
from core.errors import QuantdeskError
from core.plots import monitoring as mplots
from ui.monitoring import EMPTY_STATE, alert_badges, cached_drift, summary_frame

st.title("Model Monitoring")
st.caption("Per model family, version and horizon: rolling directional accuracy and MAE "
           "against the naive baseline, interval coverage, calibration, volume, latency, "
           "error and cache rates, and feature drift. Computed from the prediction store.")

from core.monitoring import Thresholds, monitoring_figures  # noqa: E402
from core.store import session_scope  # noqa: E402
from core.store.db import utcnow  # noqa: E402

c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
window = c2.slider("Rolling window [outcomes]", 10, 250, 50, step=10, key="mon_window")
floor = c3.slider("Accuracy floor [%]", 40, 60, 50, key="mon_floor") / 100
symbol = c4.selectbox("Symbol", ["All"] + list(BUNDLED_SYMBOLS), key="mon_symbol")

drift_table = None
with st.sidebar:
    st.subheader("Feature drift")
    drift_sym = st.selectbox("Drift symbol", list(BUNDLED_SYMBOLS), key="mon_drift_sym")
    recent = st.number_input("Recent window [bars]", 100, 1000, 250, step=50, key="mon_recent")
    show_drift = st.toggle("Compute drift (PSI/KS)", key="mon_drift",
                           help="Technical features of the recent window against all earlier "
                                "bars of the symbol.")
if show_drift:
    try:
        drift_table = cached_drift(drift_sym, "1d", int(recent))
    except QuantdeskError as err:
        st.warning(f"Drift not computed: {err}")

try:
    with session_scope() as s:
        import sqlalchemy as sa

        from core.store import PredictionRow

        families = sorted(s.execute(sa.select(PredictionRow.model_name).distinct()).scalars())
        family = c1.selectbox("Model family", ["All"] + families, key="mon_family")
        report = monitoring_figures(
            session=s, model_name=None if family == "All" else family, window=int(window),
            symbol=None if symbol == "All" else symbol,
            thresholds=Thresholds(accuracy_floor=floor), drift=drift_table)
except QuantdeskError as err:
    st.error(f"The prediction store could not be read: {err}")
    st.stop()
except SQLAlchemyError as err:
    st.error(f"The prediction store is unavailable ({type(err).__name__}). Check "
             "DATABASE_URL / the data directory and reload.")
    st.stop()
except ValueError as err:
    st.error(f"Bad monitoring settings: {err}")
    st.stop()

st.caption(f"As of {utcnow():%Y-%m-%d %H:%M:%S} UTC · window {report.window} outcomes")
st.subheader("Alerts")
alert_badges(report.alerts)

ops = report.ops
m1, m2, m3, m4 = st.columns(4)
m1.metric("Requests", f"{ops['requests']:.0f}")
m2.metric("Error rate [%]", "–" if ops["error_rate"] is None else f"{100 * ops['error_rate']:.1f}")
m3.metric("Cache hit rate [%]",
          "–" if ops["cache_hit_rate"] is None else f"{100 * ops['cache_hit_rate']:.0f}")
m4.metric("Prediction groups", len(report.groups))

if not report.groups:
    st.info(EMPTY_STATE)
else:
    st.subheader("Models against their naive baselines")
    st.dataframe(summary_frame(report.groups), hide_index=True, width="stretch")
    st.caption("Naive baselines: zero-return forecast for MAE, the always-up call for "
               "directional accuracy; coverage is nominally 80%. Log-return MAE in %.")
    labels = [g.label for g in report.groups]
    default = next((i for i, g in enumerate(report.groups) if g.model_name != "naive"), 0)
    pick = st.selectbox("Model / version / horizon", labels, index=default, key="mon_group")
    g = report.groups[labels.index(pick)]
    k1, k2, k3 = st.columns(3)
    k1.metric("Outcomes", f"{g.n_realised} / {g.n}")
    k2.metric("Latency p50 / p95 [ms]", "–" if g.latency_p50 is None else
              f"{g.latency_p50:.1f} / {g.latency_p95:.1f}")
    k3.metric("Coverage 80 [%]", "–" if g.coverage is None else f"{100 * g.coverage:.1f}")
    def small(fig):
        """Half-width charts: smaller titles so the model label fits."""
        return fig.update_layout(title_font_size=12)

    a, b = st.columns(2)
    a.plotly_chart(small(mplots.accuracy_figure(g, floor)), width="stretch", key="mon_acc")
    b.plotly_chart(small(mplots.mae_figure(g)), width="stretch", key="mon_mae")
    a, b = st.columns(2)
    a.plotly_chart(small(mplots.coverage_figure(g)), width="stretch", key="mon_cov")
    if g.kind == "probability":
        b.plotly_chart(small(mplots.reliability_figure(g)), width="stretch", key="mon_rel")
        st.plotly_chart(mplots.volume_figure(report), width="stretch", key="mon_vol2")
    else:
        b.plotly_chart(small(mplots.volume_figure(report)), width="stretch", key="mon_vol")

st.subheader("Feature drift")
if drift_table is None:
    st.info("Turn on 'Compute drift' in the sidebar to compare the recent window's features "
            "with the earlier history (PSI > 0.2 raises an alert).")
else:
    st.plotly_chart(mplots.drift_figure(drift_table), width="stretch", key="mon_drift_fig")
    t = drift_table.copy()
    st.dataframe(t.round(4), hide_index=True, width="stretch")
