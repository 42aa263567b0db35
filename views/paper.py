"""Paper Book page: forward-test the desk's signals, a strategy (followed bar by bar) or your
own clicks on a simulated book. Orders fill at the next bar's open with costs; positions are marked at each close.
Simulated only: no order is ever sent to a broker."""

import pandas as pd
import streamlit as st

from core.display import literal
from core.paper import book as bk
from core.paper import desk, follow
from core.store import paper as store
from core.strategy.spec import DEFAULT_EXAMPLE, example_strategies
from ui.figures import chart
from ui.layout import page_start
from ui.paper import account_figure, cached_panel, store_call
from ui.strategy import load_example

K_QTY, K_PRED = "pb_qty", "prediction"
_pred_q = st.query_params.get(K_PRED)  # read before the sidebar rewrites the query string
sel, md = page_start("Paper Book", "Forward-test the desk's signal or your own orders: each "
                     "order fills at the next bar's open after costs and the book is marked "
                     "at every close.")
st.info(desk.SIMULATED)


def _money(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:,.2f}"


def _prediction(pred_id: str) -> None:
    try:
        pid = int(pred_id)
    except ValueError:
        st.warning(literal(f"{pred_id[:20]!r} is not a prediction id."))
        return
    p = store_call(lambda _o, session: desk.prediction_dict(pid, session=session))
    if p is None:
        st.warning(literal(f"No logged prediction #{pid}."))
        return
    with st.container(border=True):
        st.subheader(literal(f"Prediction #{p['id']} that caused an order"))
        st.write(literal(f"{p['model']} {p['version']} on {p['symbol']} {p['interval']}: "
                         f"{p['kind']} over {p['horizon']} bar(s) from the bar of "
                         f"{p['origin_ts'][:10]}, value {p['value']:+.5f}"
                         + (f" (80% {p['lower']:+.5f} .. {p['upper']:+.5f})"
                            if p["lower"] is not None and p["upper"] is not None else "")))


if _pred_q:
    _prediction(str(_pred_q))

if md is None:
    st.stop()

replay = desk.is_replay(md)
sym = md.symbol
if not replay:  # live: new bars are marked as they arrive (a followed strategy decides)
    store_call(lambda o, session: follow.step(o, md, session=session))

# --- orders ---------------------------------------------------------------------------
with st.container(border=True):
    st.subheader(literal(f"Trade {sym} on paper"))
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 3, 3], vertical_alignment="bottom")
    qty = c1.number_input("Quantity [units]", min_value=1, max_value=10_000_000, value=10,
                          step=1, key=K_QTY)
    buy = c2.button("Buy", type="primary", width="stretch")
    sell = c3.button("Sell", width="stretch")
    follow_desk = c4.button("Follow the desk's signal for this symbol", width="stretch")
    step = c5.button("Advance one bar (replay)", width="stretch") if replay else False
    if buy or sell:
        o = store_call(lambda ow, session: desk.order_dict(desk.place_order(
            ow, md, "buy" if buy else "sell", qty, session=session)))
        if o is not None:
            st.success(literal(f"Order #{o['id']}: {o['side']} {o['quantity']:g} {sym} placed "
                               f"at the bar of {o['placed_at'][:10]}; it fills at the next "
                               "bar's open."))
    if follow_desk:
        def _follow(ow, session):
            return desk.follow_signal(ow, md, session=session, panel_fn=cached_panel)
        d = store_call(_follow)
        if d is not None:
            st.success(literal(f"Desk signal at the bar of {d.bar_ts:%Y-%m-%d}: {d.message}"))
            if d.reasons:
                with st.expander("Why the desk says so"):
                    for r in d.reasons:
                        st.write("• " + literal(r))
    if step:
        done = store_call(lambda ow, session: follow.step(ow, md, session=session, steps=1))
        if done is not None:
            a, decisions = done
            if a.bars == 0:
                st.info("The replay is at the end of the bundled history.")
            for f in a.fills:
                st.success(literal(f"Filled: {f.side} {f.quantity:g} {sym} at {f.price:,.4f} "
                                   f"(open {f.open:,.4f} plus costs) on {f.ts:%Y-%m-%d}, "
                                   f"commission {f.commission:,.2f}."))
            for d in decisions:
                st.info(literal(f"Strategy at the bar of {d.bar_ts:%Y-%m-%d}: {d.message}"))
    pos = store_call(lambda ow, session: store.get_position(ow, sym, session=session))
    if pos is not None:
        st.caption(literal(
            f"The book has seen {sym} up to the bar of {pos.last_ts:%Y-%m-%d} (close "
            f"{pos.last_price:,.2f}); a new order fills at the next bar's open. "
            + ("Replay of the bundled history: advance one bar at a time."
               if replay else "Live: bars are marked as they arrive.")))
    elif replay:
        st.caption(literal(f"Replay of the bundled history: the book starts "
                           f"{desk.REPLAY_BARS} bars before its end."))

