"""One symbol's panel: predict its latest bar with every domain, summarise what the Overview
shows (price, forecasts with intervals, strongest pattern, volatility regime, sentiment) and
fuse a BUY/SELL/HOLD signal with its reasons. No store access: running A/B tests are passed
in."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from core.baseline.naive import naive_predictor
from core.data import MarketData
from core.errors import InsufficientDataError
from core.panel.predictors import DomainPredictor, Experiment, run_domain
from core.panel.signals import Signal, fuse
from core.predictions import Prediction


@dataclass
class SymbolPanel:
    """Everything the Overview shows for one symbol at its latest bar.

    Attributes:
        symbol, interval, source: what was predicted and where the bars came from.
        bar_ts: the latest bar (UTC). last_price: its close. change_pct: close-to-close
            simple return of the latest bar [%] (None with one bar).
        predictions: naive + domain predictions of this bar.
        forecasts: rows ``model, version, horizon, value_pct, lower_pct, upper_pct, skill``
            (simple returns [%], 80% interval) of every ``log_return`` prediction.
        pattern: strongest pattern text or None. regime: volatility regime or None.
        vol_ann: forecast volatility [% ann.] of the shortest horizon, or None.
        sentiment: sentiment score in [-1, 1] or None.
        signal: the fused :class:`core.signals.Signal`.
        skipped / fallbacks / errors / shadow / broken / notices: see :class:`DomainRun`.
    """

    symbol: str
    interval: str
    source: str
    bar_ts: pd.Timestamp
    last_price: float
    change_pct: float | None
    predictions: list[Prediction]
    forecasts: list[dict]
    pattern: str | None
    regime: str | None
    vol_ann: float | None
    sentiment: float | None
    signal: Signal
    skipped: dict[str, str]
    fallbacks: dict[str, str]
    errors: list[str]
    shadow: list[Prediction] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)


def _pct(x):
    return None if x is None else 100.0 * math.expm1(x)


def symbol_panel(md: MarketData, predictors: list[DomainPredictor] | None = None,
                 experiments: dict[str, Experiment] | None = None) -> SymbolPanel:
    """Predict, summarise and fuse the latest bar of ``md`` (no store access; running A/B
    tests are passed in as ``experiments``, see :func:`run_domain`).

    Raises:
        InsufficientDataError: ``md`` has no bars.
    """
    f = md.frame
    if f is None or f.empty:
        raise InsufficientDataError(f"{md.symbol}: no bars to predict from.")
    run = run_domain(md, predictors, experiments)
    naive = naive_predictor(md)
    preds = naive + run.predictions
    close = f["close"]
    change = float(100 * (close.iloc[-1] / close.iloc[-2] - 1)) if len(f) > 1 else None
    fc_rows = [{"model": p.model_name, "version": p.model_version, "horizon": int(p.horizon),
                "value_pct": _pct(p.value), "lower_pct": _pct(p.lower),
                "upper_pct": _pct(p.upper), "skill": (p.output or {}).get("skill")}
               for p in preds if p.kind == "log_return"]
    fc_rows.sort(key=lambda r: (r["model"] == "naive", r["horizon"]))
    pattern = None
    pats = [p for p in run.predictions if p.model_name in ("patterns-cnn", "patterns")]
    if pats:
        p = max(pats, key=lambda q: q.value)
        o = p.output or {}
        name = str(o.get("event") or "pattern").replace("_", " ")
        fired = bool(o.get("rule_hit")) or p.value >= float(o.get("threshold", 1.1))
        pattern = (f"{name} ({o.get('direction', 'neutral')}, p={p.value:.2f})" if fired
                   else f"none (closest: {name}, p={p.value:.2f})")
    regime = vol = None
    vols = sorted((p for p in run.predictions if p.kind == "variance"), key=lambda q: q.horizon)
    if vols:
        o = vols[0].output or {}
        regime = o.get("regime")
        if o.get("vol_ann") is not None:
            vol = 100.0 * float(o["vol_ann"])
    sent = next((p for p in run.predictions if p.model_name.startswith("sentiment")), None)
    sentiment = None
    if sent is not None:
        sentiment = 2 * sent.value - 1 if sent.kind == "probability" else float(sent.value)
    fallbacks = dict(run.fallbacks)
    if "forecast" in run.skipped and "forecast" not in fallbacks:
        fallbacks["forecast"] = f"{run.skipped['forecast']}: naive baseline only"
    signal = fuse(run.predictions, regime=regime, fallbacks=fallbacks)
    return SymbolPanel(md.symbol, md.interval, md.source, f.index[-1], float(close.iloc[-1]),
                       change, preds, fc_rows, pattern, regime, vol, sentiment, signal,
                       run.skipped, run.fallbacks, run.errors, run.shadow, run.broken,
                       run.notices)
