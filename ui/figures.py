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
"""

from __future__ import annotations

import json
import logging
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


class SentFigure(go.Figure):
    """A kept figure that makes the dict ``st.plotly_chart`` sends once, not on every run.

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
            self._sent = json.loads(pio.to_json(super().to_dict(), validate=False))
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
