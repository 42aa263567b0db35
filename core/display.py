"""Display records shared by the domains' ``report`` modules (what a page shows, computed in
core and only laid out by the page)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Metric:
    """One headline figure: ``label``, ``value`` text, an optional second figure shown under
    it (``delta`` text) and an optional tooltip (``help``); None: none. Plain text, shown
    literally (:func:`metrics_html` escapes every part)."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None


@dataclass(frozen=True)
class Bar:
    """One row of a bar list: ``label``, ``value`` in [0, ``scale``] (the bar's length),
    ``text`` shown after the bar, and ``strong`` (drawn in the accent colour, else grey).
    Plain text, shown literally (:func:`bars_html` escapes it)."""

    label: str
    value: float
    text: str
    strong: bool = False


def pct(v: float | None, digits: int = 2) -> str:
    """A fraction as a percent string (``0.1234 -> "12.34%"``); ``"n/a"`` for None/NaN/inf."""
    return "n/a" if v is None or not np.isfinite(v) else f"{v * 100:.{digits}f}%"


#: escaped wherever they stand: links ``[..](..)``, images ``![..](..)``, autolinks and HTML
#: ``<..>``, bare ``https://`` URLs (the ``:``), emphasis ``* _ ~``, code, tables ``|``, LaTeX
#: ``$``, Streamlit's ``:color[..]`` / ``:material/..:`` directives (the ``:``) and ``{ }``
_ANYWHERE = re.compile(r"([\\`*_\[\]()!<>{}|~$:])")
#: block markers (heading, list, numbered list, quote) only mean something at a line start,
#: and ``www.`` starts a bare autolink: escaped there only, so ``2013-03-01`` stays readable
_LINE_START = re.compile(r"^(\s*(?:\d+)?)([#+\-=.)])")
_WWW_DOT = re.compile(r"(?i)(?<=www)\.")


def literal(text: object) -> str:
    """``text`` escaped so that Streamlit's markdown (``st.error``, ``st.caption``, ...) shows
    it character for character: no link, image, HTML or formatting from user input (symbols,
    file names, CSV headers, headlines, query values, error messages that embed them).
    Newlines become spaces, so no user line can start a block; ``#``, ``+``, ``-``, ``=`` and
    ``1.`` are escaped at the start, where they would start one."""
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    s = _WWW_DOT.sub(r"\\.", _ANYWHERE.sub(r"\\\1", s))
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), s, count=1)


def time_literal(ts: object, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time (``datetime`` or ``pd.Timestamp``) as ``fmt`` text for Streamlit's markdown, its
    colons escaped (:func:`literal`): Streamlit's frontend takes any ``:12:`` in a markdown
    text for an emoji shortcode and fetches and evaluates its emoji plugin before drawing the
    text (~40 ms of a warm Overview visit, issue 15). Shown unchanged."""
    return literal(format(ts, fmt))


#: what :func:`code_literal` puts in a code span as it is (a ticker, a command line)
_PLAIN_CODE = re.compile(r"[A-Za-z0-9 ^.=,/_-]*")


def code_literal(text: object) -> str:
    """``text`` as an inline code span (a command to copy) when it holds only letters,
    digits, spaces and ``^ . = , / _ -``; otherwise :func:`literal` text outside any span,
    so user text can neither close the span nor carry a link or image into the page."""
    s = str(text)
    return f"`{s}`" if _PLAIN_CODE.fullmatch(s) else literal(s)


def badge_literal(text: object) -> str:
    """:func:`literal` for ``st.badge``'s label, which escapes ``[`` and ``]`` itself (so
    they are left to it: escaping them twice would show the backslashes)."""
    return literal(text).replace("\\[", "[").replace("\\]", "]")


#: what a spreadsheet reads as the start of a formula (OWASP "CSV injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A string that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return) prefixed with ``'`` so it is read as text; every
    other value (numbers too, negative ones included) unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_export(frame: pd.DataFrame, *, index: bool = False) -> bytes:
    """``frame`` as UTF-8 CSV bytes for a download, every string cell and header passed
    through :func:`csv_cell`; numeric columns are written as numbers. Every CSV export goes
    through here."""
    out = frame.copy()
    out.columns = [csv_cell(c) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col)):
            out.isetitem(i, col.map(csv_cell))
    if index and not pd.api.types.is_numeric_dtype(out.index):
        out.index = out.index.map(csv_cell)
    return out.to_csv(index=index).encode()


def _cell(value: object, precision: int, na: str, fmt: str | None, text) -> str:
    """One table cell as display text; ``text`` escapes a string cell."""
    if value is None or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
        return na
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if fmt and isinstance(value, (int, float, np.number)):
        return fmt.format(value)
    if isinstance(value, (float, np.floating)):
        return f"{value:,.{precision}f}"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if value == value.normalize() else f"{value:%Y-%m-%d %H:%M}"
    return text(value) if str(value) else na


def _columns(frame: pd.DataFrame, index: bool, formats: dict[str, str] | None):
    """The frame to show (index as a first column when asked), which columns are numeric
    (booleans are not) and each column's number format (None: ``precision``)."""
    shown = frame.reset_index() if index else frame
    numeric = [pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
               for t in shown.dtypes]
    return shown, numeric, [(formats or {}).get(c) for c in shown.columns]


