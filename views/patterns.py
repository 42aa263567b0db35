"""Patterns page: candlestick patterns (rules + CNN), their measured edge, and S/R breakouts."""

import streamlit as st

from core.errors import QuantdeskError
from ui.layout import page_start

sel, md = page_start("Patterns", "Candlestick patterns (rules with trend context + a CNN), "
                     "whether they have mattered, and support/resistance breakouts.")


def _chart(md, bars, shown):
    from core.plots.patterns import pattern_chart
    from ui.patterns import levels_and_breakouts, pattern_detections

    frame = md.frame
    det = pattern_detections(frame, bars)
    det = det[det["pattern"].isin(shown)]
    res, sup, ev = levels_and_breakouts(frame)
    last = float(frame["close"].iloc[-1])
    res_near = [r for r in res if r > last][:3]
    sup_near = [s for s in sup if s < last][-3:]
    fig = pattern_chart(frame.tail(bars), det, resistance=res_near, support=sup_near,
                        breakouts=ev, title=f"{md.symbol} · {md.interval} · patterns and levels")
    st.plotly_chart(fig, width="stretch", key="patterns_chart")
    st.caption("Markers: ▲ bullish below the low, ▼ bearish above the high, ◆ neutral; hover "
               "shows the pattern, whether the rule fired, and the CNN confidence. Dashed lines: "
               "the nearest active resistance (R) and support (S) from confirmed 5-bar pivots; "
               "stars: breakouts (close through a level).")
    return ev


def _latest(md):
    from core.plots.patterns import confidence_bars
    from ui.patterns import cnn_model, latest_scores

    cnn, version = cnn_model()
    if cnn is None:
        st.warning(f"Pattern CNN unavailable: {version}")
        return
    scores = latest_scores(md.frame)
    left, right = st.columns([3, 2])
    left.plotly_chart(confidence_bars(scores), width="stretch", key="patterns_conf")
    with right:
        view = scores.head(5).copy()
        view["pattern"] = view["pattern"].str.replace("_", " ")
        view["CNN confidence [%]"] = (view.pop("cnn_probability") * 100).round(1)
        view["threshold [%]"] = (view.pop("threshold") * 100).round(0)
        view["rule fires"] = view.pop("rule_hit").map({True: "yes", False: "no"})
        st.dataframe(view, hide_index=True, width="stretch")
    hits = scores[scores["rule_hit"]]["pattern"].tolist()
    st.caption(f"Latest bar {md.frame.index[-1]:%Y-%m-%d} · rule hits: "
               f"{', '.join(h.replace('_', ' ') for h in hits) if hits else 'none'} · "
               f"CNN patterns-cnn/{version} (it imitates the rules; confidence is not a "
               "forecast of returns).")


def _edge(md):
    from core.patterns.edge import edge_display
    from ui.patterns import edge

    table = edge(md.frame)
    shown = edge_display(table)
    cols = ["Direction", "Occurrences", "Return 1b [%]", "Return 5b [%]", "95% CI 5b [%]",
            "Base 5b [%]", "Hit 5b [%]", "Base hit 5b [%]", "Return 10b [%]", "Verdict"]
    st.dataframe(shown[cols], width="stretch")
    n_edge = int((table["verdict"] != "no measurable edge").sum()
                 - (table["verdict"] == "too few cases").sum())
    st.caption(
        f"Rule hits on {md.symbol} ({len(md.frame):,} bars). Returns are direction-adjusted log "
        "returns (bearish patterns count a fall as positive) vs an unconditional entry in the "
        "same direction; 95% CIs by bootstrap over occurrences. **No measurable edge** = every "
        "CI contains the base value. "
        f"{n_edge} of 15 patterns show a CI off the base somewhere; with 15 patterns x 3 "
        "horizons x 2 statistics some of that is expected by chance alone.")
    with st.expander("All horizons and hit-rate CIs"):
        st.dataframe(shown, width="stretch")


