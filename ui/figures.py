"""Plotly figures built once per content and shared by every session (issue 15).

Building a figure is Plotly validating every property it is given: 30-150 ms of a page's
script run (a candlestick chart with its volume panel, the pattern chart with its markers and
levels, the forecast fan), more than half of most pages' server time on a warm visit. A warm
visit or a rerun that changes nothing on the chart now reuses the figure built before.

The cache key is the builder's name and its arguments' *content* (Streamlit's hashing of
``st.cache_resource`` parameters: a DataFrame by its values and index), so a live bar whose
close moved, another window or another title builds a new figure. Only figures of at most
:data:`MAX_ROWS` rows of data are kept: a chart of an uploaded minute-bar file (hundreds of
thousands of bars) would otherwise stay in memory for an hour after its tab closed (issue 18's
memory test caught it); those are built on every run (drawn as at most
``core.plots.candles.MAX_CANDLES`` candles). The limit applies to the largest data argument,
not to their sum: the Strategy Lab passes every bar (its indicators warm up on them) and a
signal on the same bars, yet draws at most 600 candles.

Shared objects: a caller must not change the figure it gets (``fig.update_layout(...)`` on
it would change it for everyone); build a changed figure in the builder instead. Because it
never changes, a kept figure also keeps the JSON form it is sent in (:class:`SentFigure`).

Every chart is shown by :func:`chart`, which sends the figure drawn once by the browser
(:func:`sent_spec`): Streamlit's chart element themes a figure when it mounts and again in an
effect right after (``PlotlyChart`` in Streamlit's frontend), and Plotly redraws the whole
chart for the second copy (a new template object, new typed arrays): a second 80-150 ms
task after Patterns' toggle, and after every chart's first draw on a visit (issue 15). The
figure is sent with Streamlit's dark theme already applied (:data:`THEME_FILE`) and
``theme=None``, its arrays as JSON lists and a ``datarevision``: Plotly.react then finds
nothing changed and draws nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from streamlit.runtime.caching.cache_errors import UnhashableParamError

log = logging.getLogger(__name__)

#: bounded (issue 18): a figure holds its traces' data, up to ~1 MB at MAX_ROWS bars
MAX_ENTRIES = 64
TTL_S = 3600
#: rows of the largest data argument (DataFrame, Series or array) above which a figure is
#: built on every run instead of kept: 20 years of daily bars, or a year of hourly ones
MAX_ROWS = 5_000
#: Streamlit's Plotly template for this app's ``[theme]`` (.streamlit/config.toml) as its
#: frontend resolves it (colors, fonts, axes); written by ``python -m benchmarks.chart_theme``,
#: checked against the running Streamlit by tests/e2e/test_app_e2e.py
THEME_FILE = Path(__file__).with_name("chart_theme.json")

# subplot containers a template styles (``xaxis`` styles xaxis2, ...): styled where present
_SUBPLOT = re.compile(r"^(xaxis|yaxis|coloraxis|ternary|polar|scene|geo|mapbox|map|smith)\d*$")
# trace types drawn on x/y axes: a figure of them gets the themed axes even where its layout
# names none
_CARTESIAN = frozenset({"scatter", "scattergl", "bar", "candlestick", "ohlc", "histogram",
                        "histogram2d", "histogram2dcontour", "heatmap", "contour", "box",
                        "violin", "waterfall", "funnel", "image"})
# an axis attribute whose being set turns its feature on in Plotly.js (``coerce2`` in
# ``src/plots/cartesian/tick_mark_defaults.js``, ``line_grid_defaults.js``): a template's
# value only styles a feature something else turned on, so it is applied only then
_TURNS_ON = {"ticks": ("ticklen", "tickwidth", "tickcolor"),
             "showline": ("linecolor", "linewidth")}
# and on the axis bars, boxes or violins stand along, where the grid and zero line are off
# unless something turns them on (``showGrid`` in ``src/plots/cartesian/layout_defaults.js``)
_GRID_TURNS_ON = {"showgrid": ("gridcolor", "gridwidth", "griddash"),
                  "zeroline": ("zerolinecolor", "zerolinewidth")}
_ORIENTED = frozenset({"bar", "histogram", "box", "violin", "waterfall", "funnel"})
# axes of 2-D maps draw ticks unless told not to (``outerTicks``, same file)
_MAPS = frozenset({"heatmap", "contour", "histogram2d", "histogram2dcontour"})
_MINOR_TURNS_ON = {"ticks": _TURNS_ON["ticks"], "showgrid": _GRID_TURNS_ON["showgrid"]}
_ITEM_DEFAULTS = {"annotations": "annotationdefaults", "shapes": "shapedefaults",
                  "images": "imagedefaults", "sliders": "sliderdefaults",
                  "updatemenus": "updatemenudefaults"}


@cache
def chart_theme() -> dict | None:
    """The Plotly template (``{"layout": ..., "data": {type: [trace, ...]}}``) of THEME_FILE,
    or None where it cannot be read (a damaged install): charts are then sent as they come
    and themed by Streamlit (drawn twice, as before issue 15's nineteenth pass)."""
    try:
        theme = json.loads(THEME_FILE.read_text())
    except (OSError, ValueError) as err:
        log.warning("chart theme %s unreadable (%s): Streamlit themes the charts", THEME_FILE,
                    err)
        return None
    return theme if isinstance(theme, dict) else None


def _under(default, value):
    """``value`` over ``default``: dicts merged key by key (``value`` wins), else ``value``."""
    if isinstance(default, dict) and isinstance(value, dict):
        return {**default, **{k: _under(default.get(k), v) for k, v in value.items()}}
    return value


def _axis_under(default: dict | None, axis: dict, grid_on: bool, ticks_on: bool) -> dict:
    """An axis with a template's axis style under it, as Plotly.js applies one.

    ``grid_on``, ``ticks_on``: Plotly.js shows this axis' grid and zero line, its ticks,
    unless told not to.
    """
    default = dict(default or {})
    if isinstance(default.get("minor"), dict):
        default["minor"] = _switched_off(dict(default["minor"]), axis.get("minor", {}),
                                         _MINOR_TURNS_ON)
    switches = {k: v for k, v in _TURNS_ON.items() if not (ticks_on and k == "ticks")}
    if not grid_on:
        switches |= _GRID_TURNS_ON
    return _under(_switched_off(default, axis, switches), axis)


def _axis_key(ref: str) -> str:
    """``"x2"`` -> ``"xaxis2"``."""
    return f"{ref[0]}axis{ref[1:]}"


def _map_axes(data: list[dict]) -> set[str]:
    """Layout keys of the axes of 2-D maps (heatmaps, contours)."""
    return {_axis_key(t.get(a, a[0])) for t in data if t.get("type") in _MAPS
            for a in ("xaxis", "yaxis")}


def _bar_axes(data: list[dict]) -> set[str]:
    """Layout keys of the axes bars, boxes, violins... stand along (their category axis).

    Orientation defaults as in plotly.js ``src/traces/<type>/defaults.js``.
    """
    axes = set()
    for t in data:
        kind = t.get("type", "scatter")
        if kind not in _ORIENTED:
            continue
        if kind == "histogram":
            dflt = "h" if "y" in t and "x" not in t else "v"
        elif kind == "funnel":
            dflt = "v" if "y" in t and "x" not in t else "h"
        else:
            dflt = "h" if "x" in t and "y" not in t else "v"
        ref = t.get("yaxis", "y") if t.get("orientation", dflt) == "h" else t.get("xaxis", "x")
        axes.add(_axis_key(ref))
    return axes


def _switched_off(default: dict, own: dict, switches: dict) -> dict:
    """``default`` without the attributes that would turn on a feature ``own`` leaves off."""
    for switch, attrs in switches.items():
        if switch not in own and switch not in default:
            for attr in attrs:
                default.pop(attr, None)
    return default


def themed(spec: dict, theme: dict) -> dict:
    """A JSON figure with a Plotly template applied to it, as Plotly.js applies one.

    Args:
        spec: ``{"data": [trace, ...], "layout": {...}}``, JSON-native; its own
            ``layout.template`` is dropped.
        theme: a template, ``{"layout": {...}, "data": {trace type: [trace, ...]}}``.

    Returns:
        A new dict without a template: every value the figure sets is kept, the template's
        fills the rest. As Plotly.js does (plotly.js ``src/plot_api/plot_template.js``):
        ``layout.xaxis`` styles every x axis (``xaxis2`` its own where the template has one),
        a type's trace templates cycle over the traces of that type, ``annotationdefaults``
        (and the like) style each item. As Streamlit's chart theme does, a title is bold.
    """
    layout = {k: v for k, v in spec.get("layout", {}).items() if k != "template"}
    t_layout, t_data = theme.get("layout", {}), theme.get("data", {})
    data, seen = [], Counter()
    for trace in spec.get("data", []):
        kind = trace.get("type", "scatter")
        items = t_data.get(kind) or [{}]
        data.append(_under(items[seen[kind] % len(items)], trace))
        seen[kind] += 1
    subplots = {k for k in layout if _SUBPLOT.match(k)}
    bar_axes, map_axes = _bar_axes(data), _map_axes(data)
    if any(t.get("type", "scatter") in _CARTESIAN for t in data):
        subplots |= {"xaxis", "yaxis"}
    for key in subplots:
        base = _SUBPLOT.match(key).group(1)
        default = t_layout.get(key, t_layout.get(base))
        own = layout.get(key, {})
        layout[key] = (_axis_under(default, own, key not in bar_axes, key in map_axes)
                       if base in ("xaxis", "yaxis") else _under(default, own))
    for key, default in t_layout.items():
        if not _SUBPLOT.match(key) and key not in _ITEM_DEFAULTS.values():
            layout[key] = _under(default, layout[key]) if key in layout else default
    for items_key, defaults_key in _ITEM_DEFAULTS.items():
        if isinstance(layout.get(items_key), list) and defaults_key in t_layout:
            layout[items_key] = [_under(t_layout[defaults_key], item)
                                 for item in layout[items_key]]
    title = layout.get("title")
    if isinstance(title, str):
        title = {"text": title}
    if isinstance(title, dict) and title.get("text"):
        layout["title"] = {**title, "text": f"<b>{title['text']}</b>"}
    return {"data": data, "layout": layout}


def _iso_dates(obj):
    """``obj`` with its arrays of timestamps (an index's dates) as ISO strings, written as
    Plotly's JSON encoder writes each (``isoformat``) but at once: the encoder tries its
    fallbacks one exception at a time per element, half of a figure's serialisation."""
    if isinstance(obj, dict):
        return {k: _iso_dates(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_iso_dates(v) for v in obj]
    if (isinstance(obj, np.ndarray) and obj.dtype == object and obj.ndim == 1 and obj.size
            and all(isinstance(v, datetime) for v in obj)):
        return [v.isoformat() for v in obj]
    return obj


def sent_spec(fig: go.Figure) -> dict:
    """The JSON-native dict ``fig`` is sent as: themed, plain arrays, a ``datarevision``.

    Plotly.react (plotly.js ``src/plot_api/plot_api.js``, ``diffData``) redraws a chart
    whose typed arrays (Plotly's base64 form, which ``to_dict()`` uses) or template are new
    objects, even if equal; plain arrays under an unchanged ``layout.datarevision`` are
    taken as unchanged, and without a template the rest is compared by value. The revision
    is a hash of the data, so another figure in the same chart is never taken for this one.
    """
    theme = chart_theme()
    # Plotly's own property dicts (what to_dict() deep-copies): read here, never changed; the
    # template is replaced by the theme, so it is not serialised
    plain = {"data": [_iso_dates(t) for t in fig._data],
             "layout": _iso_dates({k: v for k, v in fig._layout.items()
                                   if k != "template" or theme is None})}
    spec = json.loads(pio.to_json(plain, validate=False))
    if theme is None:
        return spec
    spec = themed(spec, theme)
    rev = hashlib.sha1(json.dumps(spec["data"], sort_keys=True).encode()).hexdigest()[:16]
    spec["layout"].setdefault("datarevision", rev)
    return spec


class SentFigure(go.Figure):
    """A figure that makes the dict ``st.plotly_chart`` sends once (:func:`sent_spec`).

    On every run ``st.plotly_chart`` (``streamlit/elements/plotly_chart.py``) asks its figure
    for ``to_dict()`` (Plotly deep-copies every trace's arrays) and serialises that dict with
    ``plotly.io.to_json``: the largest part of the Strategy Lab's script run, before its chart
    is sent (issue 15). A kept figure never changes, so its first ``to_dict()`` is kept,
    already JSON-native (arrays as Plotly's base64 typed arrays, the form ``to_json`` sends
    them in): the same JSON, serialised in ~1 ms.
    Any other use of the figure is Plotly's own; ``to_dict()`` returns a shared dict: read it,
    do not change it.
    """

    _sent: dict | None = None

    def to_dict(self) -> dict:
        if self._sent is None:
            self._sent = sent_spec(self)
        return self._sent


@st.cache_resource(max_entries=MAX_ENTRIES, ttl=TTL_S, show_spinner=False)
def _built(name: str, args: tuple, kwargs: dict, _build: Callable[..., go.Figure]):
    fig = _build(*args, **kwargs)
    if type(fig) is go.Figure:  # the same object, kept: no copy, no second validation
        fig.__class__ = SentFigure
    return fig


def cached_figure(build: Callable[..., go.Figure], *args, **kwargs) -> go.Figure:
    """``build(*args, **kwargs)``, built once per builder and arguments' content.

    Args:
        build: a figure builder of :mod:`core.plots` (or any function returning a Plotly
            figure from its arguments alone).
        args, kwargs: its arguments; DataFrames, Series, arrays, numbers, strings and
            dataclasses are hashed by content.

    Returns:
        The figure, shared with every session that asks for the same one: do not change it.
        Arguments with more than :data:`MAX_ROWS` rows of data, or that Streamlit cannot hash,
        build an uncached figure (one argument over the limit, not their sum: a frame and
        a signal on the same bars count once).
    """
    name = f"{build.__module__}.{build.__qualname__}"
    rows = max((len(a) for a in (*args, *kwargs.values())
                if isinstance(a, (pd.DataFrame, pd.Series, np.ndarray))), default=0)
    if rows > MAX_ROWS:
        return build(*args, **kwargs)
    try:
        return _built(name, args, kwargs, build)
    except UnhashableParamError as err:
        log.debug("figure %s not cached: %s", name, err)
        return build(*args, **kwargs)


def chart(fig: go.Figure, *, key: str, where=None) -> None:
    """Show ``fig`` at full width, drawn once by the browser (:func:`sent_spec`).

    Args:
        fig: a Plotly figure; a plain one is turned into a :class:`SentFigure` (in place).
        key: the chart's Streamlit key.
        where: the container (a column, a tab); the page's main area when None.

    The theme is in the figure (``theme=None``), so Streamlit's frontend leaves it as sent;
    without a readable theme file, Streamlit themes it (``theme="streamlit"``).
    """
    if type(fig) is go.Figure:
        fig.__class__ = SentFigure
    theme = None if chart_theme() is not None else "streamlit"
    (where or st).plotly_chart(fig, width="stretch", key=key, theme=theme)
