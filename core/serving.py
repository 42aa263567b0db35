"""Which artifact serves a family: the store's choice (promote, rollback, disable) applied to
the verified artifacts on disk. Serving code calls :func:`load_active`; caches key on
:func:`serving_key`.

Contract (serving code relies on it):

* the store records an ``active`` version -> that version is loaded;
* an admin *disabled* the family -> :class:`core.errors.NotTrainedError` whose message
  starts with ``"Model family '<family>' is disabled"``: serve the naive baseline and say so;
* the store has no row for the family (or cannot be opened) -> the newest version on disk.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.errors import ArtifactIntegrityError, NotTrainedError
from core.registry import Artifact, load_artifact, models_root
from core.store.db import session_scope
from core.store.ops import active_version, is_disabled

log = logging.getLogger(__name__)


def serving_version(family: str) -> tuple[str | None, bool]:
    """``(active_version, disabled)`` for ``family`` from the default store, opening its own
    session (used by :func:`load_active`)."""
    with session_scope() as session:
        return active_version(family, session=session), is_disabled(family, session=session)


def serving_key(family: str) -> tuple[str | None, bool]:
    """:func:`serving_version`, or ``(None, False)`` when the store cannot be read (then
    :func:`load_active` serves the newest version on disk). A cheap cache key
    for loaded models: it changes when an admin promotes, rolls back, disables or enables."""
    try:
        return serving_version(family)
    except Exception:  # same fallback as core.registry.load_active
        return None, False


def disabled_message(family: str) -> str:
    return (f"Model family '{family}' is disabled by an admin; predictions fall back to the "
            "naive baseline. An admin can enable it or promote a version on the Admin page.")


def check_not_disabled(family: str) -> None:
    """Raise NotTrainedError (see module contract) when ``family`` is disabled."""
    _, disabled = serving_version(family)
    if disabled:
        raise NotTrainedError(disabled_message(family))


def load_active(family: str, *, models_dir: Path | None = None) -> Artifact:
    """The verified artifact that serves predictions for ``family``.

    Contract (serving code relies on it):

    * the store (:mod:`core.store`) records an ``active`` version -> that version is loaded;
    * an admin *disabled* the family -> :class:`NotTrainedError` whose message starts with
      ``"Model family '<family>' is disabled"``: catch it, serve the naive baseline and show
      a banner ("model disabled, naive baseline shown");
    * the store has no row for the family (or cannot be opened) -> the newest version on
      disk (fresh clone before ``quantdesk init``).

    Raises:
        NotTrainedError: no version exists, or the family is disabled.
        ArtifactIntegrityError: a file of the chosen version is missing or was modified.
    """
    version = None
    try:
        version, disabled = serving_version(family)
    except Exception as err:  # store unreachable (locked/corrupt db, bad URL): serve from disk
        log.warning(
            "Model store unavailable (%s); serving the newest %s version on disk.", err, family)
        version, disabled = None, False
    if disabled:
        raise NotTrainedError(disabled_message(family))
    if version is not None and not (models_root(models_dir) / family / version).is_dir():
        raise ArtifactIntegrityError(
            f"The active version {family}/{version} is missing from {models_root(models_dir)}. "
            "Restore it, or promote/roll back to another version on the Admin page."
        )
    return load_artifact(family, version, models_dir=models_dir)