def html_table(frame: pd.DataFrame, *, index: bool = False, precision: int = 2, na: str = "–",
               formats: dict[str, str] | None = None) -> str:
    """A small display table as an HTML ``<table class="qd-table">``, for ``st.html``.

    The browser renders it without the markdown parser: a markdown table of a few rows costs
    a warm visit ~10-20 ms of main-thread time in Streamlit's markdown component (issue 15,
    docs/performance.md, seventh pass). ``precision``: decimals of float cells (``1,234.57``
    at 2); ``na``: what a None, NaN, infinite or empty cell shows; ``formats``: per column a
    ``str.format`` pattern for its finite numbers; ints get separators, booleans yes/no,
    timestamps a date (and time when not midnight); ``index``: the index as a first column.
    Every header and cell HTML-escaped (``html.escape``: user text such as a
    symbol cannot become a tag, link or script); numeric columns carry ``class="num"``
    (right-aligned by the page's style). An empty frame gives its header row only.
    """
    shown, numeric, fmts = _columns(frame, index, formats)
    klass = [' class="num"' if n else "" for n in numeric]
    head = "".join(f"<th{k}>{html.escape(str(c))}</th>" for c, k in zip(shown.columns, klass))
    rows = "".join(
        "<tr>" + "".join(f"<td{k}>{_cell(v, precision, html.escape(na), f, html.escape)}</td>"
                         for v, f, k in zip(row, fmts, klass)) + "</tr>"
        for row in shown.itertuples(index=False, name=None))
    return f'<table class="qd-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def metrics_html(metrics: list[Metric], small: bool = False) -> str:
    """A row of headline figures as one HTML ``<div class="qd-metrics">``, for ``st.html``.

    One element instead of one ``st.metric`` per figure in its own column: five ``st.metric``
    columns cost a warm visit ~0.10 s of browser time, this row ~0.05 s (issue 15,
    docs/performance.md, eighth pass). Each figure is a ``<div class="qd-metric">`` holding
    its label (``qd-label``), value (``qd-value``) and optional second figure (``qd-delta``);
    its ``help`` becomes the figure's tooltip (``title``) and a circled ``?`` after the label. Every
    part is HTML-escaped (``html.escape``): a symbol or model name cannot become a tag.
    ``small``: values in body-text size, wrapping (``qd-metrics qd-small``), for a strip of
    context figures whose values are phrases.
    """
    cards = []
    for m in metrics:
        tip = f' title="{html.escape(m.help)}"' if m.help else ""
        mark = '<span class="qd-help">?</span>' if m.help else ""
        delta = f'<div class="qd-delta">{html.escape(m.delta)}</div>' if m.delta else ""
        cards.append(f'<div class="qd-metric"{tip}><div class="qd-label">'
                     f'{html.escape(m.label)}{mark}</div>'
                     f'<div class="qd-value">{html.escape(m.value)}</div>{delta}</div>')
    klass = "qd-metrics qd-small" if small else "qd-metrics"
    return f'<div class="{klass}">{"".join(cards)}</div>'


def bars_html(title: str, bars: list[Bar], scale: float = 100.0) -> str:
    """A titled list of horizontal bars as one HTML ``<div class="qd-bars">``, for ``st.html``.

    A short ranking (a dozen labelled values) drawn without a Plotly chart: each chart costs a
    warm visit ~0.05-0.1 s of browser time (issue 15, docs/performance.md, eighth pass). Each
    row is ``<div class="qd-bar-row">`` with the label (``qd-bar-label``), a track whose bar
    is ``value / scale`` of its width (clipped to 0-100 %, NaN as 0; ``qd-bar qd-strong``
    for a strong row) and the text (``qd-bar-text``). Every text is HTML-escaped.
    """
    rows = []
    for b in bars:
        width = 0.0 if not np.isfinite(b.value) else min(max(b.value / scale, 0.0), 1.0) * 100
        klass = "qd-bar qd-strong" if b.strong else "qd-bar"
        rows.append(f'<div class="qd-bar-row"><span class="qd-bar-label">{html.escape(b.label)}'
                    f'</span><span class="qd-bar-track"><span class="{klass}" '
                    f'style="width:{width:.1f}%"></span></span>'
                    f'<span class="qd-bar-text">{html.escape(b.text)}</span></div>')
    return (f'<div class="qd-bars"><div class="qd-bars-title">{html.escape(title)}</div>'
            f'{"".join(rows)}</div>')
