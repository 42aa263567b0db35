"""Fused signal: thresholds, skill gating, damping, reasons."""

import math

import pandas as pd
import pytest

from core.predictions import Prediction
from core.panel.signals import (ACT, BUY, HOLD, SELL, STRONG, STRONG_BUY, STRONG_SELL, WEIGHTS,
                          forecast_reason, forecast_score, fuse)

T0 = pd.Timestamp("2012-01-03", tz="UTC")


def fc(value, lo, hi, h=5, skill=None, version="v1"):
    out = {} if skill is None else {"skill": skill}
    return Prediction("forecast", version, "MSFT", "1d", "log_return", h, T0, value,
                      lower=lo, upper=hi, output=out)


def pattern(name, direction, p, rule_hit=True, threshold=0.5):
    return Prediction("patterns-cnn", "p1", "MSFT", "1d", "probability", 0, T0, p,
                      output={"event": name, "direction": direction, "rule_hit": rule_hit,
                              "threshold": threshold})


def breakout(up: bool, p: float, skill=True):
    return Prediction("breakout", "b1", "MSFT", "1d", "probability", 10, T0, p,
                      output={"event": "breakout_up" if up else "breakout_down",
                              "skill": skill})


def test_reason_text_matches_issue_format():
    p = fc(math.log1p(0.012), math.log1p(-0.004), math.log1p(0.028))
    assert forecast_reason(p) == "5-bar forecast +1.2% [80% -0.4, +2.8]"


def test_forecast_score_is_value_in_units_of_half_band():
    assert forecast_score(fc(0.01, -0.01, 0.03)) == pytest.approx(0.5)
    assert forecast_score(fc(0.05, 0.01, 0.09)) == 1.0  # clipped
    assert forecast_score(fc(-0.02, -0.04, 0.0)) == -1.0
    assert forecast_score(fc(0.0, -0.02, 0.02)) == 0.0


def test_no_evidence_is_hold_with_zero_confidence():
    s = fuse([])
    assert s.action == HOLD and s.confidence == 0.0
    assert "No skilled directional evidence" in s.reasons[0]


def test_forecast_only_buy_and_sell_thresholds():
    # score = value / half band; forecast alone -> S equals it
    assert fuse([fc(0.01, -0.02, 0.03)]).action == BUY           # S = 0.4
    assert fuse([fc(-0.01, -0.03, 0.02)]).action == SELL         # S = -0.4
    assert fuse([fc(0.001, -0.02, 0.02)]).action == HOLD         # S = 0.05 < ACT
    one = fuse([fc(0.05, 0.01, 0.09)])                            # S = 1 but one component
    assert one.action == BUY and one.score == pytest.approx(1.0)
    assert one.confidence == pytest.approx(WEIGHTS["forecast"] / sum(WEIGHTS.values()))


def test_strong_needs_agreement_of_two_components():
    s = fuse([fc(0.05, 0.01, 0.09), pattern("hammer", "bullish", 0.9)])
    assert s.action == STRONG_BUY
    assert s.score >= STRONG
    assert "Pattern: hammer (bullish, p=0.90)" in s.reasons
    s2 = fuse([fc(-0.05, -0.09, -0.01), breakout(False, 0.9)])
    assert s2.action == STRONG_SELL
    assert set(s2.components) == {"forecast", "breakout"}


def test_conflicting_components_cancel_to_hold():
    s = fuse([fc(0.01, -0.01, 0.03, h=1), pattern("shooting_star", "bearish", 1.0)])
    # (0.5*0.5 + 0.2*-1) / 0.7 = 0.071 -> HOLD
    assert s.score == pytest.approx((0.5 * 0.5 - 0.2) / 0.7)
    assert s.action == HOLD


def test_model_without_skill_does_not_drive_signal_and_says_so():
    s = fuse([fc(0.05, 0.01, 0.09, skill=False)])
    assert s.action == HOLD and "forecast" not in s.components
    assert any("no skill vs naive, ignored" in r for r in s.reasons)
    assert any("did not beat its naive baseline" in r for r in s.reasons)
    b = fuse([breakout(True, 0.95, skill=False)])
    assert b.action == HOLD and any("no skill" in r for r in b.reasons)


def test_pattern_below_threshold_is_not_a_pattern():
    s = fuse([pattern("hammer", "bullish", 0.3, rule_hit=False, threshold=0.5)])
    assert s.action == HOLD
    assert any(r.startswith("No pattern on this bar") for r in s.reasons)


def test_high_volatility_damps_the_score():
    base = fuse([fc(0.0125, -0.0125, 0.0375)])  # S = 0.5
    damped = fuse([fc(0.0125, -0.0125, 0.0375)], regime="high")
    assert damped.score == pytest.approx(0.75 * base.score)
    assert any("Volatility regime high" in r for r in damped.reasons)


def test_fallback_reasons_are_listed():
    s = fuse([], fallbacks={"forecast": "disabled by an admin: naive baseline shown"})
    assert "forecast: disabled by an admin: naive baseline shown" in s.reasons
    assert s.action == HOLD


def test_naive_forecast_never_drives_signal():
    naive = Prediction("naive", "naive", "MSFT", "1d", "log_return", 5, T0, 0.0,
                       lower=-0.03, upper=0.03)
    assert fuse([naive]).action == HOLD


@pytest.mark.parametrize("s", [ACT - 1e-9, ACT, STRONG])
def test_threshold_edges(s):
    # forecast-only: score = value / 0.01 with half band 0.01
    sig = fuse([fc(s * 0.01, s * 0.01 - 0.01, s * 0.01 + 0.01)])
    assert sig.action == (BUY if s >= ACT else HOLD)
