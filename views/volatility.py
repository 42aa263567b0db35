"""Volatility page: realised estimators, cone, GARCH/HAR/ML forecasts, regime, evaluation."""

import math

import streamlit as st

from core.errors import QuantdeskError
from core.plots import volatility as vp
from core.volatility.estimators import ESTIMATOR_LABELS, PERIODS_PER_YEAR
from ui.layout import page_start
from ui.predlog import log_shown
from ui.volatility import (cached_artifact, cached_cone, cached_estimators, cached_history,
                           cached_predictions, cached_vix, frame_key)

INDEXES = ("^GSPC", "^IXIC")

sel, md = page_start("Volatility", "How much a symbol moves, and how much it is forecast to "
                     "move. Volatility [% ann.] = sqrt(variance per bar × bars per year).")
if md is not None:
    ppy = PERIODS_PER_YEAR.get(md.interval, 252)
    art = cached_artifact()
    key = f"{frame_key(md)}|{art.version if art is not None else '-'}"  # new version: new key
    preds = None
    try:
        preds = cached_predictions(key, md)
    except QuantdeskError as err:
        st.warning(f"No forecast: {err}")

    if preds:
        log_shown(preds)
        reg = preds[0].output.get("regime")
        cols = st.columns(len(preds) + 1)
        cols[0].metric("Regime", (reg or "unknown").upper(),
                       help="21-bar realised vol ranked against the previous 5 years.")
        for c, p in zip(cols[1:], preds):
            lo = hi = None
            if p.lower is not None and p.upper is not None:
                lo = math.sqrt(max(p.lower, 0) * ppy / p.horizon)
                hi = math.sqrt(p.upper * ppy / p.horizon)
            c.metric(f"h={p.horizon} · {p.output['best_model']} [% ann.]",
                     f"{p.output['vol_ann']:.1%}",
                     help="Variance of the summed log return over the horizon, annualised. "
                          "Interval: 80 % range of the *realised* vol from the ML quantiles.")
            if lo is not None:
                c.caption(f"ML 80% interval of realised: {lo:.1%} – {hi:.1%}")
        if preds[0].output.get("how") != "artifact":
            st.caption("Models fitted on the fly on this history (no trained parameters for "
                       "this symbol); the evaluation below refers to the bundled symbols.")

    tabs = st.tabs(["Forecast", "History & regime", "Cone", "Estimators", "Evaluation"])
    with tabs[0]:
        if preds:
            st.plotly_chart(vp.forecast_figure(preds, ppy), width="stretch", key="vol_fc")
            rows = []
            for p in preds:
                for m, v in p.output["models"].items():
                    rows.append({"horizon [bars]": p.horizon, "model": m,
                                 "variance (sum over horizon)": v["variance"],
                                 "Volatility [% ann.]": round(v["vol_ann"] * 100, 2),
                                 "best": m == p.output["best_model"]})
            st.dataframe(rows, hide_index=True, width="stretch")
        else:
            st.info("Forecasts need at least 300 bars; choose a longer date range.")
    with tabs[1]:
        hist = None
        try:
            hist = cached_history(key, md, ppy)
            st.plotly_chart(vp.conditional_vol_figure(hist["cond_vol"], hist["realized_vol"],
                                                      hist["regime"]),
                            width="stretch", key="vol_hist")
            st.caption("Regime: today's 21-bar realised vol ranked against the previous 5 years "
                       "(below the 20th percentile = low, above the 80th = high).")
        except QuantdeskError as err:
            st.warning(f"No GARCH history: {err}")
        if md.symbol in INDEXES:
            vix = cached_vix()
            rv = hist["realized_vol"] if hist is not None else None
            vix = vix[(vix.index >= md.frame.index[0]) & (vix.index <= md.frame.index[-1])]
            if vix.empty:
                st.info("^VIX history bundled offline covers 2014-01 .. 2019-01 only; pick dates "
                        "in that range to compare.")
            elif rv is not None:
                rv = rv[rv.index >= vix.index[0]]
                st.plotly_chart(vp.vix_figure(vix, rv, md.symbol), width="stretch", key="vol_vix")
    with tabs[2]:
        try:
            cone = cached_cone(key, md, ppy)
            st.plotly_chart(vp.cone_figure(cone, md.symbol), width="stretch", key="vol_cone")
            st.dataframe((cone * 100).round(2).rename_axis("window [bars]"), width="stretch")
        except QuantdeskError as err:
            st.warning(str(err))
    with tabs[3]:
        window = st.select_slider("Window [bars]", [5, 10, 21, 63, 126], value=21, key="vol_win")
        try:
            est = cached_estimators(key, md, window, ppy)
            st.plotly_chart(vp.estimators_figure(est.tail(750), ESTIMATOR_LABELS, window),
                            width="stretch", key="vol_est")
            st.caption("Range estimators use open/high/low/close; they miss overnight gaps "
                       "(except Yang-Zhang) and so run below close-to-close on stocks.")
        except QuantdeskError as err:
            st.warning(str(err))
    with tabs[4]:
        from core.volatility.report import evaluation_table

        ev_all = (art.metadata.get("evaluation", {}) if art is not None else {})
        if not ev_all:
            st.info("No evaluation stored yet: an admin can run `quantdesk train volatility`.")
        else:
            shown = md.symbol if md.symbol in ev_all else "^GSPC"
            if shown != md.symbol:
                st.caption(f"{md.symbol} was not evaluated; showing {shown}.")
            h = st.radio("Horizon [bars]", [1, 5, 21], horizontal=True, key="vol_eval_h")
            sc = ev_all[shown]["results"][str(h)]["primary"]
            st.markdown(f"**{shown}, h = {h}**: rolling out-of-sample {sc['test_start']} .. "
                        f"{sc['test_end']}, n = {sc['n_test']}, refit every 21 bars; target = "
                        "sum of squared log returns over the horizon. Baseline: GARCH(1,1). "
                        "✓ = in arch's 90 % Model Confidence Set.")
            table = evaluation_table(ev_all[shown], h)
            table["In MCS"] = table["In MCS"].map({True: "✓", False: ""})
            st.dataframe(table.style.format({"QLIKE": "{:.4f}", "QLIKE / GARCH(1,1)": "{:.3f}",
                                             "MSE": "{:.2e}", "MZ R²": "{:.3f}",
                                             "DM p vs GARCH": "{:.3f}"}),
                         hide_index=True, width="stretch")
            ml = sc["models"]["ml"]["qlike_ratio"]
            cov = sc["interval"]["coverage"]
            verdict = ("beats" if ml < 1 else "does not beat")
            st.write(f"The ML model {verdict} GARCH(1,1) here (QLIKE ratio {ml:.3f}); its 80 % "
                     f"interval covered {cov:.0%} of outcomes.")
