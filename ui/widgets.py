"""Widget helpers shared by the pages."""

from __future__ import annotations

import streamlit as st

from core.display import Bar, Metric, bars_html, html_table, metrics_html


def follow_default(key: str, default) -> None:
    """Start the keyed widget ``key`` again from ``default`` whenever ``default`` changes.

    An unkeyed widget does this by itself (its identity includes its default value); a keyed
    one keeps its value. Call right before creating the widget, and create it with
    ``key=key`` and without ``value=``. The user's edits survive reruns until the default
    changes (e.g. another symbol's last close).
    """
    marker = f"{key}__default"
    if key not in st.session_state or st.session_state.get(marker) != default:
        st.session_state[marker] = default
        st.session_state[key] = default


#: the look of :func:`core.display.metrics_html` rows, close to ``st.metric``: figures side by
#: side, wrapping on a narrow screen; colours from the text colour (light and dark themes)
METRIC_STYLE = (
    "<style>.qd-metrics{display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin:0 0 1rem}"
    ".qd-metric{flex:1 1 9rem;min-width:0}.qd-label{font-size:.875rem;opacity:.8;"
    "padding-bottom:.25rem}.qd-help{display:inline-block;margin-left:.35rem;width:.95rem;"
    "height:.95rem;line-height:.85rem;border:1px solid;border-radius:50%;font-size:.65rem;"
    "text-align:center;vertical-align:.05rem;opacity:.6;cursor:help}.qd-value{font-size:2.25rem;"
    "line-height:1.2;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
    ".qd-delta{font-size:.875rem;opacity:.7}.qd-small .qd-label{font-weight:600;opacity:1}"
    ".qd-small .qd-value{font-size:1rem;white-space:normal;padding-bottom:.25rem}</style>")


def keep_in_url(key: str, value: str, default: str) -> None:
    """Write ``value`` to the address as ``?key=value`` so the view can be linked, or leave the
    parameter out when ``value`` is ``default``; nothing is sent when the address already
    says so. For a choice that is not a widget bound to the URL (``bind="query-params"``)."""
    if value != default:
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    elif key in st.query_params:
        del st.query_params[key]


def metric_row(metrics: list[Metric], small: bool = False) -> None:
    """Headline figures side by side, as one HTML element (``st.html``): about half the
    browser time of an ``st.metric`` per column (issue 15). A delta is a second figure, not
    a change: shown under the value without colour or arrow; ``help`` is the tooltip.
    ``small``: values in body-text size (a context strip, :func:`core.display.metrics_html`)."""
    st.html(METRIC_STYLE + metrics_html(metrics, small))


#: the look of :func:`core.display.bars_html` lists: label, track with its bar, text; the
#: accent colour of the app's up candles for strong rows, grey otherwise
BARS_STYLE = (
    "<style>.qd-bars{margin:0 0 1rem}.qd-bars-title{font-weight:600;padding-bottom:.5rem}"
    ".qd-bar-row{display:flex;align-items:center;gap:.5rem;font-size:.875rem;"
    "line-height:1.6rem}.qd-bar-label{flex:0 0 11rem;text-align:right;overflow:hidden;"
    "text-overflow:ellipsis;white-space:nowrap}.qd-bar-track{flex:1 1 auto;height:.9rem;"
    "background:rgba(128,128,128,.15)}"
    ".qd-bar{display:block;height:100%;background:#9e9e9e;opacity:.7}"
    ".qd-bar.qd-strong{background:#26a69a;opacity:1}.qd-bar-text{flex:0 0 6rem}</style>")


def bar_list(title: str, bars: list[Bar]) -> None:
    """A titled list of horizontal bars (percent values) as one HTML element
    (:func:`core.display.bars_html`): a ranking without a Plotly chart's browser time."""
    st.html(BARS_STYLE + bars_html(title, bars))


#: the look of :func:`core.display.html_table` tables, close to Streamlit's markdown tables;
#: colours from the text colour, so light and dark themes both read
TABLE_STYLE = ("<style>.qd-table{border-collapse:collapse;margin:0 0 1rem;font-size:.95rem}"
               ".qd-table th,.qd-table td{border:1px solid rgba(128,128,128,.3);"
               "padding:.25rem .75rem;text-align:left}.qd-table th{font-weight:600}"
               ".qd-table .num{text-align:right;font-variant-numeric:tabular-nums}"
               ".qd-scroll{overflow-x:auto}</style>")


def small_table(frame, **fmt) -> None:
    """A short display table (tens of rows, nothing to sort or download) as one HTML table
    (``st.html``): ~1/6 of an ``st.dataframe`` grid's browser time, and no markdown parsing
    (issue 15); a table wider than the page scrolls sideways. ``fmt``: the options of
    :func:`core.display.html_table` (``index``, ``precision``, ``na``, ``formats``)."""
    st.html(f'{TABLE_STYLE}<div class="qd-scroll">{html_table(frame, **fmt)}</div>')


def lazy_tabs(tabs: dict[str, str], key: str):
    """Tabs whose content the page draws only while each is open (``tab.open``).

    A tab click reruns the page (``on_change="rerun"``), so a hidden tab's figures and
    tables are neither computed nor sent: every element costs the browser time on each visit
    (issue 15, docs/performance.md). Widgets inside a lazily drawn tab lose their value while
    it is closed; keep widgets whose value matters outside such a branch.

    Args:
        tabs: ``{slug: label}`` in display order; ``?tab=<slug>`` in the address opens that
            tab (an unknown slug opens the first), so a view can be linked.
        key: the widget key (the open tab's label in ``st.session_state``).

    Returns:
        One tab container per entry, in order (Streamlit's ``st.tabs``).
    """
    default = tabs.get(st.query_params.get("tab", ""))
    return st.tabs(list(tabs.values()), default=default, key=key, on_change="rerun")


_KEPT = "_qd_kept_"  # session-state prefix of the values kept by kept_input


def kept_input(draw: bool, widget, label: str, *, key: str, value, options=None, **kwargs):
    """A widget whose value outlives the runs that do not draw it (a closed lazy tab).

    Streamlit drops a widget's state after a run that does not draw it. This keeps the value
    the widget last returned in the session (``st.session_state["_qd_kept_<key>"]``) and starts
    the widget from it the next time it is drawn; inside an ``st.form`` that is the last
    submitted value.

    Args:
        draw: create the widget in this run; False returns the kept value (else ``value``)
            without drawing anything.
        widget: a widget function taking ``label`` first and ``value=`` (``st.number_input``,
            ``col.number_input``...), or with ``options`` given, ``options`` second and
            ``index=`` (``st.radio``, ``st.selectbox``).
        label, key, kwargs: passed to ``widget``.
        value: the default before the session has a kept value.
        options: the choices of a radio or selectbox (a kept value no longer among them
            starts from the first).

    Returns:
        The widget's value this run (or the kept one when not drawn).
    """
    shadow = _KEPT + key
    current = st.session_state.get(shadow, value)
    if not draw:
        return current
    if options is None:
        got = widget(label, value=current, key=key, **kwargs)
    else:
        options = list(options)
        got = widget(label, options, index=options.index(current) if current in options else 0,
                     key=key, **kwargs)
    st.session_state[shadow] = got
    return got
