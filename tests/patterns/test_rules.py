"""Each detector on hand-built SYNTHETIC candles: a positive case and a near miss, plus the
trend context (same candles after the opposite trend are not flagged)."""

import pytest

from core.errors import InsufficientDataError
from core.patterns.rules import PATTERNS, detect, detections_table
from tests.patterns.pattern_candles import X, context, frame

# name -> (trend before, pattern candles, near-miss candles); X = close of the last context bar
CASES = {
    "doji": ("flat", [(X, X + 0.8, X - 0.8, X + 0.01)], [(X, X + 0.8, X - 0.8, X + 0.4)]),
    "hammer": ("down", [(X - 0.2, X + 0.05, X - 1.2, X)], [(X - 0.2, X + 0.05, X - 0.3, X)]),
    "shooting_star": ("up", [(X + 0.1, X + 1.3, X + 0.05, X + 0.3)],
                      [(X + 0.1, X + 0.5, X + 0.05, X + 0.3)]),
    "engulfing_bullish": ("down", [(X - 0.1, X + 1.2, X - 0.2, X + 1.1)],
                          [(X + 0.2, X + 1.2, X + 0.1, X + 0.8)]),
    "engulfing_bearish": ("up", [(X + 0.1, X + 0.2, X - 1.2, X - 1.1)],
                          [(X - 0.2, X - 0.1, X - 1.2, X - 0.8)]),
    "morning_star": ("down", [(X, X + 0.1, X - 2.1, X - 2), (X - 2.3, X - 2.2, X - 2.5, X - 2.4),
                              (X - 2.2, X - 0.7, X - 2.3, X - 0.8)],
                     [(X, X + 0.1, X - 2.1, X - 2), (X - 2.3, X - 2.2, X - 2.5, X - 2.4),
                      (X - 2.2, X - 1.7, X - 2.3, X - 1.8)]),
    "evening_star": ("up", [(X, X + 2.1, X - 0.1, X + 2), (X + 2.3, X + 2.5, X + 2.2, X + 2.4),
                            (X + 2.2, X + 2.3, X + 0.7, X + 0.8)],
                     [(X, X + 2.1, X - 0.1, X + 2), (X + 2.3, X + 2.5, X + 2.2, X + 2.4),
                      (X + 2.2, X + 2.3, X + 1.7, X + 1.8)]),
    "three_white_soldiers": ("down", [(X, X + 1.1, X - 0.1, X + 1), (X + 0.5, X + 1.6, X + 0.4, X + 1.5),
                                      (X + 1.0, X + 2.1, X + 0.9, X + 2.0)],
                             [(X, X + 1.1, X - 0.1, X + 1), (X + 0.5, X + 1.6, X + 0.4, X + 1.5),
                              (X + 1.6, X + 2.7, X + 1.5, X + 2.6)]),
    "three_black_crows": ("up", [(X, X + 0.1, X - 1.1, X - 1), (X - 0.5, X - 0.4, X - 1.6, X - 1.5),
                                 (X - 1.0, X - 0.9, X - 2.1, X - 2.0)],
                          [(X, X + 0.1, X - 1.1, X - 1), (X - 0.5, X - 0.4, X - 1.6, X - 1.5),
                           (X - 1.6, X - 1.5, X - 2.7, X - 2.6)]),
    "harami": ("down", [(X, X + 0.1, X - 2.1, X - 2), (X - 1.2, X - 0.8, X - 1.3, X - 0.9)],
               [(X, X + 0.1, X - 2.1, X - 2), (X - 2.3, X - 1.8, X - 2.4, X - 1.9)]),
    "piercing_line": ("down", [(X, X + 0.1, X - 2.1, X - 2), (X - 2.3, X - 0.6, X - 2.4, X - 0.7)],
                      [(X, X + 0.1, X - 2.1, X - 2), (X - 2.3, X - 1.1, X - 2.4, X - 1.2)]),
    "dark_cloud_cover": ("up", [(X, X + 2.1, X - 0.1, X + 2), (X + 2.3, X + 2.4, X + 0.6, X + 0.7)],
                         [(X, X + 2.1, X - 0.1, X + 2), (X + 2.3, X + 2.4, X + 1.1, X + 1.2)]),
    "tweezer_top": ("up", [(X, X + 0.3, X - 0.7, X - 0.6)], [(X, X + 0.5, X - 0.7, X - 0.6)]),
    "tweezer_bottom": ("down", [(X, X + 0.7, X - 0.3, X + 0.6)], [(X, X + 0.7, X - 0.5, X + 0.6)]),
    "marubozu": ("flat", [(X, X + 2.01, X - 0.01, X + 2)], [(X, X + 2.5, X - 0.01, X + 2)]),
}
OPPOSITE = {"down": "up", "up": "down"}


def _last_hits(trend, candles, trend_context=True):
    f = frame(context(trend) + candles)
    return detect(f, trend_context=trend_context).hits.iloc[-1]


def test_cases_cover_all_patterns():
    assert set(CASES) == set(PATTERNS)


@pytest.mark.parametrize("name", PATTERNS)
def test_detector_positive(name):
    trend, pos, _ = CASES[name]
    assert _last_hits(trend, pos)[name], f"{name} not detected on its textbook candles"


@pytest.mark.parametrize("name", PATTERNS)
def test_detector_near_miss(name):
    trend, _, miss = CASES[name]
    assert not _last_hits(trend, miss)[name], f"{name} fired on a near miss"


@pytest.mark.parametrize("name", [p for p in PATTERNS if CASES[p][0] != "flat"])
def test_trend_context_required(name):
    """The same candles after the opposite trend (or no trend) are not the pattern."""
    trend, pos, _ = CASES[name]
    # keep the geometry identical: the context only changes the bars before the pattern
    assert not _last_hits(OPPOSITE[trend], pos)[name]
    assert not _last_hits("flat", pos)[name]


def test_trend_context_can_be_disabled():
    trend, pos, _ = CASES["morning_star"]
    assert _last_hits("up", pos, trend_context=False)["morning_star"]
    assert not _last_hits("up", pos)["morning_star"]


def test_directions_and_table():
    trend, pos, _ = CASES["harami"]
    f = frame(context(trend) + pos)
    det = detect(f)
    assert det.direction["harami"].iloc[-1] == 1
    assert det.strength.to_numpy().max() <= 1.0
    tab = detections_table(f, det)
    assert ((tab["pattern"] == "harami") & (tab["direction"] == "bullish")).any()


def test_no_lookahead_detection_is_causal():
    """Appending future bars never changes past detections."""
    trend, pos, _ = CASES["morning_star"]
    bars = context(trend) + pos
    early = detect(frame(bars)).hits
    later = detect(frame(bars + context("up", n=8, end=X + 5))).hits.iloc[: len(bars)]
    assert (early.to_numpy() == later.to_numpy()).all()


def test_too_short_input_raises_clear_error():
    with pytest.raises(InsufficientDataError, match="at least 20 bars"):
        detect(frame(context("down", n=10)))
