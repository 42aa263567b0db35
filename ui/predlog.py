"""Log what a page shows: every prediction displayed is stored once per symbol/bar/version."""

from __future__ import annotations

import streamlit as st

from core.display import literal
from core.errors import QuantdeskError
from core.panel.predictors import loggable
from core.predictions import Prediction
from core.store.predictions import log_or_queue


def log_shown(preds: list[Prediction] | None) -> None:
    """Store ``preds`` (the store skips duplicates) at most once per browser session and key.

    A store failure never breaks the page: the predictions are held in the process's
    bounded retry queue (:func:`core.store.predictions.log_or_queue`) and logged when the
    store is back; the caption says so (and names any the queue could not hold).
    """
    if not preds:
        return

    rows = loggable(preds)
    keys = {(p.model_name, p.model_version, p.symbol, p.interval, p.kind, p.horizon,
             str(p.origin_ts)) for p in rows}
    seen = st.session_state.setdefault("_logged_predictions", set())
    if not rows or keys <= seen:
        return

    try:
        outcome = log_or_queue(rows)
    except QuantdeskError as err:  # an invalid record: say so, never break the page
        st.caption(f"These predictions could not be logged to the store: {literal(err)}")
        return
    seen |= keys  # written, or held for the store's return (a retry would hold them twice)
    if outcome.message:
        st.caption(literal(outcome.message))
