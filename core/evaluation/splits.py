"""Walk-forward (expanding window) splits with an embargo between train and test.

Source: López de Prado, *Advances in Financial Machine Learning* (2018), ch. 7 (purging and
embargo); Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, §5.10
(time-series cross-validation / evaluation on a rolling forecasting origin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """One walk-forward fold; positions are integer row positions (not labels).

    Attributes:
        train: int64 positions ``0 .. test_start - embargo - 1`` (expanding window).
        test: int64 positions ``test_start .. test_start + step - 1`` (clipped to ``n``).
        fold: 0-based fold number.
    """

    train: np.ndarray
    test: np.ndarray
    fold: int


def walk_forward_splits(
    n: int,
    *,
    horizon: int,
    initial_train: int,
    step: int,
    embargo: int | None = None,
    max_train: int | None = None,
) -> list[Split]:
    """Expanding-window walk-forward folds over ``n`` time-ordered rows.

    A model is refit at each fold on ``train`` and scored on ``test`` only (bars it never saw).
    A row's target at position ``i`` spans bars ``i+1 .. i+horizon``; to stop that label
    from overlapping the test period, the last ``embargo`` (default ``horizon``) rows before
    the test start are dropped from training: every train position ``i`` satisfies
    ``test[0] - i > embargo`` (so ``i + horizon < test[0]``), and no test row is trained on.

    Args:
        n: number of rows (bars). horizon: target horizon [bars], >= 1.
        initial_train: rows available before the first test block (before the embargo).
        step: test-block length = refit period k [bars], >= 1.
        embargo: rows purged before each test block [bars]; default ``horizon``.
        max_train: keep only the last ``max_train`` train rows (rolling window) when set.

    Returns:
        Folds in time order; empty when ``n <= initial_train``.

    Raises:
        ValueError: non-positive horizon/step, negative embargo, or an initial training
            window that the embargo empties.
    """
    if horizon < 1 or step < 1:
        raise ValueError("horizon and step must be >= 1 bar")
    embargo = horizon if embargo is None else int(embargo)
    if embargo < 0:
        raise ValueError("embargo must be >= 0 bars")
    if initial_train - embargo < 1:
        raise ValueError(
            f"initial_train={initial_train} leaves no training rows after an embargo of "
            f"{embargo} bars; use a longer history or a shorter horizon")
    folds: list[Split] = []
    start = int(initial_train)
    k = 0
    while start < n:
        stop = min(start + step, n)
        train_end = start - embargo  # exclusive
        lo = 0 if max_train is None else max(0, train_end - max_train)
        folds.append(Split(np.arange(lo, train_end, dtype=np.int64),
                           np.arange(start, stop, dtype=np.int64), k))
        start = stop
        k += 1
    return folds
