"""Patterns page: candlestick patterns (rules + CNN), their measured edge, and S/R breakouts."""

import streamlit as st

from core.display import code_literal, literal
from core.errors import QuantdeskError
from core.patterns import report
from core.patterns.edge import edge_display
from core.patterns.rules import PATTERNS
from core.plots.patterns import pattern_chart, reliability_figure
from ui.figures import cached_figure, chart
from ui.layout import page_start
from ui.patterns import (breakout_model, cnn_model, edge, latest_scores, levels_and_breakouts,
                         pattern_detections, track_record)
from ui.widgets import bar_list, lazy_tabs, metric_row, small_table

#: the sections below the chart, one tab each (``?tab=edge`` opens the edge table)
TABS = {"latest": "Latest bar", "edge": "Pattern edge", "breakouts": "Breakouts"}

sel, md = page_start("Patterns", "Candlestick patterns (rules with trend context + a CNN), "
                     "whether they have mattered, and support/resistance breakouts.")


def _chart(md, bars, shown):
    frame = md.frame
    det = report.shown_detections(pattern_detections(frame, bars), shown)
    res, sup, ev = levels_and_breakouts(frame)
    res_near, sup_near = report.nearest_levels(res, sup, frame)
    fig = cached_figure(pattern_chart, report.chart_window(frame, bars), det, resistance=res_near,
                        support=sup_near, breakouts=ev,
                        title=f"{md.symbol} · {md.interval} · patterns and levels · last "
                              f"{min(bars, len(frame)):,} bars")
    chart(fig, key="patterns_chart")
    st.caption(f"Marked: {report.shown_summary(shown)} (Bars & patterns on the chart). "
               "Markers: ▲ bullish below the low, ▼ bearish above the high, ◆ neutral; hover "
               "shows the pattern, whether the rule fired, and the CNN confidence. Dashed lines: "
               "the nearest active resistance (R) and support (S) from confirmed 5-bar pivots; "
               "stars: breakouts (close through a level).")
    return ev


def _latest(md):
    cnn, version = cnn_model()
    if cnn is None:
        st.warning(f"Pattern CNN unavailable: {literal(version)}")
        return
    scores = latest_scores(md.frame)
    left, right = st.columns([3, 2])
    with left:  # bars in HTML, not a second Plotly chart (issue 15)
        bar_list("Latest bar: CNN pattern confidence", report.confidence_bars(scores))
    with right:
        small_table(report.latest_table(scores), precision=1,
                    formats={"threshold [%]": "{:.0f}"})
    st.caption(f"Latest bar {md.frame.index[-1]:%Y-%m-%d} · rule hits: "
               f"{report.rule_hits(scores)} · "
               f"CNN patterns-cnn/{literal(version)} (it imitates the rules; confidence is not a "
               "forecast of returns).")


def _edge(md):
    table = edge(md.frame)
    shown = edge_display(table)
    st.dataframe(shown[report.EDGE_COLUMNS], width="stretch")  # too wide for a markdown table
    st.caption(
        f"Rule hits on {literal(md.symbol)} ({len(md.frame):,} bars). Returns are "
        "direction-adjusted log returns (bearish patterns count a fall as positive) vs an "
        "unconditional entry in the same direction; 95% CIs by bootstrap over occurrences. "
        "**No measurable edge** = every CI contains the base value. "
        f"{report.patterns_with_edge(table)} of 15 patterns show a CI off the base somewhere; "
        "with 15 patterns x 3 horizons x 2 statistics some of that is expected by chance alone.")
    # lazy (issue 15): the full table is sent only while the expander is open
    horizons = st.expander("All horizons and hit-rate CIs", key="patterns_all_h",
                           on_change="rerun")
    if horizons.open:
        with horizons:
            st.dataframe(shown, width="stretch")


def _breakout(md, ev):
    bm = breakout_model()
    if isinstance(bm, str):
        st.warning(f"Breakout model unavailable: {literal(bm)}")
        return
    meta = bm.metadata
    if not bm.skill:
        st.warning(report.no_skill_warning(meta))
    metric_row(report.breakout_metrics(meta))
    if len(ev):
        st.subheader("Latest breakout")
        st.markdown(report.latest_breakout(ev, md.frame, meta, literal(bm.version)))
        if bm.skill:
            metric_row([report.success_metric(ev, meta)])
        else:
            with st.expander("Raw model output (not a signal — the model has no skill)"):
                st.write(report.raw_probability(ev, meta))
    else:
        st.info("No breakout in the selected range.")
    left, right = st.columns(2)
    with left:
        reliability = meta.get("metrics", {}).get("reliability")
        if reliability:
            chart(cached_figure(reliability_figure, reliability,
                               meta.get("base_rate", float("nan"))),
                  key="patterns_rel")
    with right:
        st.markdown("**Track record (walk-forward, out of sample)**")
        tr = track_record(md.symbol)
        if len(tr):
            st.dataframe(report.track_record_table(tr), width="stretch", height=300,
                         hide_index=True)
            st.caption(report.track_record_caption(tr, literal(md.symbol)))
        else:
            run = code_literal(f"quantdesk evaluate breakout --symbol {md.symbol}")
            st.caption(f"No stored walk-forward record for {literal(md.symbol)} (only the "
                       f"bundled symbols are in it). Run {run} for one.")


if md is not None:
    try:
        if len(md.frame) < 60:
            st.warning(f"Only {len(md.frame)} bars: patterns and breakouts need at least 60. "
                       "Choose a longer date range.")
        else:
            lo, hi, default = report.chart_bars(len(md.frame))
            # in a popover: a closed popover's widgets are not mounted (issue 15); the chart's
            # title says how many bars it shows, its caption which patterns it marks
            box = st.popover("Bars & patterns on the chart", icon=":material/tune:")
            bars = box.slider("Bars on the chart", lo, hi, default, step=10, key="patterns_bars")
            shown = box.pills("Patterns on the chart", list(PATTERNS), selection_mode="multi",
                              default=report.DEFAULT_SHOWN, key="patterns_shown",
                              format_func=lambda p: p.replace("_", " "),
                              help="Doji are frequent (~14% of bars) and hidden by default.")
            ev = _chart(md, bars, shown)
            # each section is computed and sent only while its tab is open (issue 15)
            latest, mattered, breakouts = lazy_tabs(TABS, key="patterns_tab")
            if latest.open:
                with latest:
                    _latest(md)
            if mattered.open:
                with mattered:
                    st.markdown("**Has each pattern mattered here?**")
                    _edge(md)
            if breakouts.open:
                with breakouts:
                    _breakout(md, ev)
    except QuantdeskError as err:
        st.error(literal(err))
