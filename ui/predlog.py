"""Log what a page shows: every prediction displayed is stored once per symbol/bar/version."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from core.display import literal
from core.errors import QuantdeskError
from core.panel.predictors import loggable
from core.predictions import Prediction
from core.store import log_predictions, session_scope


def log_shown(preds: list[Prediction] | None) -> None:
    """Store ``preds`` (the store skips duplicates) at most once per browser session and key.

    A store failure never breaks the page: it is shown as a caption.
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
        with session_scope() as session:
            log_predictions(rows, session=session)
        seen |= keys
    except (QuantdeskError, SQLAlchemyError) as err:
        st.caption(f"These predictions could not be logged to the store: {literal(err)}")
