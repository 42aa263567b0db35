"""Risk Sizing page: position-sizing calculator, portfolio risk and sizing-policy backtests."""

from __future__ import annotations

import streamlit as st

from core.display import literal
from core.errors import QuantdeskError
from core.plots.risk import (LEVEL_BARS, contribution_figure, correlation_heatmap, policy_figure,
                             trade_levels_figure)
from core.risk import report, signal_quality, sizing
from core.risk import var as var_notes
from core.risk.book import example_holdings
from core.risk.portfolio import empty_holdings, holdings_to_csv, parse_holdings
from core.risk.sizing import RiskParameters, default_entry, default_target, summary_frame
from core.risk.var import var_frame
from ui.data import session_upload
from ui.figures import cached_figure, chart
from ui.layout import page_start
from ui.models import serving_key
from ui.risk import (book_closes, cached_book_returns, cached_book_risk, cached_book_weights,
                     cached_dqn, cached_marginal_effect, cached_policy_backtest, cached_scorer,
                     cached_signal_score, size_trade)
from ui.widgets import follow_default, kept_input, lazy_tabs, metric_row, small_table

LEVELS = [0.95, 0.99]
K_HOLDINGS = "risk_holdings"  # the table the portfolio editor starts from
K_EDITED = "_risk_holdings_edited"  # what the editor showed on its last run
#: ``?tab=portfolio|policy|methods`` opens that tab
TABS = {"sizing": "Sizing calculator", "portfolio": "Portfolio risk",
        "policy": "Policy backtest", "methods": "Methods"}
POPOVERS = [("Account & risk", ":material/account_balance:"),
            ("Entry & horizon", ":material/login:"),
            ("Stop & take profit", ":material/logout:"),
            ("Limits & Kelly", ":material/tune:")]
sel, md = page_start("Risk Sizing", "How much, where is my stop, and what does it do to my "
                     "portfolio. Sizing uses bars up to the last one shown.")


