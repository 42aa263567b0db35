"""Forecasts page: multi-horizon price forecasts with conformal intervals and their honest
walk-forward skill against a random walk. Widgets and layout only; computation in core."""

import streamlit as st

from core.display import code_literal, literal
from core.errors import QuantdeskError
from core.forecasting import report
from core.forecasting.serve import forecast_table
from core.plots.forecast import fan_figure, importance_figure
from ui.figures import cached_figure, chart
from ui.forecast import active_forecast_artifact, cached_predictions, walk_forward_results
from ui.layout import page_start
from ui.predlog import log_shown
from ui.widgets import lazy_tabs, small_table


def _literal_pooled(metadata: dict) -> dict:
    """``metadata`` with the pooled model's training symbols (shown, never compared)
    escaped for markdown (:func:`core.display.literal`)."""
    shown = metadata.get("pooled_symbols") or metadata.get("symbols") or []
    return {**metadata, "pooled_symbols": [literal(s) for s in shown]}


def _literal_prefix(text: str, symbol: str) -> str:
    """``text`` that starts with the (user-chosen) ``symbol``, that symbol escaped."""
    return literal(symbol) + text[len(symbol):] if text.startswith(symbol) else literal(text)


def _skill(md, art) -> None:
    """The stored walk-forward evaluation of ``md.symbol`` beside the random walk, or the
    pooled model's held-out-symbol record when the symbol has none."""
    wf, wf_version = walk_forward_results(art.metadata)
    rows = (wf or {}).get(md.symbol, {})
    lso = art.metadata.get("leave_symbols_out") or []
    if not rows and lso:
        st.caption("This symbol has no walk-forward record of its own. The pooled model "
                   "was judged on symbols it never saw (trained on four bundled symbols, "
                   "tested on the other two, three rotations):")
        small_table(report.pooled_frame(lso), formats={
            "Pooled RMSE ratio vs RW": "{:.4f}", "Per-symbol RMSE ratio vs RW": "{:.4f}",
            "Pooled coverage 80 [%]": "{:.1f}"})
        st.markdown(":material/remove: " + report.pooled_verdict(
            [{**r, "symbol": literal(r.get("symbol"))} for r in lso]))
    elif not rows:
        run = code_literal(f"quantdesk evaluate forecast --symbol {md.symbol}")
        st.info(f"No stored walk-forward evaluation for {literal(md.symbol)}. Run {run} to "
                "compute it.")
    else:
        st.caption(f"Expanding window, refit every 250 bars, embargo = horizon, scored only "
                   f"on unseen bars (evaluation stored with model {literal(wf_version)}).")
        st.markdown("\n\n".join(  # one element, a paragraph per horizon (issue 15)
            (":material/check_circle: " if significant else ":material/remove: ") + sentence
            for significant, sentence in report.verdicts(rows)))
        ratio4 = {"RMSE ratio vs naive": "{:.4f}", "MAE ratio vs naive": "{:.4f}"}
        small_table(report.skill_frame(rows), formats=ratio4, precision=3, na="")
        small_table(report.coverage_frame(rows), precision=1)


def _importance(md, art) -> None:
    """The active model's feature importance for one horizon."""
    imp = report.feature_importance(art.metadata, md.symbol)
    if imp:
        h_sel = st.radio("Horizon [bars]", list(imp), horizontal=True, key="fc_imp_h")
        chart(cached_figure(importance_figure, imp[h_sel]), key="fc_imp")
    else:
        st.info("This model version stores no feature importance.")


#: the sections below the forecast table, one tab each (``?tab=importance`` opens the second)
TABS = {"skill": "Walk-forward skill vs a random walk",
        "importance": "Feature importance of the active model"}

sel, md = page_start("Forecasts", "Where the price may be in 1, 5 and 20 bars — and how good "
                     "that forecast has really been.")
if md is not None:
    try:
        art = active_forecast_artifact()
        preds = cached_predictions(md, md.symbol, md.interval, md.frame.index[-1],
                                   len(md.frame), art.version)
    except QuantdeskError as err:
        st.warning(literal(err))
        st.info("Forecasts need daily (1d) bars and at least 60 of them; any symbol is served "
                "(by its own model where it has one, else by the pooled model).")
        preds = None
    if preds:
        log_shown(preds)
        pooled_note = report.scope_note(preds, _literal_pooled(art.metadata))
        if pooled_note:
            st.info(_literal_prefix(pooled_note, preds[0].symbol))
        chart(cached_figure(fan_figure, md.frame, preds,
                            f"{md.symbol} · forecast fan (model {art.version})"),
              key="fc_fan")
        table = forecast_table(preds)
        st.subheader("Member and ensemble forecasts")
        st.caption("Return [%] is the simple return from the last close; the ensemble is "
                   "0.4·XGBoost + 0.4·LightGBM + 0.2·RandomForest shrunk toward the random walk "
                   "by a factor validated on the training window. Confidence in [0, 1] = member "
                   "sign agreement × how far the forecast stands outside its own error band.")
        small_table(report.page_table(table), precision=3, na="")
        st.download_button("Download forecasts (CSV)", report.table_csv(table),
                           file_name=f"forecast_{md.symbol}_{md.frame.index[-1]:%Y%m%d}.csv",
                           mime="text/csv")

        # the evaluation and the importances are drawn only while their tab is open (issue 15)
        skill_tab, imp_tab = lazy_tabs(TABS, key="fc_tab")
        if skill_tab.open:
            with skill_tab:
                _skill(md, art)
        if imp_tab.open:
            with imp_tab:
                _importance(md, art)
