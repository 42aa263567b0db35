import math

import numpy as np
import pytest
from scipy import stats as st

from core.evaluation import (
    always_up, block_bootstrap_ci, coverage, diebold_mariano, directional_accuracy,
    effective_n, newey_west_variance, rmse_ratio, spearman_ic, walk_forward_splits, wilson_ci,
)


def test_wilson_hand_value():
    # p=0.55, n=100, z=1.959964: centre 0.548153, half-width 0.095707 (worked by hand)
    lo, hi = wilson_ci(55, 100)
    assert lo == pytest.approx(0.45245, abs=1e-4)
    assert hi == pytest.approx(0.64385, abs=1e-4)
    # effective n widens the interval for overlapping targets
    lo5, hi5 = wilson_ci(55 / 5, effective_n(100, 5))
    assert hi5 - lo5 > hi - lo
    assert wilson_ci(0, 0) != wilson_ci(0, 0)  # nan tuple


def test_newey_west_hand_value():
    x = np.array([1.0, -1.0, 2.0, 0.0])  # mean 0.5, deviations .5 -1.5 1.5 -.5
    g0 = (0.25 + 2.25 + 2.25 + 0.25) / 4
    g1 = (0.5 * -1.5 + -1.5 * 1.5 + 1.5 * -0.5) / 4
    assert newey_west_variance(x, 0) == pytest.approx(g0)
    assert newey_west_variance(x, 1) == pytest.approx(g0 + 2 * 0.5 * g1)


def test_diebold_mariano_hand_value():
    e1 = np.array([1.0, 2.0, -1.0, 0.5, 1.5, -2.0])
    e2 = np.array([0.5, 1.0, -1.0, 1.0, 1.0, -1.0])
    d = e1 ** 2 - e2 ** 2  # .75 3 0 -.75 1.25 3
    n, h = 6, 2
    var = newey_west_variance(d, h - 1)
    dm = d.mean() / math.sqrt(var / n)
    stat = dm * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    res = diebold_mariano(e1, e2, horizon=h)
    assert res.statistic == pytest.approx(stat)
    assert res.pvalue == pytest.approx(2 * st.t(df=n - 1).sf(abs(stat)))
    assert res.statistic > 0  # model 1 has the larger loss
    flipped = diebold_mariano(e2, e1, horizon=h)
    assert flipped.statistic == pytest.approx(-stat)
    assert diebold_mariano(e1, e2, horizon=h, alternative="less").pvalue > 0.5


def test_dm_detects_a_better_model():
    rng = np.random.default_rng(1)
    y = rng.normal(size=2000)
    good = rng.normal(scale=0.5, size=2000)
    res = diebold_mariano(good, y, horizon=1)
    assert res.pvalue < 1e-6 and res.statistic < 0


def test_splitter_embargo_and_unseen():
    n, h = 1000, 20
    folds = walk_forward_splits(n, horizon=h, initial_train=300, step=100)
    seen_test = []
    for f in folds:
        # no train index within `horizon` of any test index, and none after it
        assert f.train.max() < f.test.min() - h
        assert np.all(f.test.min() - f.train > h)
        assert not set(f.train) & set(seen_test) or f.train.max() < f.test.min()
        seen_test.extend(f.test)
    assert sorted(seen_test) == list(range(300, n))  # every later bar tested exactly once
    assert len(folds[1].train) > len(folds[0].train)  # expanding
    with pytest.raises(ValueError):
        walk_forward_splits(100, horizon=50, initial_train=40, step=10)


def test_metrics():
    y = np.array([0.01, -0.02, 0.03, np.nan])
    p = np.array([0.01, -0.01, -0.01, 0.5])
    assert rmse_ratio(y, np.zeros(4)) == pytest.approx(1.0)
    acc, hits, n = directional_accuracy(y, p)
    assert (hits, n) == (2, 3)
    assert always_up(y)[0] == pytest.approx(2 / 3)
    assert spearman_ic([1, 2, 3, 4], [1, 2, 3, 5]) == pytest.approx(1.0)
    assert math.isnan(spearman_ic([1, 2, 3], [0, 0, 0]))
    assert coverage([0, 1, 2], [-1, 0, 3], [1, 2, 4]) == pytest.approx(2 / 3)


def test_block_bootstrap_covers_mean():
    x = np.random.default_rng(0).normal(1.0, 1.0, 500)
    lo, hi = block_bootstrap_ci(x, block=10, n_boot=500)
    assert lo < 1.0 < hi and hi - lo < 0.5
