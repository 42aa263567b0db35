"""What pages, the CLI and the live panel call: detections with CNN scores, breakout
predictions from the active model versions, and the latest-bar :class:`Prediction` records."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import NotTrainedError, QuantdeskError
from core.patterns import breakouts as bo
from core.patterns.breakout_model import BreakoutClassifier
from core.patterns.cnn import WINDOW, cnn_probabilities, load_cnn, windows
from core.patterns.rules import DIRECTION, PATTERNS, detect
from core.predictions import Prediction, hash_inputs
from core.registry import load_artifact
from core.serving import load_active, parsed_model
from core.targets import barrier_outcome

BREAKOUT_FAMILY = "breakout"
_DIR_NAME = {1: "bullish", -1: "bearish", 0: "neutral"}


def detections(frame: pd.DataFrame, cnn=None, *, tail: int | None = None) -> pd.DataFrame:
    """Rule hits and CNN-positive bars as one long table.

    Columns: ``timestamp, pattern, direction (bullish|bearish|neutral), rule_hit (bool),
    cnn_probability (float in [0,1] or NaN without a CNN / in the first 19 bars),
    cnn_hit (bool: probability >= the pattern's tuned threshold)``. Only rows where the
    rule or the CNN fires. ``tail`` keeps the last ``tail`` bars.
    """
    det = detect(frame)
    hits = det.hits
    if cnn is not None:

        prob = cnn_probabilities(frame, cnn)
        cnn_hit = prob.ge(pd.Series(cnn.thresholds_, index=list(PATTERNS)), axis=1)
    else:
        prob = pd.DataFrame(np.nan, index=frame.index, columns=list(PATTERNS))
        cnn_hit = pd.DataFrame(False, index=frame.index, columns=list(PATTERNS))
    if tail is not None:
        hits, prob, cnn_hit = hits.tail(tail), prob.tail(tail), cnn_hit.tail(tail)
    either = hits | cnn_hit
    rows = []
    candle = np.sign(frame["close"] - frame["open"])
    for ts, pat in either.stack().loc[lambda s: s].index:
        d = int(det.direction.at[ts, pat]) if hits.at[ts, pat] else DIRECTION[pat]
        if not hits.at[ts, pat] and pat == "marubozu":
            d = int(candle.at[ts])  # CNN-only hit: the candle's colour
        elif not hits.at[ts, pat] and pat == "harami":
            i = frame.index.get_loc(ts)
            d = -int(candle.iloc[i - 1]) if i > 0 else 0  # after a black candle: bullish
        rows.append({"timestamp": ts, "pattern": pat, "direction": _DIR_NAME[d],
                     "rule_hit": bool(hits.at[ts, pat]),
                     "cnn_probability": float(prob.at[ts, pat]),
                     "cnn_hit": bool(cnn_hit.at[ts, pat])})
    return pd.DataFrame(rows, columns=["timestamp", "pattern", "direction", "rule_hit",
                                       "cnn_probability", "cnn_hit"])


def latest_pattern_scores(frame: pd.DataFrame, cnn) -> pd.DataFrame:
    """The latest bar: per pattern the CNN probability and whether the rule fires, sorted by
    probability (descending). Columns ``pattern, cnn_probability, rule_hit, threshold``."""
    f = frame.tail(WINDOW + 30)  # the per-bar channels average up to 20 bars before a bar
    X, _ = windows(f)
    p = cnn.predict_proba(X[-1:])[-1]  # the last window only (eval mode: per-sample)
    rule = detect(frame.tail(max(60, WINDOW))).hits.iloc[-1]
    out = pd.DataFrame({"pattern": list(PATTERNS), "cnn_probability": p,
                        "rule_hit": [bool(rule[k]) for k in PATTERNS],
                        "threshold": cnn.thresholds_})
    return out.sort_values("cnn_probability", ascending=False, ignore_index=True)


# ---------------------------------------------------------------- breakouts ---------------
@dataclass
class BreakoutModel:
    """The active breakout artifact: classifier, version, metadata (metrics, skill)."""
    model: object
    version: str
    metadata: dict

    @property
    def skill(self) -> bool:
        """True only when walk-forward AUC's 95% CI is above 0.5 and Brier skill > 0."""
        return bool(self.metadata.get("metrics", {}).get("skill", False))


def load_breakout_model(version: str | None = None) -> BreakoutModel:
    """Load the active (or given) ``breakout`` version. Raises NotTrainedError /
    ArtifactIntegrityError."""
    art = load_artifact(BREAKOUT_FAMILY, version) if version else load_active(BREAKOUT_FAMILY)
    meta = art.metadata
    clf = parsed_model(art, "breakout", lambda a: BreakoutClassifier.from_bytes(
        a.files["model.skops"], meta["params"]["kind"], meta["base_rate"]))
    return BreakoutModel(clf, art.version, meta)


def track_record(symbol: str, bm: BreakoutModel) -> pd.DataFrame:
    """Walk-forward (out-of-sample) breakout probabilities stored with the artifact for a
    bundled ``symbol``: ``timestamp, direction, level, probability, base_rate, success``.
    Empty for symbols the artifact does not cover."""
    art = load_artifact(BREAKOUT_FAMILY, bm.version)
    rows = [r for r in art.json("walkforward.json") if r["symbol"] == symbol]
    df = pd.DataFrame(rows, columns=["timestamp", "symbol", "direction", "level", "probability",
                                     "base_rate", "success"])
    if len(df):
        df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return df.drop(columns="symbol")


def breakout_events(frame: pd.DataFrame, bm: BreakoutModel | None = None) -> pd.DataFrame:
    """Every breakout of ``frame`` with direction, level, target/stop prices, the model's
    probability (NaN without a model) and the realised outcome where known.

    Note: for bars inside the model's training period the probability is in-sample; the
    out-of-sample record is :func:`track_record` / ``evaluate breakout``.
    """
    levels = bo.find_levels(frame)
    feats = bo.breakout_features(frame, levels)
    a = bo.atr(frame)
    params = (bm.metadata.get("params", {}) if bm else {})
    kt, ks, h = (params.get("k_target", bo.K_TARGET), params.get("k_stop", bo.K_STOP),
                 params.get("horizon", bo.HORIZON))
    y = barrier_outcome(frame, levels.events, a, k_target=kt, k_stop=ks, horizon=h)
    ev = feats.copy()
    d = ev["direction"]
    c = frame["close"].reindex(ev.index)
    atr_ev = a.reindex(ev.index)
    ev["level"] = levels.level.reindex(ev.index)
    ev["close"] = c
    ev["target_price"] = c + d * kt * atr_ev
    ev["stop_price"] = c - d * ks * atr_ev
    ev["success"] = y.reindex(ev.index)
    ev["probability"] = bm.model.predict_proba(ev) if (bm is not None and len(ev)) else np.nan
    return ev


def breakout_prediction(md, bm: BreakoutModel) -> Prediction | None:
    """A :class:`Prediction` for a breakout on the latest bar of ``md`` (None when the latest
    bar is not a breakout).

    ``value`` = P(price reaches k_target x ATR in the breakout direction within ``horizon``
    bars before the k_stop x ATR stop); ``confidence`` = max(p, 1 - p) when the model has
    walk-forward skill, else None (``output["skill"]`` is False and the page shows "no
    skill"). ``output``: event ``breakout_up|breakout_down``, direction UP/DOWN, level,
    target_price, stop_price, risk_score (stop distance as a fraction of price), base_rate.
    """
    t0 = time.perf_counter()
    f = md.frame
    if not bo.could_break_out(f):  # most bars: skip the O(n) level scan
        return None
    levels = bo.find_levels(f)
    if levels.events.iloc[-1] == 0:
        return None
    feats = bo.breakout_features(f, levels)
    if len(feats) == 0 or feats.index[-1] != f.index[-1]:
        return None
    row = feats.iloc[[-1]]
    p = float(bm.model.predict_proba(row)[0])
    params = bm.metadata.get("params", {})
    kt, ks, h = params.get("k_target", 2.0), params.get("k_stop", 1.0), params.get("horizon", 10)
    d = int(row["direction"].iloc[0])
    close = float(f["close"].iloc[-1])
    a = float(bo.atr(f).iloc[-1])
    return Prediction(
        model_name=BREAKOUT_FAMILY, model_version=bm.version, symbol=md.symbol,
        interval=md.interval, kind="probability", horizon=int(h), origin_ts=f.index[-1],
        value=p, confidence=max(p, 1 - p) if bm.skill else None,
        latency_ms=(time.perf_counter() - t0) * 1000, inputs_hash=hash_inputs(f.tail(300)),
        output={"event": "breakout_up" if d > 0 else "breakout_down",
                "direction": "UP" if d > 0 else "DOWN",
                "level": float(levels.level.iloc[-1]),
                "target_price": close + d * kt * a, "stop_price": close - d * ks * a,
                "risk_score": ks * a / close, "base_rate": bm.metadata.get("base_rate"),
                "skill": bm.skill, "k_target": kt, "k_stop": ks},
    )


def pattern_prediction(md, cnn, version: str) -> Prediction:
    """The latest bar's strongest pattern by CNN probability as a :class:`Prediction`
    (kind ``probability``, horizon 0: the probability that the rule pattern is present on
    ``origin_ts``; ``output``: event = pattern, rule_hit, direction, threshold)."""
    t0 = time.perf_counter()
    f = md.frame
    scores = latest_pattern_scores(f, cnn)
    top = scores.iloc[0]
    return Prediction(
        model_name="patterns-cnn", model_version=version, symbol=md.symbol,
        interval=md.interval, kind="probability", horizon=0, origin_ts=f.index[-1],
        target_ts=f.index[-1], value=float(top["cnn_probability"]),
        confidence=float(top["cnn_probability"]),
        latency_ms=(time.perf_counter() - t0) * 1000, inputs_hash=hash_inputs(f.tail(60)),
        output={"event": top["pattern"], "rule_hit": bool(top["rule_hit"]),
                "direction": _DIR_NAME[DIRECTION[top["pattern"]]],
                "threshold": float(top["threshold"])},
    )


def predict_latest(md) -> list[Prediction]:
    """Predictions for the latest bar of ``md`` (a :class:`core.data.MarketData`):
    the strongest CNN pattern (always, when a CNN is trained) and the breakout probability
    (when the latest bar is a breakout and a breakout model is trained). Missing models are
    skipped, never raised; too-short data raise InsufficientDataError."""
    out: list[Prediction] = []
    try:
        cnn, version = load_cnn()
        out.append(pattern_prediction(md, cnn, version))
    except NotTrainedError:
        pass
    try:
        bm = load_breakout_model()
        p = breakout_prediction(md, bm)
        if p is not None:
            out.append(p)
    except NotTrainedError:
        pass
    return out


__all__ = ["QuantdeskError", "breakout_events", "breakout_prediction", "detections",
           "latest_pattern_scores", "load_breakout_model", "pattern_prediction",
           "predict_latest", "track_record"]
