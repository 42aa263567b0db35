"""Fused trading signal for one symbol at one bar, from the domain predictions of that bar.

The fusion is a weighted linear opinion pool (Genest & Zidek, "Combining probability
distributions: a critique and an annotated bibliography", Statistical Science 1(1), 1986;
Clemen, "Combining forecasts: a review and annotated bibliography", IJF 5(4), 1989): every
available, *skilled* component gives a directional score in [-1, 1]; the signal is their
weighted mean over the components that are present.

Components and their score (all documented thresholds are module constants):

* ``forecast`` (kind ``log_return``, family ``forecast``): per horizon
  ``clip(value / half_width_80, -1, 1)`` with ``half_width_80 = (upper - lower) / 2``, i.e.
  the point forecast in units of its own 80% band; averaged over horizons. A forecast
  whose interval lies wholly above (below) zero scores about +1 (-1).
* ``pattern`` (family ``patterns-cnn``, the strongest pattern of the bar): +1 bullish,
  -1 bearish, 0 neutral, times its probability; counts only when the rule fires or the
  probability reaches the pattern's tuned threshold.
* ``breakout`` (kind ``probability``, event ``breakout_up``/``breakout_down``):
  ``direction * (2 p - 1)``.
* ``sentiment`` (kind ``sentiment``/``score`` in [-1, 1], or a ``probability`` of "up"):
  the score (``2 p - 1`` for a probability).

A component whose model has **no skill** (``output["skill"] is False``: its artifact
metadata says it did not beat its naive baseline walk-forward) is excluded and the reasons
say so. The naive baseline (``model_version == "naive"``) forecasts a zero return and has
no directional view, so a family that fell back to it contributes nothing.

Decision on the pooled score ``S``: ``S >= STRONG`` and at least ``MIN_AGREE`` components
agreeing -> ``STRONG_BUY`` (mirror for ``STRONG_SELL``); ``S >= ACT`` -> ``BUY``; ``S <=
-ACT`` -> ``SELL``; otherwise ``HOLD``. A ``high`` volatility regime multiplies ``S`` by
``HIGH_VOL_DAMPING`` before the thresholds (wider noise, weaker conviction).
``confidence = |S| * coverage`` where ``coverage`` is the share of the total weight whose
components are present and skilled (a signal from one weak component is not confident).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

from core.predictions import Prediction

STRONG_BUY, BUY, HOLD, SELL, STRONG_SELL = "STRONG_BUY", "BUY", "HOLD", "SELL", "STRONG_SELL"

#: weight of each component in the pool (renormalised over the components present)
WEIGHTS: dict[str, float] = {"forecast": 0.5, "pattern": 0.2, "breakout": 0.2, "sentiment": 0.1}
ACT = 0.2               #: |S| at or above which the signal leaves HOLD
STRONG = 0.6            #: |S| at or above which the signal is STRONG (with agreement)
MIN_AGREE = 2           #: components that must share the sign for a STRONG signal
HIGH_VOL_DAMPING = 0.75  #: S multiplier in a high volatility regime

FORECAST_FAMILIES = ("forecast",)
PATTERN_FAMILIES = ("patterns-cnn", "patterns")
BREAKOUT_EVENTS = {"breakout_up": 1, "breakout_down": -1}


@dataclass
class Signal:
    """The fused signal of one symbol at one bar.

    Attributes:
        action: ``STRONG_BUY | BUY | HOLD | SELL | STRONG_SELL``.
        score: pooled score S in [-1, 1] (after volatility damping).
        confidence: ``|S| * coverage`` in [0, 1] (descriptive, not a calibrated probability).
        reasons: human-readable lines, e.g. ``"5-bar forecast +1.2% [80% -0.4, +2.8]"``,
            including the components that were excluded and why.
        components: component name -> score in [-1, 1] of the components used.
    """

    action: str
    score: float
    confidence: float
    reasons: list[str] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)


def _pct(x: float) -> float:
    """log return -> simple return in percent."""
    return 100.0 * math.expm1(x)


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x))


def forecast_reason(p: Prediction) -> str:
    """``"5-bar forecast +1.2% [80% -0.4, +2.8]"`` (simple returns in percent)."""
    text = f"{p.horizon}-bar forecast {_pct(p.value):+.1f}%"
    if p.lower is not None and p.upper is not None:
        text += f" [80% {_pct(p.lower):+.1f}, {_pct(p.upper):+.1f}]"
    return text


def forecast_score(p: Prediction) -> float:
    """``clip(value / half_width_80, -1, 1)``; ``sign(value)`` without an interval; 0 for a
    zero forecast."""
    if p.value == 0:
        return 0.0
    if p.lower is not None and p.upper is not None and p.upper > p.lower:
        return _clip(p.value / ((p.upper - p.lower) / 2.0))
    return float(math.copysign(1.0, p.value))


def _direction(text) -> int:
    t = str(text or "").lower()
    if t in ("bullish", "up", "long", "1", "+1"):
        return 1
    if t in ("bearish", "down", "short", "-1"):
        return -1
    return 0


def _no_skill(p: Prediction) -> bool:
    return (p.output or {}).get("skill") is False


def fuse(predictions: Iterable[Prediction], *, regime: str | None = None,
         fallbacks: dict[str, str] | None = None) -> Signal:
    """Fuse the predictions of one symbol's latest bar into a :class:`Signal`.

    Args:
        predictions: :class:`core.predictions.Prediction` records of one symbol and bar
            (any families; unknown kinds are ignored).
        regime: volatility regime ``low | normal | high`` (None when unknown).
        fallbacks: family -> reason for families that serve the naive baseline or are
            missing (e.g. ``{"forecast": "disabled by an admin"}``); added to the reasons.

    Returns:
        :class:`Signal` (``HOLD`` with confidence 0 when no component is usable).
    """
    preds = list(predictions)
    reasons: list[str] = []
    scores: dict[str, float] = {}

    fc = [p for p in preds if p.model_name in FORECAST_FAMILIES and p.kind == "log_return"]
    fc_skilled = [p for p in fc if not _no_skill(p)]
    for p in sorted(fc, key=lambda q: q.horizon):
        tag = "" if not _no_skill(p) else " — no skill vs naive, ignored"
        reasons.append(forecast_reason(p) + tag)
    if fc_skilled:
        scores["forecast"] = sum(forecast_score(p) for p in fc_skilled) / len(fc_skilled)
    elif fc:
        reasons.append("Forecast model did not beat its naive baseline walk-forward: "
                       "it does not drive the signal.")

    pats = [p for p in preds if p.model_name in PATTERN_FAMILIES]
    if pats:
        p = max(pats, key=lambda q: q.value)
        o = p.output or {}
        name = str(o.get("event") or o.get("pattern") or "pattern").replace("_", " ")
        fired = bool(o.get("rule_hit")) or p.value >= float(o.get("threshold", 1.1))
        d = _direction(o.get("direction"))
        if not fired:
            reasons.append(f"No pattern on this bar (strongest: {name}, "
                           f"p={p.value:.2f} below its threshold)")
        elif _no_skill(p):
            reasons.append(f"Pattern: {name} — no skill vs baseline, ignored")
        else:
            reasons.append(f"Pattern: {name} ({o.get('direction', 'neutral')}, p={p.value:.2f})")
            if d != 0:
                scores["pattern"] = d * max(0.0, min(1.0, p.value))

    for p in preds:
        o = p.output or {}
        ev = o.get("event")
        if p.kind == "probability" and ev in BREAKOUT_EVENTS:
            d = BREAKOUT_EVENTS[ev]
            txt = (f"Breakout {'up' if d > 0 else 'down'}: P(target before stop) = "
                   f"{p.value:.0%} within {p.horizon} bars")
            if _no_skill(p):
                reasons.append(txt + " — no skill vs base rate, ignored")
            else:
                reasons.append(txt)
                scores["breakout"] = d * _clip(2 * p.value - 1)

    sent = [p for p in preds if p.model_name.startswith("sentiment")]
    for p in sent[:1]:
        if _no_skill(p):
            reasons.append("Sentiment model has no skill; ignored")
            continue
        if p.kind == "probability":
            s = _clip(2 * p.value - 1)
        else:
            s = _clip(float(p.value))
        reasons.append(f"Sentiment {s:+.2f}")
        scores["sentiment"] = s

    for fam, why in (fallbacks or {}).items():
        reasons.append(f"{fam}: {why}")

    total = sum(WEIGHTS.values())
    used = {k: v for k, v in scores.items() if k in WEIGHTS}
    wsum = sum(WEIGHTS[k] for k in used)
    if not used or wsum <= 0:
        reasons.insert(0, "No skilled directional evidence: HOLD")
        return Signal(HOLD, 0.0, 0.0, reasons, {})
    s = sum(WEIGHTS[k] * v for k, v in used.items()) / wsum
    if regime == "high":
        s *= HIGH_VOL_DAMPING
        reasons.append(f"Volatility regime high: score damped x{HIGH_VOL_DAMPING}")
    coverage = wsum / total
    agree = sum(1 for v in used.values() if v != 0 and math.copysign(1, v) == math.copysign(1, s))
    if s >= STRONG and agree >= MIN_AGREE:
        action = STRONG_BUY
    elif s <= -STRONG and agree >= MIN_AGREE:
        action = STRONG_SELL
    elif s >= ACT:
        action = BUY
    elif s <= -ACT:
        action = SELL
    else:
        action = HOLD
    return Signal(action, float(s), float(min(1.0, abs(s) * coverage)), reasons, used)
