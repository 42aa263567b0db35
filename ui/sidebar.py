"""The shared sidebar: symbol, interval, data source, date range (and CSV upload), in the URL.

The widgets are bound to URL query parameters (Streamlit's ``bind="query-params"``), so a
view can be shared by copying the address bar, e.g.
``/volatility?symbol=AAPL&start=2010-01-04&end=2012-12-31`` or
``/forecasts?symbol=OTHER&ticker=NVDA&interval=1h``. A parameter equal to its default is left
out of the URL (symbol MSFT, interval 1d, live source, no dates). The symbol box also accepts
a typed ticker, so ``?symbol=NVDA`` works as well as ``?symbol=OTHER&ticker=NVDA``.
``?bundled=true`` picks the bundled history (offline demo) instead of live data.

All of them sit in one sidebar popover labelled with the current selection (``MSFT · 1d``):
a closed popover's widgets are not mounted by the browser, so they cost a visit nothing.
The rarely used inputs (the bundled-history checkbox and the start and end dates) sit in one
"Date range & data source" expander that sends its widgets only when it is opened (issue 15:
fewer elements and widget types for the browser to mount on every visit, see
docs/performance.md). Once the session has a date range or the bundled source (from the URL
or the widgets) they are drawn on every run, open or not, so their values and URL parameters
are kept exactly as before.

``app.py`` draws the sidebar once per run, in the entry point, so the choice also survives
page switches; :func:`sidebar` then returns that run's selection. Run a page file on its own
(an ``AppTest`` of ``views/x.py``) and :func:`sidebar` draws the widgets itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import streamlit as st

from core.data import BUNDLED_LABEL, BUNDLED_SYMBOLS, INTERVALS, MarketData
from core.display import literal
from core.errors import QuantdeskError
from ui.data import cached_market, session_csv

OTHER = "OTHER"
UPLOAD = "CSV"
DEFAULT_SYMBOL = "MSFT"
LABELS = {OTHER: "Other (Yahoo)…", UPLOAD: "Upload CSV…"}
# Keys double as URL query-parameter names (bind="query-params").
K_SYMBOL, K_TICKER, K_INTERVAL, K_START, K_END = "symbol", "ticker", "interval", "start", "end"
K_BUNDLED = "bundled"
K_MORE = "sb_more"  # the "Date range & data source" expander's open state (not in the URL)
MORE_LABEL = "Date range & data source"
_MORE_KEYS = (K_BUNDLED, K_START, K_END)
_MORE_USED = "_qd_sidebar_more_used"
_CURRENT = "_qd_selection_this_run"
MIN_DATE = dt.date(1970, 1, 1)


@dataclass
class Selection:
    """What the sidebar selected.

    Attributes:
        symbol: upper-case ticker; ``"CSV"`` for an uploaded file.
        interval: yfinance-style bar interval (``1d``, ``1h``, ...).
        start, end: inclusive date range, None for "from the first" / "to the last" bar.
        csv_name: the uploaded file's name (only when ``symbol == "CSV"``), else None.
        csv_bytes: the file's bytes, for a selection made in code (a test, a script).
        csv_file: the sidebar's ``UploadedFile``, read only the first time it is parsed
            (:func:`ui.data.session_csv`), so no copy of its bytes is made per rerun.
        problem: why no bars can be loaded for this choice (e.g. start after end), else None.
        source: ``auto`` (live first, bundled when offline) or ``bundled`` (offline demo).
    """

    symbol: str
    interval: str
    start: dt.date | None
    end: dt.date | None
    csv_name: str | None = None
    csv_bytes: bytes | None = field(default=None, repr=False)
    problem: str | None = None
    source: str = "auto"
    csv_file: object | None = field(default=None, repr=False)


def _label() -> str:
    """The popover's label: the selection as the widgets will read it this run (a changed
    widget's value is in the session state before the run starts; else the URL's, else the
    default), e.g. ``MSFT · 1d`` or ``NVDA · 1h · from 2020-01-02``. Shown as plain text."""
    def value(key, default=""):
        v = st.session_state.get(key)
        v = st.query_params.get(key) if v is None else v
        return default if v is None or v == "" else v
    symbol = str(value(K_SYMBOL, DEFAULT_SYMBOL)).strip().upper()
    if symbol == OTHER:
        symbol = str(value(K_TICKER)).strip().upper() or "Other ticker"
    elif symbol == UPLOAD:
        symbol = "Uploaded CSV"
    parts = [symbol, str(value(K_INTERVAL, "1d"))]
    start, end = value(K_START), value(K_END)
    if start:
        parts.append(f"from {start}")
    if end:
        parts.append(f"to {end}")
    if str(value(K_BUNDLED)).lower() in ("true", "1"):
        parts.append("bundled")
    return literal(" · ".join(parts)[:80])


def draw_sidebar() -> Selection:
    """Draw the selection widgets in the sidebar and return the selection (never raises).

    They sit in one popover whose label is the current selection: a closed popover's widgets
    are not mounted by the browser (their values and URL parameters are kept), which saves
    ~0.1 s on every visit of every market page (issue 15, docs/performance.md). The CSV
    uploader, drawn only for "Upload CSV…", sits under the popover, in sight."""
    sb = st.sidebar.popover(_label(), icon=":material/candlestick_chart:", width="stretch",
                            help="Symbol, interval, date range and data source")
    options = list(BUNDLED_SYMBOLS) + [OTHER, UPLOAD]
    choice = sb.selectbox("Symbol", options, index=options.index(DEFAULT_SYMBOL),
                          format_func=lambda o: LABELS.get(o, o), key=K_SYMBOL,
                          bind="query-params", accept_new_options=True,
                          help="Bundled daily history works offline. Type any Yahoo Finance "
                               "ticker here or pick 'Other' (online only); 'Upload CSV' reads "
                               "your own bars.")
    csv_name = csv_file = problem = None
    if choice == OTHER:
        ticker = sb.text_input("Ticker (Yahoo Finance)", key=K_TICKER, bind="query-params",
                               placeholder="e.g. NVDA, BTC-USD, ^FTSE", max_chars=24)
        symbol = ticker.strip().upper()
        if not symbol:
            problem = "Type a ticker in the sidebar (e.g. NVDA), or pick a bundled symbol."
    elif choice == UPLOAD:
        symbol = "CSV"
        # under the popover, not in it: the uploader and its file stay in sight
        up = st.sidebar.file_uploader("OHLCV CSV", type=["csv"], key="sb_upload",
                              help="Columns: Date, Open, High, Low, Close, [Adj Close], Volume")
        if up is None:
            problem = ("Upload a CSV with Date, Open, High, Low, Close and Volume columns in "
                       "the sidebar.")
        else:
            csv_name, csv_file = up.name, up
    else:
        symbol = str(choice).strip().upper()  # a bundled symbol or a typed ticker
    interval = sb.selectbox("Interval", list(INTERVALS), index=list(INTERVALS).index("1d"),
                            key=K_INTERVAL, bind="query-params",
                            help="Only daily (1d) history is bundled; other intervals need "
                                 "Yahoo Finance (online).")
    bundled, start, end = False, None, None
    more = sb.expander(MORE_LABEL, key=K_MORE, on_change="rerun",
                       icon=":material/date_range:")
    if more.open or _more_in_use():
        bundled = more.checkbox(BUNDLED_LABEL, key=K_BUNDLED, bind="query-params",
                                help="Show the daily history shipped with Quantdesk (it ends "
                                     "years ago) instead of live Yahoo Finance data. Unticked, "
                                     "the desk still falls back to it when Yahoo cannot be "
                                     "reached.")
        today = dt.date.today()
        start = more.date_input("Start", value=None, min_value=MIN_DATE, max_value=today,
                                key=K_START, bind="query-params", help="Empty: the first bar.")
        end = more.date_input("End", value=None, min_value=MIN_DATE, max_value=today,
                              key=K_END, bind="query-params", help="Empty: the last bar.")
    if start and end and start > end and problem is None:
        problem = f"The start date {start} is after the end date {end}: swap or clear them."
    return Selection(symbol, interval, start or None, end or None, csv_name, None, problem,
                     "bundled" if bundled else "auto", csv_file)


def _more_in_use() -> bool:
    """True once this session has had a date range or the bundled source (in the URL or in
    the widgets): from then on the expander's widgets are drawn on every run, so a value is
    never dropped by closing it (a bound widget that is not drawn loses its URL parameter)."""
    if st.session_state.get(_MORE_USED):
        return True
    used = any(st.query_params.get(k) or st.session_state.get(k) for k in _MORE_KEYS)
    if used:
        st.session_state[_MORE_USED] = True
    return used


def begin_run(sel: Selection) -> None:
    """Remember the entry point's selection for this script run (see :func:`sidebar`)."""
    st.session_state[_CURRENT] = sel


