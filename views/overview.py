"""Overview: the live prediction panel of a watchlist, refreshed by itself."""

import datetime as dt

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.config import get_settings
from core.data import BUNDLED_SYMBOLS
from core.errors import QuantdeskError
from ui.layout import page_start, price_chart

sel, md = page_start("Overview", "Live panel: latest bar, forecasts with 80% intervals, "
                     "pattern, volatility regime and a fused signal per watchlist symbol.")
settings = get_settings()
period = max(1, int(settings.refresh_seconds))

c1, c2, c3 = st.columns([3, 1, 1])
watchlist = c1.multiselect("Watchlist", list(BUNDLED_SYMBOLS), default=list(BUNDLED_SYMBOLS),
                           key="ov_watchlist")
paused = c2.toggle("Pause auto-refresh", key="ov_paused",
                   help=f"The panel refreshes every {period} s unless paused.")
replay = c3.toggle("Replay mode", key="ov_replay",
                   help="Walk a bundled symbol's real history forward one bar per refresh, "
                        "so predictions meet their outcomes offline.")
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
    from core.predictors import (PANEL_START_BARS, model_status, refresh_panel, replay_tick,
                                 running_experiments)
    from core.store import record_metric, session_scope
    from core.store.db import utcnow
    from ui.data import cached_market
    from ui.panel import panels_for, replay_frame, step_due, symbol_card

    now = utcnow()
    n = st.session_state.get("ov_refreshes", 0) + 1
    st.session_state["ov_refreshes"] = n
    mode = "paused" if paused else f"auto-refresh every {period} s"
    st.markdown(f"**As of {now:%Y-%m-%d %H:%M:%S} UTC** · refresh #{n} · {mode}")
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
                        m = cached_market(sym, sel.interval, None, None)
                    markets.append(m)
                except QuantdeskError as err:
                    problems.append(f"{sym}: {err}")
            panels, errs, hits, misses = panels_for(markets, running_experiments(session=s))
            res = refresh_panel(markets, session=s, panels=panels)
            if hits:
                record_metric("cache_hits", hits, session=s, detail={"source": "panel"})
            if misses:
                record_metric("cache_misses", misses, session=s, detail={"source": "panel"})
            statuses = {m.family: m.message for m in model_status(session=s)}
            replay_rows = []
            if replay_symbol:
                from core.monitoring import summary_rows

                replay_rows = summary_rows(session=s, symbol=replay_symbol)
    except QuantdeskError as err:
        st.error(f"The panel could not refresh: {err}")
        return
    except SQLAlchemyError as err:  # store locked/unreachable: say so, retry next refresh
        st.error(f"The prediction store is unavailable ({type(err).__name__}); the panel "
                 "retries on the next refresh. Check DATABASE_URL / the data directory.")
        return
    for p in problems + errs + res.errors:
        st.warning(p)
    disabled = [f for f, t in statuses.items() if t.startswith("disabled")]
    if disabled:
        st.warning(f"Disabled by an admin: {', '.join(disabled)}. Their predictions fall back "
                   "to the naive baseline (zero-return forecast).", icon="⚠️")
    st.caption(f"{res.logged} new prediction(s) logged · {res.outcomes} outcome(s) filled · "
               f"{hits} cached / {misses} computed · {res.seconds * 1000:.0f} ms")
    if replay_symbol:
        rm = next((m for m in markets if m.symbol == replay_symbol), None)
        if rm is not None:
            st.info(f"Replay: {replay_symbol} bar {len(rm.frame):,} · {rm.frame.index[-1]:%Y-%m-%d}"
                    " · real bundled history revealed one bar per refresh. Models trained on "
                    "the full history have seen these bars: replay accuracy is in-sample.")
        if replay_rows:
            import pandas as pd

            t = pd.DataFrame(replay_rows)
            t = t[[c for c in ("model_name", "model_version", "kind", "horizon", "n",
                               "n_realised", "directional_accuracy", "baseline_accuracy",
                               "mae", "baseline_mae", "coverage") if c in t]]
            for c in ("directional_accuracy", "baseline_accuracy", "coverage"):
                if c in t:
                    t[c] = (t[c] * 100).round(1)
            t = t.rename(columns={"model_name": "Model", "model_version": "Version",
                                  "kind": "Kind", "horizon": "h [bars]", "n": "Predictions",
                                  "directional_accuracy": "Dir. accuracy [%]",
                                  "baseline_accuracy": "Always-up [%]", "coverage": "Coverage 80 [%]",
                                  "mae": "MAE", "baseline_mae": "Naive MAE",
                                  "n_realised": "Outcomes"})
            st.dataframe(t, hide_index=True, width="stretch")
            st.caption("MAE in the prediction's unit (log return, or variance for "
                       "volatility); naive = zero-return forecast, always-up = the naive "
                       "directional call.")
    cols = st.columns(2)
    for i, sp in enumerate(res.panels):
        with cols[i % 2]:
            symbol_card(sp, statuses)


live_panel()

if md is not None:
    st.subheader(f"{md.symbol} price history")
    price_chart(md, bars=250)
st.caption(f"Page loaded {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC.")
