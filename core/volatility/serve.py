"""Serving: forecasts for the latest bar of a symbol from the active ``volatility`` artifact.

A bundled symbol uses the artifact's JSON parameters (GARCH/GJR rebuilt with ``arch``'s
``fix``, HAR coefficients) and its LightGBM ML models. Any other symbol (Yahoo, CSV) gets
GARCH/GJR/HAR fitted on its own history (last <= 2520 bars) and, when the artifact carries
one, the *pooled* ML model (:mod:`core.volatility.pooled`, trained across the bundled symbols
and judged leave-symbols-out); without a pooled model, or for a history ending before the
pooled model's training data (it would look ahead), the ML model is fitted in sample on the
fly (``api.forecast_all``), which is ~5x slower.
"""

from __future__ import annotations

import math
import time

import pandas as pd

from core.errors import ModelUnavailableError, NotTrainedError
from core.lru import LRUCache
from core.market import log_returns, periods_per_year
from core.predictions import Prediction, hash_inputs
from core.serving import load_active
from core.volatility import pooled as pooled_mod
from core.volatility.api import (
    FIT_BARS,
    _fit_garch,
    base_paths,
    forecast_all,
    regime,
    regime_series,
)
from core.volatility.evaluate import HORIZONS, MODELS
from core.volatility.garch import GarchForecaster
from core.volatility.har import HARForecaster, har_features
from core.volatility.ml import MLForecaster, ml_features
from core.volatility.train import FAMILY, slug

DEFAULT_BEST = "gjr"
SERVE_BARS = 750


def load_model(models_dir=None):
    """The active ``volatility`` artifact (verified) or None when none is trained."""
    try:
        return load_active(FAMILY, models_dir=models_dir)
    except NotTrainedError:
        return None


def forecasts_from_artifact(frame: pd.DataFrame, symbol: str, art, horizons=HORIZONS
                            ) -> dict[int, dict[str, float]] | None:
    """Each model's horizon variance at the last bar from the artifact's parameters, or None
    when the artifact has no entry for ``symbol`` or ``frame`` ends before the artifact's fit
    window (its parameters would use later bars)."""
    params = art.json("params.json").get(symbol)
    if params is None or frame.index[-1] < pd.Timestamp(params["fit_end"]):
        # no parameters, or a history ending before the fit: parameters estimated on later
        # bars would look ahead, so the caller fits on this history instead
        return None
    # the fixed-parameter recursions forget their start (phi**750 ~ 0.001-0.05 of the initial
    # gap for phi 0.96-0.99), so serving filters the last 750 bars only
    tail = frame.iloc[-SERVE_BARS:]
    r = log_returns(tail["close"]).iloc[1:]
    paths = {k: GarchForecaster.from_dict(params[k]).forecast_paths(r, horizons)
             for k in ("garch", "gjr")}
    feats = (har_features(tail, "parkinson"), har_features(tail, "rv"))
    out = {}
    for h in horizons:
        har = HARForecaster.from_dict(params["har"][str(h)])
        base = base_paths(tail, h, har=har,
                          garch_paths={k: paths[k][h] for k in ("garch", "gjr")})
        row = {k: float(base[k].iloc[-1]) for k in ("gjr", "garch", "ewma", "har")}
        prefix = f"ml-{slug(symbol)}-h{h}"
        if f"{prefix}-point.txt" in art.files:
            ml = _ml_cached(art, prefix, h)
            x = ml_features(tail.iloc[-30:], base.iloc[-30:], h,
                            (feats[0].iloc[-30:], feats[1].iloc[-30:])).iloc[[-1]]
            pred = ml.predict(x, base["gjr"].iloc[[-1]]).iloc[-1]
            row.update({k: float(pred[k]) for k in ("ml", "ml-lo-80", "ml-hi-80")})
        out[h] = row
    return out


#: parsed LightGBM boosters by artifact version (warm serving; every tab's script thread)
_ML_CACHE = LRUCache(64)


def _ml_cached(art, prefix: str, horizon: int) -> MLForecaster:
    """LightGBM boosters parsed once per artifact version (warm serving)."""
    return _ML_CACHE.get_or_create((str(art.path), art.version, prefix),
                                   lambda: MLForecaster.from_files(art.files, prefix, horizon))


def best_model(art, symbol: str, horizon: int, how: str = "artifact") -> str:
    """Lowest out-of-sample QLIKE for this symbol/horizon in the artifact's evaluation; for
    a symbol served by the pooled model, the lowest mean QLIKE ratio of the leave-symbols-out
    evaluation (``metadata["pooled"]["best"]``); for other symbols the lowest mean QLIKE
    ratio across bundled symbols; GJR without artifact."""
    if art is None:
        return DEFAULT_BEST
    if how == HOW_POOLED:
        best = (art.metadata.get("pooled") or {}).get("best", {}).get(str(horizon))
        if best:
            return best
    ev = art.metadata.get("evaluation", {}).get(symbol)
    if ev:
        return ev["results"][str(horizon)]["primary"]["best"]
    return art.metadata.get("best_overall", {}).get(str(horizon), DEFAULT_BEST)


HOW_ARTIFACT = "artifact"
HOW_POOLED = "pooled ML model; GARCH/HAR fitted on this history"
HOW_ONTHEFLY = "fitted on the fly on this history"