def end_run() -> None:
    """Forget this run's selection (app.py calls it in a ``finally``)."""
    st.session_state.pop(_CURRENT, None)


def sidebar() -> Selection:
    """The current selection: the one ``app.py`` drew this run, else draw the widgets now."""
    sel = st.session_state.get(_CURRENT)
    return sel if isinstance(sel, Selection) else draw_sidebar()


def market_data(sel: Selection) -> MarketData | None:
    """Load the selection's bars; on failure show the reason and return None (never raise)."""
    if sel.problem:
        (st.info if sel.symbol in ("", "CSV") else st.error)(literal(sel.problem))
        return None
    try:
        if sel.symbol == "CSV":
            stem = (sel.csv_name or "CSV").rsplit(".", 1)[0]
            name = "".join(ch for ch in stem.upper() if ch.isalnum() or ch in "-_.^")[:12]
            upload = sel.csv_file if sel.csv_file is not None else sel.csv_bytes or b""
            return session_csv(upload, name or "CSV")
        return cached_market(sel.symbol, sel.interval, sel.start, sel.end, sel.source)
    except QuantdeskError as err:
        st.error(literal(err))
    except Exception as err:  # a page must never raise: say what failed, keep the app up
        st.error(literal(f"Could not load {sel.symbol} {sel.interval}: "
                         f"{type(err).__name__}: {err}"))
    return None


def status_line(md: MarketData) -> None:
    """One caption line: source, bars, as-of; what serves when the data are not live (a
    warning when the live source failed, else a note); validation notes."""
    if md.fallback:
        if md.stale:
            why = md.notes[0] if md.notes and md.notes[0] != md.fallback else ""
            st.warning(literal(f"Stale data: {md.fallback} {why}".strip()))
        else:
            st.info(literal(md.fallback))
    elif md.stale:
        st.warning(f"Stale data as of {md.as_of:%Y-%m-%d %H:%M} UTC — the live source failed.")
    st.caption(literal(md.status_line))
    notes = [n for n in md.notes if n != md.fallback]
    if notes:
        # drawn only once opened (``on_change="rerun"``): a closed expander's content is
        # still mounted by the browser on every visit of every page (issue 15)
        box = st.expander(f"{len(notes)} data note(s)", key="data_notes", on_change="rerun")
        if box.open:
            with box:
                st.markdown("\n".join("- " + literal(n) for n in notes))
