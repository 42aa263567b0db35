"""Which artifact serves a family: the store's choice (promote, rollback, disable) applied to
the verified artifacts on disk. Serving code calls :func:`load_active`; caches key on
:func:`serving_key`; pages show :func:`store_notice` as a banner.

Contract (serving code relies on it). The store alone decides; an unpromoted candidate never
serves:

* the store records an ``active`` version -> that version is loaded;
* an admin *disabled* the family -> :class:`core.errors.NotTrainedError` whose message
  starts with ``"Model family '<family>' is disabled"``: serve the naive baseline and say so;
* the store has rows for the family but none is active (candidates only) ->
  :class:`core.errors.NotTrainedError` ("... has no promoted version ..."): naive baseline;
* the store is readable and has **no row at all** for the family -> the newest version on
  disk. This is the fresh clone before ``quantdesk init`` (shipped artifacts, empty store):
  no version of the family was ever registered, so there is no store decision to
  contradict. As soon as any version of the family is registered (``quantdesk init``, any
  ``train`` command, a retrain), the store decides and the disk is never consulted;
* the store cannot be read (file deleted or unreadable, locked, bad URL) -> the version this
  process last saw the store choose for the family (process memory), with
  :func:`store_notice` set for a banner ("model store unavailable: serving the last known
  version X"); a family last seen disabled stays disabled; a family this process never saw
  raises :class:`core.errors.NotTrainedError` ("model store unavailable ..."): naive
  baseline. The disk's newest version is never served in this case.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from pathlib import Path
from typing import Callable, Iterator

from core.errors import ArtifactIntegrityError, NotTrainedError
from core.registry import Artifact, load_artifact, models_root
from core.store.db import session_scope
from core.store.ops import family_registered, serving_row

log = logging.getLogger(__name__)

#: what this process last read from the store per family: a version, or _DISABLED
_LAST_KNOWN: dict[str, str] = {}
#: family -> banner text while it is served from process memory (store unreadable)
_NOTICES: dict[str, str] = {}
_DISABLED = "\0disabled"
#: :func:`resolve_versions`' marker of a disabled family
DISABLED = "disabled"
_MEMORY_LOCK = threading.Lock()


def serving_version(family: str) -> tuple[str | None, bool]:
    """``(active_version, disabled)`` for ``family`` from the default store, opening its own
    session. Raises whatever the store raises when it cannot be read."""
    with session_scope() as session:
        return serving_row(family, session=session)


def serving_state(family: str) -> tuple[str | None, bool, bool]:
    """``(active_version, disabled, registered)`` for ``family`` from the default store;
    ``registered``: the store has any row of the family. Raises what the store raises."""
    version, disabled = serving_version(family)
    if version is not None or disabled:
        return version, disabled, True
    with session_scope() as session:
        return None, False, family_registered(family, session=session)


def serving_key(family: str) -> tuple[str | None, bool]:
    """:func:`serving_version`; when the store cannot be read, the version this process
    last knew (``(version, False)``, ``(None, True)`` for a family last seen disabled,
    ``(None, False)`` if none). A cheap cache key for loaded models: it changes when an
    admin promotes, rolls back, disables or enables."""
    try:
        return serving_version(family)
    except Exception:  # store unreadable: same process memory as load_active
        with _MEMORY_LOCK:
            last = _LAST_KNOWN.get(family)
        if last == _DISABLED:
            return None, True
        return last, False


def store_notice(family: str) -> str | None:
    """Banner text while ``family`` is served from process memory because the store cannot
    be read ("model store unavailable: serving the last known version X"), else None."""
    with _MEMORY_LOCK:
        return _NOTICES.get(family)


def store_notices() -> dict[str, str]:
    """Every family's :func:`store_notice` now (family -> banner text)."""
    with _MEMORY_LOCK:
        return dict(_NOTICES)


def forget() -> None:
    """Drop the process memory of served versions (tests; a process that switched stores)."""
    with _MEMORY_LOCK:
        _LAST_KNOWN.clear()
        _NOTICES.clear()


def disabled_message(family: str) -> str:
    return (f"Model family '{family}' is disabled by an admin; predictions fall back to the "
            "naive baseline. An admin can enable it or promote a version on the Admin page.")


def check_not_disabled(family: str) -> None:
    """Raise NotTrainedError (see module contract) when ``family`` is disabled."""
    _, disabled = serving_version(family)
    if disabled:
        raise NotTrainedError(disabled_message(family))


def _remember(family: str, value: str) -> None:
    with _MEMORY_LOCK:
        _LAST_KNOWN[family] = value
        _NOTICES.pop(family, None)