# --- a strategy to follow -------------------------------------------------------------
with st.container(border=True):
    st.subheader(literal(f"Follow a strategy on {sym}"))
    files = example_strategies()
    following = store_call(lambda ow, session: store.get_strategy(ow, sym, session=session))
    if following is not None:
        st.write(literal(f"The book follows {following.name} on {sym} since the bar of "
                         f"{following.started_ts:%Y-%m-%d}: at every new bar it takes the "
                         "strategy's decision, exactly as the Strategy Lab's tester would on "
                         "the same bars (orders fill at the next open with this book's costs)."))
        if st.button("Stop following (the position stays)", key="pb_unfollow"):
            if store_call(lambda ow, session: follow.unfollow(ow, sym, session=session)):
                st.rerun()
    elif files:
        g1, g2 = st.columns([3, 2], vertical_alignment="bottom")
        stems = list(files)
        stem = g1.selectbox("Strategy", stems, key="pb_strategy",
                            index=stems.index(DEFAULT_EXAMPLE) if DEFAULT_EXAMPLE in stems else 0,
                            help="Strategy files shipped in strategies/; edit and test one in "
                                 "the Strategy Lab, then follow it from there.")
        if g2.button("Follow it from this bar", key="pb_follow", width="stretch"):
            def _follow_strategy(ow, session):
                spec = load_example(str(files[stem]), files[stem].stat().st_mtime)
                return follow.follow_strategy(ow, md, spec, session=session)
            d = store_call(_follow_strategy)
            if d is not None:
                st.success(literal(f"Following {d.strategy} from the bar of "
                                   f"{d.bar_ts:%Y-%m-%d}: {d.message}"))
    else:
        st.caption("No strategy files in strategies/.")

# --- the account ----------------------------------------------------------------------
status = store_call(lambda ow, session: desk.status(ow, session=session))
if status is None:
    st.stop()
m = st.columns(6)
m[0].metric("Equity", _money(status["equity"]),
            f"{status['total_pnl']:+,.2f}", delta_color="normal")
m[1].metric("Cash", _money(status["cash"]))
m[2].metric("Realised P&L", _money(status["realised_pnl"]), help="Net of commissions.")
m[3].metric("Unrealised P&L", _money(status["unrealised_pnl"]),
            help="Open positions at the last marked close, against their average cost.")
m[4].metric("Drawdown", f"{100 * status['drawdown']:.2f}%",
            help=f"Worst so far {100 * status['max_drawdown']:.2f}%.")
m[5].metric("Exposure", "–" if status["exposure"] is None else
            f"{100 * status['exposure']:.1f}%", help="Gross position value / equity.")
st.caption(literal(f"Costs per fill: commission {status['costs']['commission_bp']:g} bp, half "
                   f"of a {status['costs']['spread_bp']:g} bp spread, slippage "
                   f"{status['costs']['slippage_bp']:g} bp. Signal orders size "
                   f"{100 * status['fraction']:g}% of equity; SELL goes "
                   f"{'short' if status['allow_short'] else 'flat'}."))

marks = store_call(lambda ow, session: bk.marks_frame(store.list_marks(ow, session=session)))
if marks is not None and len(marks) > 1:
    chart(account_figure(marks, status["initial_cash"]), key="pb_account")
elif marks is not None:
    st.caption("The equity curve appears once the book has marked two bars.")

tab_pos, tab_orders = st.tabs(["Positions", "Orders and trades"])
with tab_pos:
    if status["positions"]:
        st.dataframe(pd.DataFrame([{
            "Symbol": p["symbol"], "Quantity": p["quantity"], "Avg cost": p["avg_price"],
            "Last close": p["last_price"], "Bar": p["last_bar"][:10],
            "Value": p["market_value"], "Unrealised P&L": p["unrealised_pnl"],
            "Realised P&L": p["realised_pnl"]} for p in status["positions"]]),
            hide_index=True, width="stretch")
    else:
        st.caption("No positions yet.")
with tab_orders:
    orders = store_call(lambda ow, session: [desk.order_dict(o) for o in
                                             store.list_orders(ow, session=session,
                                                               limit=500)])
    if orders:
        st.dataframe(pd.DataFrame([{
            "#": o["id"], "Symbol": o["symbol"], "Side": o["side"], "Quantity": o["quantity"],
            "Reason": o["reason"] + (f" ({o['signal']})" if o["signal"] else ""),
            "Placed at bar": o["placed_at"][:10], "Status": o["status"],
            "Fill bar": (o["fill_ts"] or "")[:10], "Fill price": o["fill_price"],
            "Commission": o["commission"],
            "Prediction": (f"/paper?prediction={o['prediction_id']}"
                           if o["prediction_id"] else None)} for o in reversed(orders)]),
            hide_index=True, width="stretch",
            column_config={"Prediction": st.column_config.LinkColumn(
                "Prediction", display_text=r"prediction=(\d+)",
                help="The logged prediction that caused a signal order.")})
    else:
        st.caption("No orders yet.")

with st.expander("Book settings (starts the book again)"), st.form("pb_reset"):
    f1, f2, f3, f4 = st.columns(4)
    cash = f1.number_input("Starting cash", 1_000.0, 1e9, 100_000.0, step=1_000.0)
    comm = f2.number_input("Commission [bp]", 0.0, 500.0, 1.0)
    spread = f3.number_input("Spread [bp] (half per fill)", 0.0, 500.0, 2.0)
    slip = f4.number_input("Slippage [bp]", 0.0, 500.0, 1.0)
    g1, g2 = st.columns(2)
    frac = g1.slider("Signal position [% of equity]", 1, 100, 50)
    short = g2.checkbox("SELL signals go short (else flat)")
    if st.form_submit_button("Reset the paper book"):
        done = store_call(lambda ow, session: store.reset_account(
            ow, session=session, cash=cash, commission_bp=comm, spread_bp=spread,
            slippage_bp=slip, fraction=frac / 100, allow_short=short))
        if done is not None:
            st.rerun()
