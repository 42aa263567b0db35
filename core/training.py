"""Train model families by name: what the Admin page, ``quantdesk models retrain`` and
``quantdesk init`` call. The families come from :data:`core.families.FAMILIES`; the
single-flight run, its record and the candidate registration are
:func:`core.store.runs.run_single_flight`. Nothing here knows about authentication: the
caller checks that ``who`` may retrain.
"""

from __future__ import annotations

from typing import Callable

from core.errors import QuantdeskError
from core.families import FAMILIES
from core.family import Progress
from core.store.runs import TRAINING_LOCK, run_single_flight, training_runs

__all__ = ["FAMILIES", "TRAINING_LOCK", "run_training", "train_all", "trainer", "training_runs"]


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