def _from_memory(family: str, err: Exception) -> str:
    """The version to serve when the store cannot be read (see the module contract)."""
    with _MEMORY_LOCK:
        last = _LAST_KNOWN.get(family)
        if last is not None and last != _DISABLED:
            _NOTICES[family] = f"model store unavailable: serving the last known version {last}"
    if last == _DISABLED:
        raise NotTrainedError(disabled_message(family))
    if last is None:
        raise NotTrainedError(
            f"Model family '{family}': the model store is unavailable ({type(err).__name__}) "
            "and this process has not served a version of it yet, so the naive baseline is "
            "shown. Check DATABASE_URL / the data directory; serving resumes when the store "
            "can be read.")
    log.warning("Model store unavailable (%s); serving the last known %s version %s.",
                err, family, last)
    return last


# ---------------------------------------------------------------- pinned versions (scans)

#: family -> version (or _DISABLED / None) pinned for a batch job in this context
_PINNED: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "quantdesk_pinned_versions", default=None)
#: verified artifacts by (models root, family, version), read once per process while pinned
_PINNED_ARTIFACTS: dict[tuple[str, str, str], Artifact] = {}
#: parsed models by (artifact path, version, name): see :func:`parsed_model`
_PARSED: dict[tuple[str, str, str], object] = {}
_PARSED_MAX = 64


def resolve_versions(families) -> dict[str, str | None]:
    """The version that serves each of ``families`` now (one store read per family), for
    :func:`pinned`: a version id, :data:`DISABLED` for a disabled family, None for one
    that has nothing to serve. A batch job (a universe scan) resolves once, so every row
    uses the same versions even if an admin promotes meanwhile, and the versions become
    part of its cache key."""
    out: dict[str, str | None] = {}
    for fam in families:
        try:
            out[fam] = load_active(fam).version
        except NotTrainedError as err:
            out[fam] = DISABLED if "is disabled" in str(err) else None
        except ArtifactIntegrityError:
            out[fam] = None
    return out


@contextlib.contextmanager
def pinned(versions: dict[str, str | None]) -> Iterator[None]:
    """Within the block, :func:`load_active` serves the versions of ``versions`` (from
    :func:`resolve_versions`) without reading the store, each artifact read and verified
    once per process. Families not in ``versions`` are served as usual. Used by batch
    workers (Ray tasks run in other processes: the driver passes the mapping)."""
    token = _PINNED.set(dict(versions))
    try:
        yield
    finally:
        _PINNED.reset(token)


def _load_pinned(family: str, version: str | None, models_dir: Path | None) -> Artifact:
    if version == DISABLED:
        raise NotTrainedError(disabled_message(family))
    if version is None:
        raise NotTrainedError(f"Model family '{family}' has no version to serve (pinned for "
                              "this batch job); the naive baseline is shown.")
    key = (str(models_root(models_dir)), family, version)
    art = _PINNED_ARTIFACTS.get(key)
    if art is None:
        art = load_artifact(family, version, models_dir=models_dir)
        if len(_PINNED_ARTIFACTS) > _PARSED_MAX:
            _PINNED_ARTIFACTS.clear()
        _PINNED_ARTIFACTS[key] = art
    return art


def parsed_model(art: Artifact, name: str, build: Callable[[Artifact], object]) -> object:
    """``build(art)`` once per (artifact path, version, ``name``) per process: parsing a
    model (skops, safetensors) costs 10-30 ms, more than predicting with it. Versions are
    immutable on disk and ``art`` was verified by sha256 before this is called."""
    key = (str(art.path), art.version, name)
    with _MEMORY_LOCK:
        hit = _PARSED.get(key)
    if hit is None:
        hit = build(art)
        with _MEMORY_LOCK:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[key] = hit
    return hit


def load_active(family: str, *, models_dir: Path | None = None) -> Artifact:
    """The verified artifact that serves predictions for ``family``.

    Contract: see the module docstring (the store alone decides; an unpromoted candidate
    never serves; store unreadable -> the last version this process saw, with
    :func:`store_notice` set, or NotTrainedError).

    Raises:
        NotTrainedError: the family is disabled, has no promoted version, has no version at
            all, or the store cannot be read and no version of it is known to this process.
        ArtifactIntegrityError: a file of the chosen version is missing or was modified.
    """
    pins = _PINNED.get()
    if pins is not None and family in pins:
        return _load_pinned(family, pins[family], models_dir)
    from_memory = False
    try:
        version, disabled, registered = serving_state(family)
    except Exception as err:  # store unreachable (deleted/locked/corrupt db, bad URL)
        version, from_memory = _from_memory(family, err), True
    else:
        if disabled:
            _remember(family, _DISABLED)
            raise NotTrainedError(disabled_message(family))
        if version is None and registered:
            raise NotTrainedError(
                f"Model family '{family}' has no promoted version: trained versions are "
                "candidates until an admin promotes one (Admin page, or `quantdesk models "
                f"promote {family} VERSION`). The naive baseline is shown meanwhile.")
    if version is not None and not (models_root(models_dir) / family / version).is_dir():
        raise ArtifactIntegrityError(
            f"The active version {family}/{version} is missing from {models_root(models_dir)}. "
            "Restore it, or promote/roll back to another version on the Admin page."
        )
    art = load_artifact(family, version, models_dir=models_dir)
    if not from_memory:
        _remember(family, art.version)
    return art