if md is not None:
    frame = md.frame
    # the policy backtest, the portfolio editor and its risk figures are computed and sent
    # only while their tab is open: a tab click reruns the page (issue 15); the sizing form
    # is always drawn, so its values are kept
    tab_size, tab_port, tab_pol, tab_notes = lazy_tabs(TABS, key="risk_tab")

    # ---------------- inputs ----------------
    with tab_size:
        # four popovers: a closed popover's inputs are not mounted by the browser (their
        # values are kept), ~0.1 s per visit for these 14 inputs (issue 15); the line under
        # them shows the current values
        c1, c2, c3, c4 = (col.popover(label, icon=icon, width="stretch") for col, (label, icon)
                          in zip(st.columns(4), POPOVERS))
        equity = c1.number_input("Equity [$]", min_value=1.0, value=100_000.0, step=1_000.0,
                                 key="risk_equity")
        cash = c1.number_input("Cash [$]", min_value=0.0, value=100_000.0, step=1_000.0,
                               key="risk_cash")
        risk_pct = c1.number_input("Risk per trade [% equity]", min_value=0.01, max_value=100.0,
                                   value=1.0, step=0.25, key="risk_pct")
        follow_default("risk_entry", default_entry(frame))
        entry = c2.number_input("Entry price", min_value=0.0, help="Default: last close.",
                                format="%.4f", key="risk_entry")
        direction = c2.radio("Direction", ["long", "short"], horizontal=True,
                             key="risk_direction")
        horizon = c2.number_input("Horizon [bars]", min_value=1, max_value=250, value=10,
                                  key="risk_horizon")
        stop_method = c3.radio("Stop rule", ["atr", "volatility"], horizontal=True,
                               format_func={"atr": "ATR multiple",
                                            "volatility": "Volatility (σ·√h)"}.get,
                               key="risk_stop_method")
        stop_mult = c3.number_input("Stop multiple [ATR or σ]", min_value=0.1, value=2.0, step=0.5,
                                    key="risk_stop_mult")
        tp_method = c3.radio("Take profit", ["r_multiple", "forecast"], horizontal=True,
                             format_func={"r_multiple": "R multiple",
                                          "forecast": "Forecast target"}.get,
                             key="risk_tp_method")
        r_mult = c3.number_input("R multiple", min_value=0.1, value=2.0, step=0.5,
                                 disabled=tp_method != "r_multiple", key="risk_r_mult")
        follow_default("risk_target", default_target(frame, direction))
        target_price = c3.number_input("Forecast target price", min_value=0.0,
                                       disabled=tp_method != "forecast", format="%.4f",
                                       key="risk_target")
        target_vol = c4.number_input("Target volatility [% ann.]", min_value=1.0, max_value=200.0,
                                     value=15.0, step=1.0, key="risk_target_vol") / 100
        max_lev = c4.number_input("Max position [x equity]", min_value=0.05, max_value=10.0,
                                  value=1.0, step=0.25, key="risk_max_lev")
        kelly_src = c4.selectbox("Kelly inputs", ["History (triple barrier)",
                                                  "Signal-quality model", "Manual"],
                                 key="risk_kelly_src")
        p_in = b_in = None
        if kelly_src == "Manual":
            p_in = c4.number_input("Win probability p [%]", 1.0, 99.0, 50.0,
                                   key="risk_win_prob") / 100
            b_in = c4.number_input("Payoff ratio b [avg win / avg loss]", 0.05, 20.0, 2.0,
                                   key="risk_payoff")

    # ---------------- portfolio editor (shared state) ----------------
    with tab_port:
        if K_HOLDINGS not in st.session_state:
            st.session_state[K_HOLDINGS] = example_holdings()
        if tab_port.open:
            st.subheader("Current portfolio")
            st.caption("Edit the table (symbol, shares — negative for shorts —, entry price), "
                       "or import a CSV with columns symbol, shares, entry. The rows below "
                       "are an example; prices come from each symbol's own history.")
            up = st.file_uploader("Import portfolio CSV", type=["csv"], key="risk_port_upload")
            if up is not None:
                try:
                    # parsed once per session, under its upload budget (ui/data.py)
                    st.session_state[K_HOLDINGS] = session_upload(
                        up, "portfolio", parse_holdings).copy()
                except QuantdeskError as err:
                    st.error(literal(err))
            edited = st.data_editor(st.session_state[K_HOLDINGS], num_rows="dynamic",
                                    key="risk_port_editor", width="stretch",
                                    column_config={
                                        "symbol": st.column_config.TextColumn("Symbol"),
                                        "shares": st.column_config.NumberColumn(
                                            "Shares", format="%.2f"),
                                        "entry": st.column_config.NumberColumn(
                                            "Entry price", format="%.4f")})
            st.session_state[K_EDITED] = edited
        else:
            # the editor is drawn only while its tab is open (a grid costs every visit ~0.1 s
            # even in a hidden tab, issue 15); its rows size the trade on every tab, so the
            # edited table is kept and becomes the table the editor starts from next time
            if K_EDITED in st.session_state:
                st.session_state[K_HOLDINGS] = st.session_state.pop(K_EDITED)
            edited = st.session_state[K_HOLDINGS]
        try:
            holdings = parse_holdings(edited)
            if tab_port.open:
                st.download_button("Export portfolio CSV", holdings_to_csv(holdings),
                                   file_name="portfolio.csv", mime="text/csv")
        except QuantdeskError as err:
            st.error(literal(err))
            holdings = empty_holdings()

    # ---------------- portfolio data ----------------
    closes, port_msgs = book_closes(holdings["symbol"].unique(), md)
    w_before, problems = cached_book_weights(holdings, closes, equity)
    port_msgs += problems

    # ---------------- sizing results ----------------
    with tab_size:
        try:
            sq_score = sq_note = None
            if kelly_src == "Signal-quality model":
                scorer, meta = cached_scorer()
                if scorer is None:
                    st.warning(f"Signal-quality model unavailable ({literal(meta)}); using "
                               "history.")
                else:
                    sq_score = cached_signal_score(frame, direction,
                                                   serving_key(signal_quality.FAMILY))
                    sq_note = report.signal_quality_note(sq_score, meta)
            params = RiskParameters(
                equity=equity, cash=cash, risk_pct=risk_pct, entry=entry, direction=direction,
                stop_method=stop_method, atr_multiple=stop_mult, vol_multiple=stop_mult,
                take_profit_method=tp_method, r_multiple=r_mult,
                forecast_target=target_price if tp_method == "forecast" else None,
                horizon=int(horizon), target_vol=target_vol, max_leverage=max_lev,
                win_prob=sq_score["probability"] if sq_score else p_in, payoff_ratio=b_in,
                win_prob_source="signal-quality model" if sq_score else None)
            st.caption(report.inputs_line(params, kelly_src))
            res, problems = size_trade(frame, params, md.symbol, md.interval, closes, w_before)
            port_msgs += problems
            metric_row(report.sizing_metrics(res))
            chart(cached_figure(trade_levels_figure, frame, res.entry, res.stop_price,
                                res.take_profit,
                                f"{md.symbol} · last {LEVEL_BARS} bars"),
                  key="risk_levels")
            if sq_note:
                st.info(sq_note)
            for n in res.notes:
                st.warning(literal(n))
            st.markdown("**All outputs**")
            small_table(summary_frame(res, equity))
            st.markdown(f"**Position VaR / CVaR** (1 bar and {res.horizon} bars; losses "
                        "positive)")
            vf = var_frame(res.var, res.position_value, equity)
            small_table(vf, precision=2)
            st.caption("Historical: last 500 bars (overlapping windows for the horizon). "
                       f"Parametric: Gaussian with σ from {res.vol_source}, zero mean, "
                       "√time scaling.")
        except QuantdeskError as err:
            st.error(literal(err))
            res = None

    # ---------------- portfolio view ----------------
    with tab_port:
        for m in port_msgs:
            st.warning(literal(m))
        if w_before.empty:
            st.info("Add holdings above to see portfolio weights, VaR and risk contributions.")
        elif tab_port.open:  # the editor above is always drawn (its rows size the trade)
            try:
                R = cached_book_returns({**closes, md.symbol: frame["close"]})
                st.caption(report.overlap_caption(R))
                # kept across the runs without this tab, which drop the widget's own state
                level = kept_input(True, st.radio, "Confidence", options=LEVELS, value=0.95,
                                   horizontal=True, format_func=lambda v: f"{v:.0%}",
                                   key="risk_level")
                pr = cached_book_risk(R, w_before, level)
                metric_row(report.book_metrics(pr))
                left, right = st.columns(2)
                chart(cached_figure(correlation_heatmap, R.corr()), key="risk_corr", where=left)
                chart(cached_figure(contribution_figure, pr.contrib_var_param,
                                    f"Euler contribution to 1-day VaR "
                                    f"{level:.0%} (parametric)"),
                      key="risk_contrib", where=right)
                st.dataframe(pr.contributions_frame().style.format(precision=2),
                             width="stretch")
                if res is not None and res.shares > 0:
                    me = cached_marginal_effect(R, w_before, res, level)
                    st.markdown(f"**Marginal effect of the new {direction} position in "
                                f"{literal(md.symbol)}** ({res.position_pct_equity:.1f}% of "
                                "equity)")
                    st.dataframe(report.marginal_effect_table(me, level)
                                 .style.format(precision=2), width="stretch")
                    st.caption(f"Correlation of {literal(md.symbol)} ({direction}) with "
                               f"the current portfolio: {res.correlation_risk:.2f}")
            except QuantdeskError as err:
                st.warning(literal(err))

    # ---------------- policy backtest ----------------
    # drawn only while its tab is open (like the methods below: a hidden tab's elements
    # cost every visit browser time, issue 15); its two inputs keep their values
    with tab_pol:
        if tab_pol.open:
            p1, p2 = st.columns(2)
            tv = kept_input(True, p1.number_input, "Target volatility [% ann.]", min_value=1.0,
                            max_value=100.0, value=15.0, key="pol_tv") / 100
            cost = kept_input(True, p2.number_input, "Costs [bp per unit turnover]", min_value=0.0,
                              max_value=100.0, value=5.0, key="pol_cost")
            agent, dmeta = cached_dqn()
            if agent is None:
                st.warning(f"DQN policy unavailable: {literal(dmeta)}")
            else:
                heldout = literal(", ".join(map(str, dmeta.get("heldout_symbols", []))))
                test_start = literal(dmeta.get("test_start"))
                if dmeta.get("beats_vol_target"):
                    st.success(f"The DQN beat volatility targeting on held-out symbols ({heldout}, "
                               f"from {test_start}) and is the default policy.")
                else:
                    st.warning(f"The DQN did **not** beat volatility targeting on held-out symbols "
                               f"({heldout}, from {test_start}); volatility targeting "
                               "remains the default policy.")
                if md.symbol in dmeta.get("train_symbols", []):
                    st.caption(f"{literal(md.symbol)} was a DQN training symbol up to "
                               f"{literal(dmeta.get('train_end'))}: its DQN results before then "
                               "are in-sample.")
            try:
                table, results = cached_policy_backtest(frame, tv, cost, serving_key("risk-dqn"))
                chart(cached_figure(policy_figure, results), key="risk_policy")
                st.dataframe(report.policy_table(table).style.format(precision=2), width="stretch")
                st.caption("Walk-forward: exposure decided at the close of bar t from bars <= t, "
                           f"earns bar t+1; {cost:g} bp per unit of turnover; baseline = fixed "
                           "100%. All policies are scored on the same bars (after a 273-bar "
                           "warm-up).")
                heldout_table = report.heldout_table(dmeta) if agent is not None else None
                if heldout_table is not None:
                    with st.expander("Held-out evaluation of the DQN (from its artifact)"):
                        st.dataframe(heldout_table, hide_index=True, width="stretch")
            except QuantdeskError as err:
                st.error(literal(err))

    with tab_notes:
        if tab_notes.open:
            st.markdown("### How each output is computed")
            st.markdown(sizing.__doc__ or "")
            st.markdown(var_notes.__doc__ or "")
