"""Screener page: scan a universe for setups, filter, sort, save the screen, export, open a
symbol's pages. ``?universe=NAME&interval=1d`` picks the universe and interval and shows
that universe's latest cached scan, if any, until Scan is pressed."""

import streamlit as st

from core.display import literal
from core.errors import QuantdeskError
from core.screener import filters, synthetic
from core.screener.report import HEADERS, summary
from core.screener.row import COLUMNS
from core.universe import custom, named_universes, parse_tickers, resolve
from ui import screener as scr
from ui.data import session_upload

MY_WATCHLIST, UPLOAD = "watchlist", "upload"
K_UNI, K_INTERVAL, K_FILTERS = "scr_universe", "scr_interval", "scr_filters"
K_SORT, K_DESC, K_SCREEN, K_NAME = "scr_sort", "scr_desc", "scr_screen", "scr_name"
K_OPEN = "scr_filters_open"
MAX_UPLOAD = 1_000_000
INTERVALS = ["1d", "1h", "1wk"]
PAGES = (("views/forecasts.py", "Forecasts"), ("views/patterns.py", "Patterns"),
         ("views/volatility.py", "Volatility"), ("views/risk_sizing.py", "Risk Sizing"))

st.title("Screener")
st.caption("One row per symbol from its last bar: price action, the pattern on the bar with "
           "its measured edge, breakout state, volatility and return forecasts with 80% "
           "intervals (and whether the model beats its naive baseline), cached sentiment and "
           "the fused signal. Filter with 'column OP value' lines, e.g. `rsi_14 < 35`.")

choices = {**named_universes(), MY_WATCHLIST: "My watchlist (Overview)",
           UPLOAD: "Upload a list of tickers…"}
n_synthetic = synthetic.page_size()  # load tests only (QUANTDESK_SYNTHETIC_UNIVERSE)
if n_synthetic:
    choices[synthetic.NAME] = synthetic.universe(n_synthetic).title
url_uni = st.query_params.get("universe")
if url_uni in choices and K_UNI not in st.session_state:  # a link to a universe's screen
    st.session_state[K_UNI] = url_uni
    if st.query_params.get("interval") in INTERVALS:
        st.session_state[K_INTERVAL] = st.query_params["interval"]
c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
uni_key = c1.selectbox("Universe", list(choices), format_func=choices.get, key=K_UNI)
interval = c2.selectbox("Interval", INTERVALS, key=K_INTERVAL)
go = c3.button("Scan", type="primary", width="stretch")
fresh = c4.button("Rescan (no cache)", width="stretch")

universe = None
try:
    if uni_key == UPLOAD:
        up = st.file_uploader("Tickers (one per line, or a CSV with a 'symbol' column)",
                              type=["txt", "csv"], key="scr_upload")
        if up is not None:
            if up.size > MAX_UPLOAD:
                st.error(f"The list is over {MAX_UPLOAD:,} bytes; split it.")
            else:  # parsed once per session, inside its upload budget (ui/data.py)
                syms = session_upload(up, "tickers", lambda b: parse_tickers(
                    b.decode("utf-8", "replace")))
                universe = custom(syms, f"List {up.name[:40]}")
    elif uni_key == MY_WATCHLIST:
        universe = resolve(f"watchlist:{scr.owner()}")
    elif uni_key == synthetic.NAME:
        universe = synthetic.universe(n_synthetic)
    else:
        universe = resolve(uni_key)
except QuantdeskError as err:
    st.warning(literal(err))

if universe is not None and (go or fresh):
    scr.run_scan(universe, interval, fresh=fresh)
elif (universe is not None and uni_key == url_uni and scr.last_result() is None
      and not st.session_state.get("_scr_url_opened")):
    st.session_state["_scr_url_opened"] = True  # looked up once per session
    scr.open_latest(universe, interval)

res = scr.last_result()
if res is None:
    st.info("Pick a universe and press **Scan**. The bundled symbols scan offline in a few "
            "seconds; an index scan downloads bars from Yahoo in batches first.")
    st.stop()

# ---- filters, sort, saved screens ------------------------------------------------------
for k in (K_FILTERS, K_SORT, K_DESC, K_SCREEN, K_NAME):  # kept while the expander is closed
    if k in st.session_state:
        st.session_state[k] = st.session_state[k]
