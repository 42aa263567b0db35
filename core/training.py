"""Train model families by name: what the Admin page, ``quantdesk models retrain`` and
``quantdesk init`` call. The families come from :data:`core.families.FAMILIES`; the
single-flight run, its record and the candidate registration are
:func:`core.store.runs.run_single_flight`. Nothing here knows about authentication: the
caller checks that ``who`` may retrain.

:func:`run_training` trains in the calling thread (the CLI); :func:`start_training` in a
background job of this process (:func:`core.store.runs.start_single_flight`), which is what
a server (the Admin page) uses: the page only watches the job, so a closed tab does not stop
or orphan the run.
"""

from __future__ import annotations

from typing import Callable

from core.errors import QuantdeskError
from core.families import FAMILIES
from core.family import Progress
from core.store.runs import (
    TRAINING_LOCK, RetrainJob, get_job, jobs, run_single_flight, start_single_flight,
    training_runs,
)

#: :func:`start_training`'s name for every family in turn.
ALL_FAMILIES = "all"

__all__ = ["ALL_FAMILIES", "FAMILIES", "TRAINING_LOCK", "RetrainJob", "get_job", "jobs",
           "run_training", "start_training", "train_all", "trainer", "training_runs"]


def trainer(family: str) -> Callable[..., object]:
    """The training function of ``family``. Raises KeyError for an unknown family.

    A :data:`FAMILIES` value is a :class:`core.family.ModelFamily` (or, in tests, the
    training callable itself)."""
    target = FAMILIES[family]
    return target if callable(target) else target.train


def run_training(family: str, *, who: str, progress: Progress | None = None, stale_after=None):
    """Train ``family`` once, single-flight, and register the result as a candidate.

    Returns:
        The :class:`core.store.TrainingRun` row: ``COMPLETED`` with ``version`` set, or
        ``FAILED`` with ``error`` holding the exception text (see
        :func:`core.store.runs.run_single_flight`).

    Raises:
        QuantdeskError: unknown family.
        TrainingInProgressError: another retrain holds the lock ("A retrain of X started by Y
            at T is running").
    """
    if family not in FAMILIES:
        raise QuantdeskError(f"Unknown model family {family!r}. Known: "
                             f"{', '.join(sorted(FAMILIES)) or 'none registered'}.")
    return run_single_flight(family, trainer(family), who=who, progress=progress,
                             stale_after=stale_after)


def train_all(*, who: str, progress: Progress | None = None) -> list:
    """Run :func:`run_training` for every family in turn (one at a time); returns the runs.
    ``progress`` receives the overall fraction and ``"<family>: <message>"``."""
    runs = []
    fams = sorted(FAMILIES)
    for i, fam in enumerate(fams):
        def sub(frac: float, msg: str, _i=i, _fam=fam) -> None:
            if progress is not None:
                progress((_i + max(0.0, min(1.0, frac))) / len(fams), f"{_fam}: {msg}")
        runs.append(run_training(fam, who=who, progress=sub))
    return runs


def start_training(family: str, *, who: str, stale_after=None) -> RetrainJob:
    """Train ``family`` (or :data:`ALL_FAMILIES`, every family in turn) in a background job
    of this process; returns the :class:`core.store.runs.RetrainJob` at once (follow
    ``job.progress``/``job.message``, ``job.wait()``, then ``job.runs``).

    The (first) family's lock and ``TRAINING`` run are taken before this returns, so:

    Raises:
        QuantdeskError: unknown family.
        TrainingInProgressError: another retrain holds the lock.
        sqlalchemy.exc.SQLAlchemyError: the store cannot be read or written.
    """
    if family == ALL_FAMILIES:
        fams = sorted(FAMILIES)
        if not fams:
            raise QuantdeskError("No model family is registered.")
    elif family not in FAMILIES:
        raise QuantdeskError(f"Unknown model family {family!r}. Known: "
                             f"{', '.join(sorted(FAMILIES)) or 'none registered'}.")
    else:
        fams = [family]
    return start_single_flight([(f, trainer(f)) for f in fams], who=who,
                               stale_after=stale_after)
