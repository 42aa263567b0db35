"""Serving: forecasts for the latest bar of a symbol with the active model."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
from scipy.stats import norm

from core.data import INTERVALS
from core.errors import (DataValidationError, InsufficientDataError, ModelUnavailableError,
                         NotTrainedError)
from core.forecasting.artifact import FAMILY, get_bundle
from core.forecasting.features import daily_sigma, feature_frame
from core.forecasting.model import MEMBERS
from core.market import Z80
from core.predictions import Prediction, hash_inputs
from core.serving import load_active

# Features and EWMA sigma are computed on the last FEATURE_TAIL bars only (5x faster than the
# whole history). The longest indicator look-back is 200 bars; EMA-type features differ from a
# whole-history computation by < 1e-5 relative, the EWMA sigma by < 1e-20 (0.94**1000).
FEATURE_TAIL = 1000


def confidence_score(members: np.ndarray, weights: np.ndarray, value: float,
                     half_width_80: float) -> float:
    """Confidence in [0, 1] of a point forecast.

    ``agreement * |2 * Phi(value / s) - 1|`` where ``agreement = |sum_i w_i sign(p_i)|`` is the
    weighted sign agreement of the members and ``s = half_width_80 / z_0.9`` is the residual
    scale implied by the conformal 80% interval: 0 when the members disagree or the forecast
    is tiny next to its own error band (a random walk), 1 only for a unanimous forecast far
    outside its noise. It is a descriptive score, not a calibrated probability.
    """
    agree = abs(float(np.sum(np.asarray(weights) * np.sign(members))))
    if not (half_width_80 > 0 and math.isfinite(half_width_80)):
        return 0.0
    z = value / (half_width_80 / Z80)
    return float(np.clip(agree * abs(2 * norm.cdf(z) - 1), 0.0, 1.0))


def target_timestamp(origin: pd.Timestamp, horizon: int, interval: str) -> pd.Timestamp | None:
    """Bar the outcome is read at: ``horizon`` business days after a daily origin (exchange
    holidays are not known here, so this is approximate); None for other intervals."""
    if interval == "1d":
        return origin + pd.offsets.BDay(horizon)
    return None


def bar_interval(md) -> str:
    """``md.interval``, or for a CSV upload (interval ``csv``) ``1d`` when the median bar
    spacing is between 20 hours and 4 days (daily bars), else ``unknown``."""
    if md.interval in INTERVALS:
        return md.interval
    idx = md.frame.index
    if len(idx) > 2:
        step = (idx[1:] - idx[:-1]).median()
        if pd.Timedelta(hours=20) <= step <= pd.Timedelta(days=4):
            return "1d"
    return "unknown"


def slice_as_of(frame: pd.DataFrame, as_of) -> pd.DataFrame:
    """Bars with timestamp <= ``as_of`` (a date means the end of that day, UTC).

    Raises:
        InsufficientDataError: no bar on or before ``as_of``.
    """
    if as_of is None:
        return frame
    ts = pd.Timestamp(as_of)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts == ts.normalize():
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    out = frame[frame.index <= ts]
    if out.empty:
        raise InsufficientDataError(f"No bars on or before {as_of}; the data start "
                                    f"{frame.index[0].date()}.")
    return out


def predict_latest(md, artifact=None, *, as_of=None) -> list[Prediction]:
    """One :class:`Prediction` per horizon for the last bar of ``md`` (or of the bars up to
    ``as_of``) with the active ``forecast`` model.

    ``value`` is the ensemble forward log return over ``horizon`` bars (kind ``log_return``);
    ``lower``/``upper`` the 80% conformal bounds; ``output`` holds the members' predictions,
    the raw ensemble, the shrink factor, 95% bounds, the implied prices
    (``last_close * exp(r)``) and ``scope``: ``"symbol"`` when the symbol's own head served,
    ``"pooled"`` when the pooled cross-symbol model did (symbols without a head, and symbols
    whose head did not beat the pooled model on their validation window at training time;
    :meth:`core.forecasting.artifact.Bundle.choose`). Only bars <= the origin are read.

    Raises:
        NotTrainedError: no artifact, the model's interval differs, or the version has
            neither a head for this symbol nor a pooled model (versions before the pooled
            model).
        InsufficientDataError: too few bars to compute the features.
        ArtifactIntegrityError: the artifact failed its checksum or parsing.
    """
    t0 = time.perf_counter()
    if artifact is None:
        artifact = load_active(FAMILY)
    bundle = get_bundle(artifact)
    sym = md.symbol.upper()
    interval = bar_interval(md)
    if interval != bundle.interval:
        raise NotTrainedError(f"The forecast model {bundle.version} was trained on "
                              f"{bundle.interval} bars, not {interval}. Choose {bundle.interval}.")
    if sym not in bundle.symbols and not bundle.pooled:
        raise NotTrainedError(
            f"No forecast model for {sym}; trained symbols: {', '.join(bundle.symbols)}. "
            f"Train one with `quantdesk train forecast --symbols {sym}`.")
    frame = slice_as_of(md.frame, as_of)
    if len(frame) < 60:
        raise InsufficientDataError(f"Forecasts need at least 60 bars; {len(frame)} given.")
    tail = frame.iloc[-FEATURE_TAIL:]
    feats = feature_frame(tail)
    missing = [c for c in bundle.features if c not in feats.columns]
    if missing:
        raise DataValidationError(
            f"Features {', '.join(missing[:5])} are no longer produced; retrain the forecast "
            "model (`quantdesk train forecast`).")
    x = feats[bundle.features].to_numpy()[-1:]
    sig1 = float(daily_sigma(tail).iloc[-1])
    if not math.isfinite(sig1):
        raise InsufficientDataError("Not enough history to estimate recent volatility.")
    origin = frame.index[-1]
    last_close = float(frame["close"].iloc[-1])
    inputs_hash = hash_inputs(frame)
    out: list[Prediction] = []
    rows = []
    for h in bundle.horizons:
        chosen = bundle.choose(sym, h)
        if chosen is None:
            raise NotTrainedError(
                f"The forecast model {bundle.version} has no {h}-bar model for {sym}. "
                f"Train one with `quantdesk train forecast --symbols {sym}`.")
        model, scope = chosen
        p = model.predict(x, [sig1 * math.sqrt(h)]).iloc[0]
        rows.append((h, model, scope, p))
    latency = (time.perf_counter() - t0) * 1000
    for h, model, scope, p in rows:
        ens = float(p["ensemble"])
        members = {m: float(p[m]) for m in MEMBERS}
        lo80, hi80 = float(p["ensemble-lo-80"]), float(p["ensemble-hi-80"])
        check_output(h, ens, members, lo80, hi80, float(p["ensemble-lo-95"]),
                     float(p["ensemble-hi-95"]))
        conf = confidence_score(np.array([members[m] for m in MEMBERS]), model.weights_, ens,
                                (hi80 - lo80) / 2)
        price = {k: last_close * math.exp(v) for k, v in
                 {**members, "ensemble": ens, "lo_80": lo80, "hi_80": hi80,
                  "lo_95": float(p["ensemble-lo-95"]), "hi_95": float(p["ensemble-hi-95"])}.items()}
        out.append(Prediction(
            model_name=FAMILY, model_version=bundle.version, symbol=sym, interval=interval,
            kind="log_return", horizon=h, origin_ts=origin, value=ens,
            target_ts=target_timestamp(origin, h, interval), lower=lo80, upper=hi80,
            confidence=conf, latency_ms=latency, inputs_hash=inputs_hash,
            output={"members": members, "ensemble_raw": float(p["ensemble_raw"]),
                    "shrink": model.shrink_, "weights": dict(zip(MEMBERS, map(float, model.weights_))),
                    "lo_95": float(p["ensemble-lo-95"]), "hi_95": float(p["ensemble-hi-95"]),
                    "last_close": last_close, "sigma": sig1 * math.sqrt(h), "price": price,
                    "scope": scope}))
    return out


#: the largest |log return| served over any horizon: e^20 (x 485 million) is no forecast,
#: and ``exp`` of the price overflows near 709
MAX_ABS_LOG_RETURN = 20.0


def check_output(h: int, ens: float, members: dict[str, float], lo80: float, hi80: float,
                 lo95: float, hi95: float) -> None:
    """Refuse a forecast that is not finite, absurd (beyond MAX_ABS_LOG_RETURN) or outside
    its own intervals (lo95 <= lo80 <= ensemble <= hi80 <= hi95).

    Raises:
        ModelUnavailableError: naming the horizon.
    """
    vals = [ens, lo80, hi80, lo95, hi95, *members.values()]
    if not all(math.isfinite(v) and abs(v) <= MAX_ABS_LOG_RETURN for v in vals):
        raise ModelUnavailableError(
            f"The {h}-bar forecast is not a finite, sane log return (|r| <= "
            f"{MAX_ABS_LOG_RETURN:g}); refused. Check the input prices.")
    if not lo95 <= lo80 <= ens <= hi80 <= hi95:
        raise ModelUnavailableError(
            f"The {h}-bar forecast {ens:.4g} lies outside its own intervals (80%: "
            f"[{lo80:.4g}, {hi80:.4g}], 95%: [{lo95:.4g}, {hi95:.4g}]); refused.")


def forecast_table(preds: list[Prediction]) -> pd.DataFrame:
    """Long table for display/CSV: one row per horizon x model (members and ensemble) with
    ``scope`` (``symbol``/``pooled``: which forecaster served), ``Return [%]`` (simple
    return, percent) and ``Price``; the ensemble rows carry the
    80/95% bounds (statsforecast names) and ``confidence``."""
    rows = []
    for p in preds:
        o = p.output
        for name in (*MEMBERS, "ensemble"):
            r = p.value if name == "ensemble" else o["members"][name]
            row = {"symbol": p.symbol, "origin_ts": p.origin_ts, "target_ts": p.target_ts,
                   "horizon": p.horizon, "model": name, "scope": o.get("scope", "symbol"),
                   "log_return": r,
                   "Return [%]": 100 * math.expm1(r), "Price": o["last_close"] * math.exp(r)}
            if name == "ensemble":
                row.update({"ensemble-lo-80": o["price"]["lo_80"], "ensemble-hi-80": o["price"]["hi_80"],
                            "ensemble-lo-95": o["price"]["lo_95"], "ensemble-hi-95": o["price"]["hi_95"],
                            "confidence": p.confidence, "model_version": p.model_version})
            rows.append(row)
    return pd.DataFrame(rows)
