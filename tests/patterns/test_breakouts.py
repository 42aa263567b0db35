"""Breakout levels, the barrier target on hand-built SYNTHETIC paths, and the classifier."""

import numpy as np
import pandas as pd
import pytest

from core.errors import InsufficientDataError, NotTrainedError
from core.patterns.breakout_model import BreakoutClassifier, score
from core.patterns.breakouts import FEATURES, find_levels
from core.targets import barrier_outcome
from tests.conftest import synthetic_ohlcv
from tests.patterns.pattern_candles import frame


def _path(closes, spread=0.1):
    """SYNTHETIC bars: open = previous close, high/low = max/min(open, close) +- spread."""
    bars, prev = [], closes[0]
    for c in closes:
        bars.append((prev, max(prev, c) + spread, min(prev, c) - spread, c))
        prev = c
    return frame(bars)


def _outcome(closes, direction=1, horizon=5, atr_value=1.0):
    f = _path(closes)
    ev = pd.Series(0, index=f.index)
    ev.iloc[0] = direction
    return barrier_outcome(f, ev, pd.Series(atr_value, index=f.index), k_target=2, k_stop=1,
                           horizon=horizon).iloc[0]


def test_barrier_success_before_stop():
    assert _outcome([100, 100.5, 101.2, 102.1, 101, 100]) == 1.0


def test_barrier_stop_first():
    assert _outcome([100, 99.5, 98.8, 103, 104, 105]) == 0.0


def test_barrier_same_bar_counts_as_failure():
    f = frame([(100, 100.1, 99.9, 100), (100, 102.5, 98.5, 100)] + [(100, 100.1, 99.9, 100)] * 5)
    ev = pd.Series(0, index=f.index)
    ev.iloc[0] = 1
    out = barrier_outcome(f, ev, pd.Series(1.0, index=f.index), horizon=3)
    assert out.iloc[0] == 0.0


def test_barrier_neither_hit_within_horizon_and_unknown_future():
    assert _outcome([100, 100.5, 100.8, 100.5, 101, 101.5, 103], horizon=5) == 0.0
    assert np.isnan(_outcome([100, 100.5, 100.8], horizon=5))  # not enough future bars


def test_barrier_short_side():
    assert _outcome([100, 99.5, 98.8, 97.9, 98, 98], direction=-1) == 1.0
    assert _outcome([100, 100.5, 101.2, 97, 96, 95], direction=-1) == 0.0


def test_barrier_rejects_bad_parameters():
    f = _path([100] * 10)
    with pytest.raises(ValueError):
        barrier_outcome(f, pd.Series(0, index=f.index), pd.Series(1.0, index=f.index), horizon=0)


def _peak_then_breakout():
    up = list(np.linspace(100, 110, 11))
    down = list(np.linspace(109, 104, 8))
    flat = [104.5, 105, 104.8, 105.2]
    rally = [107, 109, 111.5, 112]
    return up + down + flat + rally


def test_pivot_level_and_breakout_bar():
    closes = _peak_then_breakout()
    f = _path(closes)
    lv = find_levels(f)
    ups = np.flatnonzero(lv.events.to_numpy() == 1)
    assert len(ups) >= 1
    first = ups[0]
    assert closes[first] > 110.1 >= closes[first - 1]  # the close went through the peak high
    assert lv.level.iloc[first] == pytest.approx(110.1)


def test_levels_are_causal():
    closes = _peak_then_breakout()
    early = find_levels(_path(closes)).events
    later = find_levels(_path(closes + [100, 95, 90, 85, 80])).events.iloc[: len(closes)]
    assert (early.to_numpy() == later.to_numpy()).all()


def test_pivot_needs_confirmation_bars():
    # the peak is only 3 bars old at the end: with k = 5 it is not a level yet
    closes = list(np.linspace(100, 110, 15)) + [109, 108, 107.5]
    lv = find_levels(_path(closes))
    assert lv.active_resistance == []


def test_find_levels_too_short():
    with pytest.raises(InsufficientDataError):
        find_levels(_path([100, 101, 102]))


def _synthetic_events(n=300, seed=1):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=list(FEATURES))
    y = (X["penetration_atr"] + rng.normal(scale=1.0, size=n) > 0.5).astype(int)
    return X, y


def test_classifier_not_trained_and_roundtrip():
    X, y = _synthetic_events()
    with pytest.raises(NotTrainedError):
        BreakoutClassifier().predict_proba(X)
    clf = BreakoutClassifier().fit(X, y)
    p = clf.predict_proba(X)
    assert p.shape == (len(X),) and ((p >= 0) & (p <= 1)).all()
    back = BreakoutClassifier.from_bytes(clf.to_bytes(), "mlp_svm", clf.base_rate_)
    np.testing.assert_array_equal(back.predict_proba(X), p)


def test_score_flags_no_skill_for_random_probabilities():
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({"success": rng.integers(0, 2, n).astype(float), "p": rng.uniform(0, 1, n),
                       "p_base": 0.5, "direction": rng.choice([1, -1], n)})
    res = score(df, n_boot=200)
    assert res["skill"] is False
    assert res["brier"] > res["brier_base_rate"]


def test_could_break_out_is_a_necessary_condition():
    """Wherever find_levels marks the last bar a breakout, could_break_out says True (so the
    shortcut in breakout_prediction never hides one); and it says False on most bars."""
    from core.data import load_ohlcv
    from core.patterns.breakouts import could_break_out, find_levels

    frames = [load_ohlcv(s, source="bundled").frame.iloc[-900:] for s in ("MSFT", "^GSPC")]
    frames.append(synthetic_ohlcv(900, seed=11))
    falses = total = 0
    for f in frames:
        events = find_levels(f).events.to_numpy()
        for t in range(300, len(f), 3):
            prefix = f.iloc[:t + 1]
            quick = could_break_out(prefix)
            total += 1
            falses += not quick
            if events[t] != 0:  # find_levels on a prefix gives the same event at its end
                assert find_levels(prefix).events.iloc[-1] == events[t]
                assert quick, (t, f.index[t])
    assert falses > total / 3


def test_active_levels_equal_find_levels():
    """The vectorised active levels are exactly find_levels' (resistance and support after
    the last bar) on real and SYNTHETIC histories, at many cut points."""
    from core.data import load_ohlcv
    from core.patterns.breakouts import active_levels

    for f in (load_ohlcv("IBM", source="bundled").frame.iloc[-700:],
              synthetic_ohlcv(700, seed=12)):
        for t in range(12, len(f), 9):
            prefix = f.iloc[:t + 1]
            levels = find_levels(prefix)
            assert active_levels(prefix) == (levels.active_resistance, levels.active_support)
    with pytest.raises(InsufficientDataError):
        active_levels(f.iloc[:5])