# lazy: its widgets are drawn only while it is open (a third of the page's elements); the
# filters and sort apply either way. It stays as the user left it (a constant `expanded`:
# a changing one would make it another element, reset)
box = st.expander("Filters, sort and saved screens", key=K_OPEN, on_change="rerun")
text = st.session_state.get(K_FILTERS, "")
sort = st.session_state.get(K_SORT, "(none)")
desc = bool(st.session_state.get(K_DESC, False))
pick = st.session_state.get(K_SCREEN, "(none)")
name, save_clicked, delete_clicked = "", False, False
if box.open:
    saved = scr.screens()
    with box:
        s1, s2 = st.columns([3, 2])
        pick = s2.selectbox("Saved screen", ["(none)"] + list(saved), key=K_SCREEN)
        if pick != "(none)" and st.session_state.get("_scr_loaded") != pick:
            spec = saved[pick]
            st.session_state[K_FILTERS] = "\n".join(
                f"{c['column']} {c['op']} {c['value']}" for c in spec.get("conditions", []))
            st.session_state[K_SORT] = spec.get("sort") or "(none)"
            st.session_state[K_DESC] = bool(spec.get("descending"))
            st.session_state["_scr_loaded"] = pick
            st.rerun()
        text = s1.text_area("Filters (one per line, all must hold)", key=K_FILTERS,
                            height=110, placeholder="pattern = hammer\ntrend = down\n"
                                                    "rsi_14 < 35\nvolume_ratio > 1.5")
        sort = s2.selectbox("Sort by", ["(none)"] + list(COLUMNS), key=K_SORT)
        desc = s2.toggle("Descending", key=K_DESC)
        n1, n2, n3 = st.columns([2, 1, 1])
        name = n1.text_input("Screen name", key=K_NAME, max_chars=60)
        save_clicked = n2.button("Save screen", width="stretch")
        delete_clicked = n3.button("Delete screen", width="stretch",
                                   disabled=pick == "(none)")
        st.caption("Columns: " + ", ".join(COLUMNS) + ". Operators: "
                   + " ".join(f"`{op}`" for op in filters.OPS) + " (`~` = contains).")

conds, problem = [], None
try:
    conds = [filters.parse_condition(line) for line in (text or "").splitlines()
             if line.strip()]
    shown, table, csv = scr.table(res, conds, None if sort == "(none)" else sort, desc)
except QuantdeskError as err:
    problem = str(err)
    shown, table, csv = scr.table(res, [])
if problem:
    st.warning(literal(problem))
if save_clicked and not problem:
    stored = scr.save(name, {"universe": res.universe.name, "interval": res.interval,
                             "conditions": filters.to_spec(conds),
                             "sort": None if sort == "(none)" else sort, "descending": desc})
    if stored:
        st.success(f"Saved screen {literal(stored)}.")
if delete_clicked and scr.delete(pick):
    st.session_state.pop("_scr_loaded", None)
    st.rerun()

# ---- the table ---------------------------------------------------------------------------
st.caption(literal(summary(res, len(shown))))
for note in res.notes:
    st.caption(literal(note))
st.dataframe(
    table, hide_index=True, width="stretch", height=min(36 * (len(table) + 1) + 8, 640),
    key="scr_table",
    column_config={"Symbol": st.column_config.LinkColumn(
        "Symbol", display_text=r"symbol=(.*)$", help="Open this symbol's Forecasts page"),
        HEADERS["signal_reasons"]: st.column_config.TextColumn(width="large")})
st.download_button("Export CSV", csv, file_name="screen.csv", mime="text/csv",
                   key="scr_csv")
scored = [s for s, e in zip(shown["symbol"], shown["error"]) if not isinstance(e, str)]
if scored:
    o1, *links = st.columns([2, 1, 1, 1, 1])
    sym = o1.selectbox("Open a symbol", scored, key="scr_open")
    for col, (path, title) in zip(links, PAGES):
        col.page_link(path, label=title, query_params={"symbol": sym}, width="stretch")
errors = shown[shown["error"].notna()]
if len(errors):
    with st.expander(f"{len(errors)} symbol(s) could not be scored"):
        for sym, err in zip(errors["symbol"], errors["error"]):
            st.text(f"{sym}: {err}")
