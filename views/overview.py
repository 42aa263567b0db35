"""Overview: the live prediction panel of a watchlist, refreshed by itself."""

import datetime as dt

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.config import get_settings
from core.data import BUNDLED_SYMBOLS
from core.display import literal, time_literal
from core.errors import QuantdeskError
from core.monitoring import summary_rows
from core.panel.cards import source_notes
from core.panel.predictors import running_experiments
from core.panel.refresh import model_status, refresh_panel, replay_table
from core.panel.replay import PANEL_START_BARS, replay_tick
from core.store import record_metric, session_scope, utcnow
from ui.data import cached_market
from ui.layout import page_start, price_chart
from ui.panel import card_details, panels_for, replay_frame, step_due, symbol_cards
from ui.watchlist import watchlist_widget

sel, md = page_start("Overview", "Live panel: latest bar, forecasts with 80% intervals, "
                     "pattern, volatility regime and a fused signal per watchlist symbol.")
settings = get_settings()
period = max(1, int(settings.refresh_seconds))

# the watchlist editor and the refresh switches sit in popovers: a closed popover's widgets
# are not mounted by the browser (their values are kept), ~0.15 s per visit (issue 15)
row = st.container(horizontal=True)
watchlist = watchlist_widget(row.popover("Watchlist", icon=":material/edit:"), sel.interval)
settings_box = row.popover("Refresh & replay", icon=":material/autorenew:")
paused = settings_box.toggle("Pause auto-refresh", key="ov_paused",
                             help=f"The panel refreshes every {period} s unless paused.")
replay = settings_box.toggle("Replay mode", key="ov_replay",
                             help="Walk a bundled symbol's real history forward one bar per "
                                  "refresh, so predictions meet their outcomes offline.")
replay_symbol = None
if replay:
    r1, r2, r3 = st.columns([2, 1, 1])
    replay_symbol = r1.selectbox("Replayed symbol", list(BUNDLED_SYMBOLS),
                                 index=list(BUNDLED_SYMBOLS).index("MSFT"), key="ov_replay_sym")
    step_now = r2.button("Step one bar", key="ov_step")
    restart = r3.button("Restart replay", key="ov_restart",
                        help="Start again with 300 bars visible.")
else:
    step_now = restart = False


@st.fragment(run_every=None if paused else period)
def live_panel() -> None:
    """The auto-refreshing part: load bars, predict (cached per bar), log, backfill, draw."""

    now = utcnow()
    n = st.session_state.get("ov_refreshes", 0) + 1
    st.session_state["ov_refreshes"] = n
    mode = "paused" if paused else f"auto-refresh every {period} s"
    st.markdown(f"**As of {time_literal(now)} UTC** · refresh #{n} · {mode}")
    if not watchlist:
        st.info("Choose at least one symbol in the watchlist.")
        return
    markets, problems = [], []
    try:
        with session_scope() as s:
            for sym in watchlist:
                try:
                    if sym == replay_symbol:
                        steps = 1 if (step_now or (not paused and step_due("ov_last_step",
                                                                            period))) else 0
                        m = replay_tick(sym, replay_frame(sym, sel.interval), session=s,
                                        interval=sel.interval, steps=steps,
                                        start_bars=PANEL_START_BARS if restart else None)
                    else:
                        m = cached_market(sym, sel.interval, source=sel.source)
                    markets.append(m)
                except QuantdeskError as err:
                    problems.append(f"{sym}: {err}")
            if sel.symbol == "CSV" and md is not None:  # the sidebar's upload joins the panel
                markets.append(md)
            panels, errs, hits, misses = panels_for(markets, running_experiments(session=s))
            res = refresh_panel(markets, session=s, panels=panels)
            if hits:
                record_metric("cache_hits", hits, session=s, detail={"source": "panel"})
            if misses:
                record_metric("cache_misses", misses, session=s, detail={"source": "panel"})
            statuses = {m.family: m.message for m in model_status(session=s)}
            replay_rows = (summary_rows(session=s, symbol=replay_symbol) if replay_symbol
                           else [])
    except QuantdeskError as err:
        st.error(f"The panel could not refresh: {literal(err)}")
        return
    except SQLAlchemyError as err:  # store locked/unreachable: say so, retry next refresh
        st.error(f"The prediction store is unavailable ({type(err).__name__}); the panel "
                 "retries on the next refresh. Check DATABASE_URL / the data directory.")
        return
    for p in problems + errs + res.errors:  # name watchlist symbols and errors: user text
        st.warning(literal(p))
    broken, notices = {}, {}  # per family, once for the page (not per card, not collapsed)
    for sp in res.panels:
        broken.update(sp.broken)
        notices.update(sp.notices)
    for fam, text in broken.items():
        st.error(f"Model {literal(fam)} cannot be served: {literal(text)}", icon="🛠️")
    for fam, text in notices.items():
        st.warning(f"Model {literal(fam)}: {literal(text)}. Check DATABASE_URL / the data "
                   "directory.", icon="⚠️")
    disabled = [f for f, t in statuses.items() if t.startswith("disabled")]
    if disabled:
        st.warning(f"Disabled by an admin: {', '.join(disabled)}. Their predictions fall back "
                   "to the naive baseline (zero-return forecast).", icon="⚠️")
    stale, offline = source_notes(markets)
    if stale:  # not live, though live was asked for: say which and as of when
        st.warning("Not live: " + "  \n".join(literal(x) for x in stale), icon="⏳")
    st.caption("".join(literal(x) + "  \n" for x in offline)
               + f"{res.logged} new prediction(s) logged · {res.outcomes} outcome(s) filled · "
               f"{hits} cached / {misses} computed · {res.seconds * 1000:.0f} ms")
    if replay_symbol:
        rm = next((m for m in markets if m.symbol == replay_symbol), None)
        if rm is not None:
            st.info(f"Replay: {replay_symbol} bar {len(rm.frame):,} · {rm.frame.index[-1]:%Y-%m-%d}"
                    " · real bundled history revealed one bar per refresh. Models trained on "
                    "the full history have seen these bars: replay accuracy is in-sample.")
        if replay_rows:
            st.dataframe(replay_table(replay_rows), hide_index=True, width="stretch")
            st.caption("MAE in the prediction's unit (log return, or variance for "
                       "volatility); naive = zero-return forecast, always-up = the naive "
                       "directional call.")
    symbol_cards(res.panels)
    if res.panels:
        card_details(res.panels, statuses)


# the panel's place comes first on the page, but its run (a store round trip: logging,
# backfill, model status) comes after the price chart is sent, so the browser draws the
# chart while the server works (issue 15); the fragment reruns in place
panel_slot = st.container()
if md is not None:
    st.subheader(f"{literal(md.symbol)} price history")
    price_chart(md, bars=250)
with panel_slot:
    live_panel()
st.caption(f"Page loaded {time_literal(dt.datetime.now(dt.UTC))} UTC.")
