"""Model Monitoring: stored predictions against realised outcomes, operations, drift."""

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.data import BUNDLED_SYMBOLS
from core.display import literal, time_literal
from core.errors import QuantdeskError
from core.monitoring.report import (SUMMARY_FORMATS, default_group, drift_frame, group_metrics,
                                    ops_metrics, summary_frame)
from core.plots import monitoring as mplots
from ui.figures import chart
from ui.monitoring import EMPTY_STATE, alert_badges, cached_drift, load_report, store_families
from ui.widgets import lazy_tabs, metric_row, small_table

#: the charts of the chosen model, two per tab (``?tab=coverage`` opens the second)
TABS = {"accuracy": "Accuracy and error", "coverage": "Coverage and calibration",
        "volume": "Prediction volume"}


def small(fig):
    """Half-width charts: smaller titles so the model label fits."""
    return fig.update_layout(title_font_size=12)


st.title("Model Monitoring")
st.caption("Per model family, version and horizon: rolling directional accuracy and MAE "
           "against the naive baseline, interval coverage, calibration, volume, latency, "
           "error and cache rates, and feature drift. Computed from the prediction store.")

# the filters and the drift settings sit in popovers: a closed popover's widgets are not
# mounted by the browser (their values are kept), ~0.1 s per visit (issue 15); the caption
# under the alerts' heading names the filters in use
filters = st.popover("Filters", icon=":material/filter_list:")
window = filters.slider("Rolling window [outcomes]", 10, 250, 50, step=10, key="mon_window")
floor = filters.slider("Accuracy floor [%]", 40, 60, 50, key="mon_floor") / 100
symbol = filters.selectbox("Symbol", ["All"] + list(BUNDLED_SYMBOLS), key="mon_symbol")

drift_table = None
with st.sidebar.popover("Feature drift", icon=":material/query_stats:", width="stretch"):
    drift_sym = st.selectbox("Drift symbol", list(BUNDLED_SYMBOLS), key="mon_drift_sym")
    recent = st.number_input("Recent window [bars]", 100, 1000, 250, step=50, key="mon_recent")
    show_drift = st.toggle("Compute drift (PSI/KS)", key="mon_drift",
                           help="Technical features of the recent window against all earlier "
                                "bars of the symbol.")
if show_drift:
    try:
        drift_table = cached_drift(drift_sym, "1d", int(recent))
    except QuantdeskError as err:
        st.warning(literal(f"Drift not computed: {err}"))

try:
    family = filters.selectbox("Model family", ["All"] + store_families(), key="mon_family")
    report = load_report(family, symbol, int(window), floor, drift_table)
except QuantdeskError as err:
    st.error(literal(f"The prediction store could not be read: {err}"))
    st.stop()
except SQLAlchemyError as err:
    st.error(f"The prediction store is unavailable ({type(err).__name__}). Check "
             "DATABASE_URL / the data directory and reload.")
    st.stop()
except ValueError as err:
    st.error(literal(f"Bad monitoring settings: {err}"))
    st.stop()

st.caption(f"As of {time_literal(report.generated_at)} UTC · family {literal(family)} · "
           f"symbol {literal(symbol)} · window {report.window} outcomes · accuracy floor "
           f"{floor:.0%}")
st.subheader("Alerts")
alert_badges(report.alerts)

metric_row(ops_metrics(report))

if not report.groups:
    st.info(EMPTY_STATE)
else:
    st.subheader("Models against their naive baselines")
    # one HTML table, not a data grid: a grid costs every visit ~0.1 s of browser time
    # (issue 15); a few rows per model, version and horizon, scrolled sideways when narrow
    small_table(summary_frame(report.groups), precision=1, formats=SUMMARY_FORMATS)
    st.caption("Naive baselines: zero-return forecast for MAE, the always-up call for "
               "directional accuracy; coverage is nominally 80%. Log-return MAE in %.")
    labels = [g.label for g in report.groups]
    pick = st.selectbox("Model / version / horizon", labels, index=default_group(report.groups),
                        key="mon_group")
    g = report.groups[labels.index(pick)]
    metric_row(group_metrics(g))

    # each pair of charts is built and sent only while its tab is open (issue 15)
    t_acc, t_cov, t_vol = lazy_tabs(TABS, key="mon_tab")
    if t_acc.open:
        a, b = t_acc.columns(2)
        chart(small(mplots.accuracy_figure(g, floor)), key="mon_acc", where=a)
        chart(small(mplots.mae_figure(g)), key="mon_mae", where=b)
    if t_cov.open:
        a, b = t_cov.columns(2)
        chart(small(mplots.coverage_figure(g)), key="mon_cov", where=a)
        if g.kind == "probability":
            chart(small(mplots.reliability_figure(g)), key="mon_rel", where=b)
        else:
            b.caption("A calibration chart is drawn for probability forecasts (the breakout "
                      "filter); this model forecasts a value.")
    if t_vol.open:
        chart(mplots.volume_figure(report), key="mon_vol", where=t_vol)

st.subheader("Feature drift")
if drift_table is None:
    st.info("Turn on 'Compute drift' under 'Feature drift' in the sidebar to compare the "
            "recent window's features with the earlier history (PSI > 0.2 raises an alert).")
else:
    chart(mplots.drift_figure(drift_table), key="mon_drift_fig")
    st.dataframe(drift_frame(drift_table), hide_index=True, width="stretch")
