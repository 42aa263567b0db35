"""Model artifacts for pages, cached per *serving* version: a promote, rollback or disable
by an admin takes effect on the next rerun instead of after a restart."""

from __future__ import annotations

import streamlit as st

from core.serving import load_active, serving_key


@st.cache_resource(max_entries=16, show_spinner="Loading the model…")
def _load(family: str, key: tuple[str | None, bool]):

    return load_active(family)


__all__ = ["active_artifact", "serving_key"]


def active_artifact(family: str):
    """The verified artifact serving ``family`` (cached per serving version).

    Raises:
        NotTrainedError: none trained, or the family is disabled (not cached, so enabling it
            again shows at once). ArtifactIntegrityError: a file failed its sha256 check.
    """
    return _load(family, serving_key(family))