def pooled_models(art, horizons) -> dict[int, MLForecaster] | None:
    """The artifact's pooled ML models for ``horizons`` (parsed once per version), or None
    when it has none or its metadata says not to serve them (``pooled.serve`` false: the
    held-out evaluation found them worse than the on-the-fly path)."""
    meta = art.metadata.get("pooled") or {}
    if not meta.get("serve"):
        return None
    return _ML_CACHE.get_or_create((str(art.path), art.version, "pooled", tuple(horizons)),
                                   lambda: pooled_mod.from_files(art.files, horizons))


def _utc(ts) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def forecasts_unseen(frame: pd.DataFrame, symbol: str, art, horizons=HORIZONS
                     ) -> tuple[dict[int, dict[str, float]], str]:
    """Forecasts for a symbol the artifact has no (usable) parameters for, and how they were
    made: the pooled path when the artifact has pooled models, the symbol is not one the
    pooled model was trained on, and ``frame`` ends on or after the pooled training data
    (else its parameters would carry later bars); otherwise fitted on the fly."""
    models = pooled_models(art, horizons) if art is not None else None
    if models is not None:
        meta = art.metadata["pooled"]
        trained_on = {s.upper() for s in meta.get("symbols", [])}
        if (symbol.upper() not in trained_on
                and _utc(frame.index[-1]) >= _utc(meta["train_end"])):
            return pooled_mod.forecasts_pooled(frame, models, horizons), HOW_POOLED
    return {h: forecast_all(frame, h) for h in horizons}, HOW_ONTHEFLY


#: the largest per-bar variance served: a 100% move per bar (sigma 1) is no forecast
MAX_VARIANCE = 1.0


def predict_latest(md, horizons=HORIZONS, models_dir=None) -> list[Prediction]:
    """One :class:`Prediction` per horizon for the latest bar of ``md`` (a MarketData).

    ``kind="variance"``; ``value`` = the best model's variance of the log return summed over
    the horizon (fraction², not annualised); ``lower``/``upper`` = the ML model's 80 % interval
    of that realised variance when available; ``output`` = every model's variance and
    annualised vol (fraction), the best model, the regime and how the forecast was made.
    Raises InsufficientDataError for fewer than 300 bars.
    """
    t0 = time.perf_counter()
    frame = md.frame
    art = load_model(models_dir)
    ppy = periods_per_year(md.interval)
    fc = forecasts_from_artifact(frame, md.symbol, art, horizons) if art is not None else None
    how = HOW_ARTIFACT
    if fc is None:
        fc, how = forecasts_unseen(frame, md.symbol, art, horizons)
    try:
        reg = regime(frame)
    except Exception:  # short history: forecasts still valid, regime unknown
        reg = None
    version = art.version if art is not None and how != HOW_ONTHEFLY else "onthefly"
    latency = (time.perf_counter() - t0) * 1000
    ihash = hash_inputs(frame)
    preds = []
    for h in horizons:
        row = fc[h]
        best = best_model(art, md.symbol, h, how)
        if best not in row:
            best = DEFAULT_BEST
        point = float(row[best])
        if not (math.isfinite(point) and 0 <= point <= MAX_VARIANCE * h):
            raise ModelUnavailableError(
                f"The {h}-bar volatility forecast ({point:.4g}) is not a finite variance in "
                f"[0, {MAX_VARIANCE:g} per bar]; refused. Check the input prices.")
        lower, upper = row.get("ml-lo-80"), row.get("ml-hi-80")
        interval_model = ("ml" if how != HOW_POOLED else "ml-pooled") if "ml-lo-80" in row else None
        if lower is not None and not (math.isfinite(lower) and math.isfinite(upper)
                                      and lower <= point <= upper):
            # the ML model's interval does not hold the best model's point: not served as
            # that point's interval
            lower = upper = interval_model = None
        models = {m: {"variance": row[m], "vol_ann": math.sqrt(row[m] * ppy / h)}
                  for m in MODELS if m in row and math.isfinite(row[m]) and row[m] >= 0}
        extra = {}
        if how == HOW_POOLED:
            # judged on other symbols only (leave-symbols-out), never on this one: no claim
            # of skill on this symbol; the held-out record is in the artifact's metadata
            extra = {"skill": None, "evaluated_on": "held-out bundled symbols"}
        preds.append(Prediction(
            model_name=FAMILY, model_version=version, symbol=md.symbol, interval=md.interval,
            kind="variance", horizon=h, origin_ts=frame.index[-1], value=point,
            lower=lower, upper=upper, latency_ms=latency,
            inputs_hash=ihash,
            output={"best_model": best, "models": models, "regime": reg, "how": how,
                    "vol_ann": math.sqrt(row[best] * ppy / h), "periods_per_year": ppy,
                    "interval_model": interval_model, **extra}))
    return preds



def history(frame: pd.DataFrame, symbol: str, art=None, periods_per_year: float = 252.0
            ) -> pd.DataFrame:
    """Per bar: ``cond_vol`` (GJR-GARCH-t conditional vol, annualised fraction, from the
    artifact's parameters for bundled symbols, else fitted on this history), ``realized_vol``
    (21 bars, annualised), ``pct`` and ``regime`` (see ``core.volatility.api.regime_series``)."""
    params = art.json("params.json").get(symbol) if art is not None else None
    r = log_returns(frame["close"]).iloc[1:]
    if params is not None:
        gjr = GarchForecaster.from_dict(params["gjr"])
    else:
        tail = frame.iloc[-FIT_BARS:]
        gjr = _fit_garch(tail, "gjr", hash_inputs(tail))
    cond = (gjr.conditional_variance(r) * periods_per_year).pow(0.5).reindex(frame.index)
    out = regime_series(frame)
    out.insert(0, "cond_vol", cond)
    return out
