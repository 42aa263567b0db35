"""Volatility page: realised estimators, cone, GARCH/HAR/ML forecasts, regime, evaluation."""

import pandas as pd
import streamlit as st

from core.display import literal
from core.errors import QuantdeskError
from core.market import periods_per_year
from core.plots import volatility as vp
from core.volatility import report
from core.volatility.serve import HOW_ARTIFACT, HOW_POOLED
from core.volatility.estimators import ESTIMATOR_LABELS
from ui.figures import cached_figure, chart
from ui.layout import page_start
from ui.predlog import log_shown
from ui.volatility import (cached_artifact, cached_cone, cached_estimators, cached_history,
                           cached_predictions, cached_vix, frame_key)
from ui.widgets import lazy_tabs, metric_row, small_table

INDEXES = ("^GSPC", "^IXIC")
#: ``?tab=history|cone|estimators|evaluation`` opens that tab
TABS = {"forecast": "Forecast", "history": "History & regime", "cone": "Cone",
        "estimators": "Estimators", "evaluation": "Evaluation"}

sel, md = page_start("Volatility", "How much a symbol moves, and how much it is forecast to "
                     "move. Volatility [% ann.] = sqrt(variance per bar × bars per year).")
if md is not None:
    ppy = periods_per_year(md.interval)
    art = cached_artifact()
    key = f"{frame_key(md)}|{art.version if art is not None else '-'}"  # new version: new key
    preds = None
    try:
        preds = cached_predictions(key, md)
    except QuantdeskError as err:
        st.warning(f"No forecast: {literal(err)}")

    if preds:
        log_shown(preds)
        metric_row(report.forecast_metrics(preds, ppy))
        how = preds[0].output.get("how")
        if how == HOW_POOLED:
            st.caption("No trained parameters for this symbol: GARCH/HAR are fitted on this "
                       "history and the pooled ML model (judged on held-out symbols, see "
                       "docs/volatility.md) gives the forecast and its interval; the "
                       "evaluation below refers to the bundled symbols.")
        elif how != HOW_ARTIFACT:
            st.caption("Models fitted on the fly on this history (no trained parameters for "
                       "this symbol); the evaluation below refers to the bundled symbols.")

    # lazy tabs (issue 15): a tab's charts are computed and sent only while it is open (a tab
    # click reruns the page); the Forecast tab is open by default, the evaluation (cheap, from
    # the artifact) is always written
    # each tab's content is computed and sent only while it is open (issue 15)
    tabs = lazy_tabs(TABS, key="vol_tab")
    with tabs[0]:
        if preds and tabs[0].open:
            chart(cached_figure(vp.forecast_figure, preds, ppy), key="vol_fc")
            small_table(pd.DataFrame(report.models_table(preds)),
                        formats={"variance (sum over horizon)": "{:.3e}"})
        elif tabs[0].open:
            st.info("Forecasts need at least 300 bars; choose a longer date range.")
    with tabs[1]:
        hist = None
        if tabs[1].open:
            try:
                hist = cached_history(key, md, ppy)
                chart(cached_figure(vp.conditional_vol_figure, hist["cond_vol"],
                                    hist["realized_vol"], hist["regime"]),
                      key="vol_hist")
                st.caption("Regime: today's 21-bar realised vol ranked against the previous 5 "
                           "years (below the 20th percentile = low, above the 80th = high).")
            except QuantdeskError as err:
                st.warning(f"No GARCH history: {literal(err)}")
        if tabs[1].open and md.symbol in INDEXES:
            vix, rv = report.vix_comparison(cached_vix(),
                                            hist["realized_vol"] if hist is not None else None,
                                            md.frame.index[0], md.frame.index[-1])
            if vix.empty:
                st.info("^VIX history bundled offline covers 2014-01 .. 2019-01 only; pick dates "
                        "in that range to compare.")
            elif rv is not None:
                chart(cached_figure(vp.vix_figure, vix, rv, md.symbol), key="vol_vix")
    with tabs[2]:
        if tabs[2].open:
            try:
                cone = cached_cone(key, md, ppy)
                chart(cached_figure(vp.cone_figure, cone, md.symbol), key="vol_cone")
                st.dataframe(report.cone_table(cone), width="stretch")
            except QuantdeskError as err:
                st.warning(literal(err))
    with tabs[3]:
        if tabs[3].open:
            window = st.select_slider("Window [bars]", [5, 10, 21, 63, 126], value=21,
                                      key="vol_win")
            try:
                est = cached_estimators(key, md, window, ppy)
                chart(cached_figure(vp.estimators_figure,
                                    report.estimators_for_chart(est),
                                    ESTIMATOR_LABELS, window),
                      key="vol_est")
                st.caption("Range estimators use open/high/low/close; they miss overnight gaps "
                           "(except Yang-Zhang) and so run below close-to-close on stocks.")
            except QuantdeskError as err:
                st.warning(literal(err))
    if tabs[4].open:
        with tabs[4]:
            ev_all = (art.metadata.get("evaluation", {}) if art is not None else {})
            if not ev_all:
                st.info("No evaluation stored yet: an admin can run `quantdesk train volatility`.")
            else:
                shown = report.evaluated_symbol(ev_all, md.symbol)
                if shown != md.symbol:
                    st.caption(f"{literal(md.symbol)} was not evaluated; showing {literal(shown)}.")
                h = st.radio("Horizon [bars]", [1, 5, 21], horizontal=True, key="vol_eval_h")
                st.markdown(report.evaluation_caption(literal(shown), ev_all[shown], h))
                table = report.evaluation_display(ev_all[shown], h)
                small_table(table, formats={"QLIKE": "{:.4f}", "QLIKE / GARCH(1,1)": "{:.3f}",
                                            "MSE": "{:.2e}", "MZ R²": "{:.3f}",
                                            "DM p vs GARCH": "{:.3f}"})
                st.write(report.ml_verdict(ev_all[shown], h))