def _breakout(md, ev):
    from core.plots.patterns import reliability_figure
    from ui.patterns import breakout_model, track_record

    bm = breakout_model()
    if isinstance(bm, str):
        st.warning(f"Breakout model unavailable: {bm}")
        return
    m = bm.metadata.get("metrics", {})
    p = bm.metadata.get("params", {})
    base = bm.metadata.get("base_rate", float("nan"))
    rule = (f"+{p.get('k_target', 2):g} ATR target before a −{p.get('k_stop', 1):g} ATR stop "
            f"within {p.get('horizon', 10)} bars")
    if not bm.skill:
        st.warning(
            f"**No skill.** Out of sample (walk-forward, {m.get('n_events', 0)} breakouts) the "
            f"breakout filter's AUC is {m.get('auc', float('nan')):.2f} "
            f"[{m.get('auc_ci95', [float('nan')] * 2)[0]:.2f}, "
            f"{m.get('auc_ci95', [float('nan')] * 2)[1]:.2f}] and its Brier score "
            f"{m.get('brier', float('nan')):.4f} is not better than the base-rate forecast "
            f"({m.get('brier_base_rate', float('nan')):.4f}). Treat every breakout as having the "
            f"base-rate chance of about {base:.0%} to reach {rule}. Model probabilities are not "
            "shown as a signal.")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Breakout success, all [%]", f"{m.get('success_rate_all', float('nan')) * 100:.1f}")
    c2.metric("Model-selected success [%]",
              f"{m.get('success_rate_selected', float('nan')) * 100:.1f}",
              help="Breakouts whose walk-forward probability exceeded the base rate.")
    c3.metric("AUC (walk-forward)", f"{m.get('auc', float('nan')):.3f}")
    c4.metric("Brier skill vs base rate", f"{m.get('brier_skill', float('nan')):+.3f}")
    if len(ev):
        last = ev.iloc[-1]
        d = "UP" if last["direction"] > 0 else "DOWN"
        age = len(md.frame.loc[ev.index[-1]:]) - 1
        st.subheader("Latest breakout")
        info = (f"{ev.index[-1]:%Y-%m-%d} ({age} bars ago) · **{d}** through "
                f"{last['level']:,.2f} · target {last['target_price']:,.2f} · stop "
                f"{last['stop_price']:,.2f} · horizon {p.get('horizon', 10)} bars · risk "
                f"{(abs(last['close'] - last['stop_price']) / last['close']) * 100:.2f}% of price"
                f" to the stop · model {bm.version}")
        st.markdown(info)
        if bm.skill:
            st.metric("P(success) [%]", f"{last['probability'] * 100:.1f}",
                      help=f"P(price reaches {rule}).")
        else:
            with st.expander("Raw model output (not a signal — the model has no skill)"):
                st.write(f"P(success) = {last['probability']:.1%} vs base rate {base:.1%}.")
    else:
        st.info("No breakout in the selected range.")
    left, right = st.columns(2)
    with left:
        if m.get("reliability"):
            st.plotly_chart(reliability_figure(m["reliability"], base), width="stretch",
                            key="patterns_rel")
    with right:
        st.markdown("**Track record (walk-forward, out of sample)**")
        tr = track_record(md.symbol)
        if len(tr):
            view = tr.tail(200).iloc[::-1].copy()
            view["timestamp"] = view["timestamp"].dt.strftime("%Y-%m-%d")
            view["level"] = view["level"].round(2)
            view["direction"] = view["direction"].map({1: "UP", -1: "DOWN"})
            view["probability [%]"] = (view.pop("probability") * 100).round(1)
            view["base rate [%]"] = (view.pop("base_rate") * 100).round(1)
            view["success"] = view["success"].map({1.0: "yes", 0.0: "no"})
            st.dataframe(view, width="stretch", height=300, hide_index=True)
            st.caption(f"{len(tr)} breakouts of {md.symbol}: success {tr['success'].mean():.1%}.")
        else:
            st.caption(f"No stored walk-forward record for {md.symbol} (only the bundled "
                       f"symbols are in it). Run `quantdesk evaluate breakout --symbol "
                       f"{md.symbol}` for one.")


if md is not None:
    try:
        if len(md.frame) < 60:
            st.warning(f"Only {len(md.frame)} bars: patterns and breakouts need at least 60. "
                       "Choose a longer date range.")
        else:
            bars = st.slider("Bars on the chart", 60, min(1500, len(md.frame)),
                             min(250, len(md.frame)), step=10, key="patterns_bars")
            from core.patterns.rules import PATTERNS

            shown = st.multiselect("Patterns on the chart", list(PATTERNS),
                                   default=[p for p in PATTERNS if p != "doji"],
                                   key="patterns_shown",
                                   help="Doji are frequent (~14% of bars) and hidden by default.")
            ev = _chart(md, bars, shown)
            st.subheader("Latest bar")
            _latest(md)
            st.subheader("Has each pattern mattered here?")
            _edge(md)
            st.subheader("Breakouts")
            _breakout(md, ev)
    except QuantdeskError as err:
        st.error(f"{err}")
