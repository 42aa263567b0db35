"""Risk Sizing page: position-sizing calculator, portfolio risk and sizing-policy backtests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.errors import QuantdeskError
from ui.layout import page_start

TABS = ["Sizing calculator", "Portfolio risk", "Policy backtest", "Methods"]
_tab_q = st.query_params.get("tab")  # read before the sidebar rewrites the query string
_default_tab = {"portfolio": TABS[1], "policy": TABS[2], "methods": TABS[3]}.get(_tab_q)
sel, md = page_start("Risk Sizing", "How much, where is my stop, and what does it do to my "
                     "portfolio. Sizing uses bars up to the last one shown.")
EXAMPLE_PORTFOLIO = pd.DataFrame({"symbol": ["IBM", "GOOG"], "shares": [300.0, 40.0],
                                  "entry": [np.nan, np.nan]})


def _pct(v: float, digits: int = 2) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v * 100:.{digits}f}%"


if md is not None:
    from core.risk.portfolio import (aligned_returns, correlation_risk, empty_holdings,
                                     holdings_to_csv, marginal_effect, parse_holdings,
                                     portfolio_returns, portfolio_risk, position_values, weights)
    from core.risk.sizing import RiskParameters, size_position, summary_frame
    from core.risk.var import var_frame
    from ui.models import serving_key
    from ui.risk import cached_close, cached_dqn, cached_policy_backtest, cached_scorer

    frame = md.frame
    last_close = float(frame["close"].iloc[-1])
    tab_size, tab_port, tab_pol, tab_notes = st.tabs(TABS, default=_default_tab)

    # ---------------- inputs ----------------
    with tab_size:
        c1, c2, c3, c4 = st.columns(4)
        equity = c1.number_input("Equity [$]", min_value=1.0, value=100_000.0, step=1_000.0)
        cash = c1.number_input("Cash [$]", min_value=0.0, value=100_000.0, step=1_000.0)
        risk_pct = c1.number_input("Risk per trade [% equity]", min_value=0.01, max_value=100.0,
                                   value=1.0, step=0.25)
        entry = c2.number_input("Entry price", min_value=0.0, value=round(last_close, 4),
                                help="Default: last close.", format="%.4f")
        direction = c2.radio("Direction", ["long", "short"], horizontal=True)
        horizon = c2.number_input("Horizon [bars]", min_value=1, max_value=250, value=10)
        stop_method = c3.radio("Stop rule", ["atr", "volatility"], horizontal=True,
                               format_func={"atr": "ATR multiple",
                                            "volatility": "Volatility (σ·√h)"}.get)
        stop_mult = c3.number_input("Stop multiple [ATR or σ]", min_value=0.1, value=2.0, step=0.5)
        tp_method = c3.radio("Take profit", ["r_multiple", "forecast"], horizontal=True,
                             format_func={"r_multiple": "R multiple",
                                          "forecast": "Forecast target"}.get)
        r_mult = c3.number_input("R multiple", min_value=0.1, value=2.0, step=0.5,
                                 disabled=tp_method != "r_multiple")
        target_price = c3.number_input("Forecast target price", min_value=0.0,
                                       value=round(last_close * (1.05 if direction == "long"
                                                                 else 0.95), 4),
                                       disabled=tp_method != "forecast", format="%.4f")
        target_vol = c4.number_input("Target volatility [% ann.]", min_value=1.0, max_value=200.0,
                                     value=15.0, step=1.0) / 100
        max_lev = c4.number_input("Max position [x equity]", min_value=0.05, max_value=10.0,
                                  value=1.0, step=0.25)
        kelly_src = c4.selectbox("Kelly inputs", ["History (triple barrier)",
                                                  "Signal-quality model", "Manual"])
        p_in = b_in = None
        if kelly_src == "Manual":
            p_in = c4.number_input("Win probability p [%]", 1.0, 99.0, 50.0) / 100
            b_in = c4.number_input("Payoff ratio b [avg win / avg loss]", 0.05, 20.0, 2.0)

    # ---------------- portfolio editor (shared state) ----------------
    with tab_port:
        st.subheader("Current portfolio")
        st.caption("Edit the table (symbol, shares — negative for shorts —, entry price), or "
                   "import a CSV with columns symbol, shares, entry. The rows below are an "
                   "example; prices come from each symbol's own history.")
        if "risk_holdings" not in st.session_state:
            st.session_state["risk_holdings"] = EXAMPLE_PORTFOLIO.copy()
        up = st.file_uploader("Import portfolio CSV", type=["csv"], key="risk_port_upload")
        if up is not None:
            try:
                st.session_state["risk_holdings"] = parse_holdings(up.getvalue())
            except QuantdeskError as err:
                st.error(str(err))
        edited = st.data_editor(st.session_state["risk_holdings"], num_rows="dynamic",
                                key="risk_port_editor", width="stretch",
                                column_config={
                                    "symbol": st.column_config.TextColumn("Symbol"),
                                    "shares": st.column_config.NumberColumn("Shares", format="%.2f"),
                                    "entry": st.column_config.NumberColumn("Entry price",
                                                                           format="%.4f")})
        try:
            holdings = parse_holdings(edited)
            st.download_button("Export portfolio CSV", holdings_to_csv(holdings),
                               file_name="portfolio.csv", mime="text/csv")
        except QuantdeskError as err:
            st.error(str(err))
            holdings = empty_holdings()

    # ---------------- portfolio data ----------------
    closes: dict[str, pd.Series] = {}
    port_msgs: list[str] = []
    for sym in holdings["symbol"].unique():
        try:
            closes[sym] = (frame["close"] if sym == md.symbol else cached_close(sym, md.interval))
        except QuantdeskError as err:
            port_msgs.append(f"{sym}: {err}")
    held = holdings[holdings["symbol"].isin(closes)]
    w_before = pd.Series(dtype="float64")
    port_rets = None
    if not held.empty:
        try:
            vals = position_values(held, {s: float(c.iloc[-1]) for s, c in closes.items()})
            w_before = weights(vals, equity)
        except QuantdeskError as err:
            port_msgs.append(str(err))

    # ---------------- sizing results ----------------
    with tab_size:
        try:
            params = RiskParameters(
                equity=equity, cash=cash, risk_pct=risk_pct, entry=entry, direction=direction,
                stop_method=stop_method, atr_multiple=stop_mult, vol_multiple=stop_mult,
                take_profit_method=tp_method, r_multiple=r_mult,
                forecast_target=target_price if tp_method == "forecast" else None,
                horizon=int(horizon), target_vol=target_vol, max_leverage=max_lev,
                win_prob=p_in, payoff_ratio=b_in)
            sq_note = None
            if kelly_src == "Signal-quality model":
                scorer, meta = cached_scorer()
                if scorer is None:
                    st.warning(f"Signal-quality model unavailable ({meta}); using history.")
                else:
                    from core.risk.signal_quality import (ATR_MULT, HORIZON, R_MULT,
                                                          score_latest)
                    s = score_latest(frame, direction)
                    params.win_prob = s["probability"]
                    sq_note = (f"Signal-quality model {s['version']}: P(success) = "
                               f"{s['probability']:.1%} → **{s['decision']}** (threshold 60%; "
                               f"training base rate {s['base_rate']:.1%}). Its trade: "
                               f"{ATR_MULT:g} ATR stop, {R_MULT:g} R target, {HORIZON}-bar exit.")
                    wf = meta.get("walk_forward", {})
                    if wf and wf.get("brier", 1) >= wf.get("brier_base", 0):
                        sq_note += (f"  \n⚠️ In walk-forward testing ({wf['years'][0]}-"
                                    f"{wf['years'][1]}, six symbols) this scorer did **not** "
                                    f"beat the base rate: Brier {wf['brier']:.4f} vs "
                                    f"{wf['brier_base']:.4f}, AUC {wf['auc']:.3f}; EXECUTE "
                                    f"trades won {wf['execute_hit_rate']:.0%} vs a "
                                    f"{wf['test_base_rate']:.0%} base rate.")
            res = size_position(frame, params, md.symbol, md.interval)
            if sq_note:
                res.kelly_source = "signal-quality model p; history b"
            if closes and not w_before.empty:
                try:
                    R = aligned_returns({**closes, md.symbol: frame["close"]})
                    port_rets = portfolio_returns(R, w_before)
                    sgn = 1 if direction == "long" else -1
                    res.correlation_risk = sgn * correlation_risk(R[md.symbol], port_rets)
                except QuantdeskError as err:
                    port_msgs.append(str(err))
            m1, m2, m3, m4, m5 = st.columns(5)
            m1.metric("Position [% equity]", f"{res.position_pct_equity:.2f}%",
                      f"{res.shares:,} shares", delta_color="off", delta_arrow="off")
            m2.metric("Stop loss", f"{res.stop_price:,.4g}",
                      f"{(res.stop_price / res.entry - 1) * 100:+.2f}%", delta_color="off", delta_arrow="off")
            m3.metric("Take profit", f"{res.take_profit:,.4g}",
                      f"{(res.take_profit / res.entry - 1) * 100:+.2f}%", delta_color="off", delta_arrow="off")
            m4.metric("Risk at stop [% equity]", f"{res.risk_pct_actual:.2f}%",
                      f"${res.risk_amount:,.0f}", delta_color="off", delta_arrow="off")
            m5.metric("Vol adjustment [x]", f"{res.vol_adjustment:.2f}",
                      f"forecast {res.vol_forecast_ann * 100:.1f}% ann.", delta_color="off", delta_arrow="off")
            if sq_note:
                st.info(sq_note)
            for n in res.notes:
                st.warning(n)
            st.markdown("**All outputs**")
            summ = summary_frame(res, equity)
            st.dataframe(summ, hide_index=True, width="stretch",
                         height=35 * (len(summ) + 1) + 3)
            if True:
                st.markdown(f"**Position VaR / CVaR** (1 bar and {res.horizon} bars; losses "
                            "positive)")
                vf = var_frame(res.var, res.position_value, equity)
                st.dataframe(vf.style.format(precision=2), hide_index=True, width="stretch")
                st.caption("Historical: last 500 bars (overlapping windows for the horizon). "
                           f"Parametric: Gaussian with σ from {res.vol_source}, zero mean, "
                           "√time scaling.")
        except QuantdeskError as err:
            st.error(f"{err}")
            res = None

    # ---------------- portfolio view ----------------
    with tab_port:
        for m in port_msgs:
            st.warning(m)
        if w_before.empty:
            st.info("Add holdings above to see portfolio weights, VaR and risk contributions.")
        else:
            try:
                R = aligned_returns({**closes, md.symbol: frame["close"]})
                st.caption(f"{len(R)} common daily bars {R.index[0].date()} → "
                           f"{R.index[-1].date()} (the histories' overlap).")
                level = st.radio("Confidence", [0.95, 0.99], horizontal=True,
                                 format_func=lambda v: f"{v:.0%}")
                pr = portfolio_risk(R, w_before, level)
                a, b, c, d = st.columns(4)
                a.metric("Gross exposure [% equity]", _pct(w_before.abs().sum(), 1))
                b.metric("Portfolio vol [% ann.]", _pct(pr.ann_vol, 1))
                c.metric(f"VaR {level:.0%} 1-day [% equity]",
                         f"{pr.var_hist * 100:.2f}% hist", f"{pr.var_param * 100:.2f}% param",
                         delta_color="off", delta_arrow="off")
                d.metric(f"CVaR {level:.0%} 1-day [% equity]",
                         f"{pr.cvar_hist * 100:.2f}% hist", f"{pr.cvar_param * 100:.2f}% param",
                         delta_color="off", delta_arrow="off")
                from core.plots.risk import contribution_figure, correlation_heatmap
                l, r = st.columns(2)
                l.plotly_chart(correlation_heatmap(R.corr()), width="stretch",
                               key="risk_corr")
                r.plotly_chart(contribution_figure(pr.contrib_var_param,
                                                   f"Euler contribution to 1-day VaR "
                                                   f"{level:.0%} (parametric)"),
                               width="stretch", key="risk_contrib")
                st.dataframe(pr.contributions_frame().style.format(precision=2),
                             width="stretch")
                if res is not None and res.shares > 0:
                    sgn = 1 if direction == "long" else -1
                    me = marginal_effect(R, w_before, md.symbol,
                                         sgn * res.position_pct_equity / 100, level)
                    st.markdown(f"**Marginal effect of the new {direction} position in "
                                f"{md.symbol}** ({res.position_pct_equity:.1f}% of equity)")
                    st.dataframe(pd.DataFrame({
                        "Before": [me["vol_before"] * 100, me["var_before"] * 100,
                                   me["cvar_before"] * 100],
                        "After": [me["vol_after"] * 100, me["var_after"] * 100,
                                  me["cvar_after"] * 100],
                        "Change": [me["delta_vol"] * 100, me["delta_var"] * 100,
                                   me["delta_cvar"] * 100]},
                        index=["Volatility [% ann.]", f"VaR {level:.0%} hist [% equity]",
                               f"CVaR {level:.0%} hist [% equity]"]).style.format(precision=2),
                        width="stretch")
                    st.caption(f"Correlation of {md.symbol} ({direction}) with the current "
                               f"portfolio: {res.correlation_risk:.2f}")
            except QuantdeskError as err:
                st.warning(str(err))

    # ---------------- policy backtest ----------------
    with tab_pol:
        p1, p2 = st.columns(2)
        tv = p1.number_input("Target volatility [% ann.]", 1.0, 100.0, 15.0, key="pol_tv") / 100
        cost = p2.number_input("Costs [bp per unit turnover]", 0.0, 100.0, 5.0, key="pol_cost")
        agent, dmeta = cached_dqn()
        if agent is None:
            st.warning(f"DQN policy unavailable: {dmeta}")
        else:
            heldout = ", ".join(dmeta.get("heldout_symbols", []))
            if dmeta.get("beats_vol_target"):
                st.success(f"The DQN beat volatility targeting on held-out symbols ({heldout}, "
                           f"from {dmeta.get('test_start')}) and is the default policy.")
            else:
                st.warning(f"The DQN did **not** beat volatility targeting on held-out symbols "
                           f"({heldout}, from {dmeta.get('test_start')}); volatility targeting "
                           "remains the default policy.")
            if md.symbol in dmeta.get("train_symbols", []):
                st.caption(f"{md.symbol} was a DQN training symbol up to "
                           f"{dmeta.get('train_end')}: its DQN results before then are "
                           "in-sample.")
        try:
            table, results = cached_policy_backtest(frame, tv, cost, serving_key("risk-dqn"))
            from core.plots.risk import policy_figure
            st.plotly_chart(policy_figure(results), width="stretch", key="risk_policy")
            show = table.copy()
            pct_cols = ["ann_return", "ann_vol", "max_drawdown", "avg_exposure",
                        "vol_reduction_vs_fixed", "dd_reduction_vs_fixed"]
            show[pct_cols] = show[pct_cols] * 100
            show = show.rename(columns={
                "ann_return": "Ann. return [%]", "ann_vol": "Ann. vol [%]", "sharpe": "Sharpe",
                "sortino": "Sortino", "max_drawdown": "Max DD [%]", "calmar": "Calmar",
                "turnover": "Turnover [x/yr]", "avg_exposure": "Avg exposure [%]",
                "vol_reduction_vs_fixed": "Vol cut vs fixed [%]",
                "dd_reduction_vs_fixed": "DD cut vs fixed [%]"})
            st.dataframe(show.style.format(precision=2), width="stretch")
            st.caption("Walk-forward: exposure decided at the close of bar t from bars <= t, "
                       f"earns bar t+1; {cost:g} bp per unit of turnover; baseline = fixed "
                       "100%. All policies are scored on the same bars (after a 273-bar "
                       "warm-up).")
            if agent is not None and dmeta.get("heldout_metrics"):
                with st.expander("Held-out evaluation of the DQN (from its artifact)"):
                    st.dataframe(pd.DataFrame(dmeta["heldout_metrics"]).round(3),
                                 hide_index=True, width="stretch")
        except QuantdeskError as err:
            st.error(str(err))

    with tab_notes:
        from core.risk import sizing as _s
        st.markdown("### How each output is computed")
        st.markdown(_s.__doc__ or "")
        from core.risk import var as _v
        st.markdown(_v.__doc__ or "")
