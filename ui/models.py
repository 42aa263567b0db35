"""Model artifacts for pages, cached per *serving* version: a promote, rollback or disable
by an admin takes effect on the next rerun instead of after a restart."""

from __future__ import annotations

import streamlit as st


def serving_key(family: str) -> tuple[str | None, bool]:
    """``(active version, disabled)`` from the store (one cheap query); ``(None, False)`` when
    the store cannot be read, in which case ``load_active`` serves the newest on disk."""
    try:
        from core.store.ops import serving_version

        return serving_version(family)
    except Exception:  # same fallback as core.registry.load_active
        return None, False


@st.cache_resource(max_entries=16, show_spinner="Loading the model…")
def _load(family: str, key: tuple[str | None, bool]):
    from core.registry import load_active

    return load_active(family)


def active_artifact(family: str):
    """The verified artifact serving ``family`` (cached per serving version).

    Raises:
        NotTrainedError: none trained, or the family is disabled (not cached, so enabling it
            again shows at once). ArtifactIntegrityError: a file failed its sha256 check.
    """
    return _load(family, serving_key(family))
