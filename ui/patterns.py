"""Cached wrappers around core.patterns for the Patterns page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import QuantdeskError
from core.patterns.breakouts import find_levels
from core.patterns.cnn import FAMILY as CNN_FAMILY
from core.patterns.cnn import load_cnn  # torch is imported inside, on use
from core.patterns.edge import edge_table
from core.patterns.serve import (breakout_events, detections, latest_pattern_scores,
                                   load_breakout_model)
from core.patterns.serve import track_record as stored_track_record
from ui.models import serving_key

#: every cache here is bounded in time and entries (issue 18). An hour: the frame-keyed
#: results also depend on the serving CNN / breakout model, which these keys do not name, so
#: a promoted model shows within the hour; 32 entries: one per (symbol's bars, chart length)
#: for a few dozen symbols in use at once.
TTL_S = 3600
MAX_ENTRIES = 32


# model caches: keyed by serving version, bounded by entries; no TTL, which would only reload
# the same weights (a promote or rollback changes the key)
@st.cache_resource(max_entries=4, show_spinner="Loading the pattern CNN…")
def _cnn(key: tuple):
    return load_cnn()  # failures raise and are not cached: a later training is picked up


@st.cache_resource(max_entries=4, show_spinner="Loading the breakout model…")
def _breakout(key: tuple):
    return load_breakout_model()


def cnn_model():
    """(model, version) of the active patterns-cnn, or (None, reason) when unavailable.
    Cached per serving version (:func:`ui.models.serving_key`)."""
    try:
        return _cnn(serving_key(CNN_FAMILY))
    except QuantdeskError as err:
        return None, str(err)


def breakout_model():
    """The active breakout model (service.BreakoutModel), or the error message (str).
    Cached per serving version."""
    try:
        return _breakout(serving_key("breakout"))
    except QuantdeskError as err:
        return str(err)


@st.cache_data(show_spinner="Detecting patterns…", ttl=TTL_S, max_entries=MAX_ENTRIES)
def pattern_detections(frame: pd.DataFrame, tail: int) -> pd.DataFrame:
    """Rule + CNN detections for the last ``tail`` bars."""
    cnn, _ = cnn_model()
    return detections(frame, cnn, tail=tail)


@st.cache_data(show_spinner=False, ttl=TTL_S, max_entries=MAX_ENTRIES)
def latest_scores(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The CNN's score of every pattern on the last bar, or None without a CNN."""
    cnn, _ = cnn_model()
    return None if cnn is None else latest_pattern_scores(frame, cnn)


@st.cache_data(show_spinner="Measuring each pattern's edge (bootstrap)…", ttl=TTL_S,
               max_entries=MAX_ENTRIES)
def edge(frame: pd.DataFrame) -> pd.DataFrame:
    """Each pattern's measured edge (:func:`core.patterns.edge.edge_table`)."""
    return edge_table(frame)


@st.cache_data(show_spinner="Finding support/resistance and breakouts…", ttl=TTL_S,
               max_entries=MAX_ENTRIES)
def levels_and_breakouts(frame: pd.DataFrame):
    """(resistance levels, support levels, breakout events with model probabilities)."""
    lv = find_levels(frame)
    bm = breakout_model()
    ev = breakout_events(frame, bm if not isinstance(bm, str) else None)
    return lv.active_resistance, lv.active_support, ev


@st.cache_data(show_spinner=False, ttl=TTL_S, max_entries=16)
def track_record(symbol: str) -> pd.DataFrame:
    """The breakout model's stored walk-forward record of ``symbol`` (empty without one)."""
    bm = breakout_model()
    return pd.DataFrame() if isinstance(bm, str) else stored_track_record(symbol, bm)
