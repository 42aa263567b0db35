"""Trainer of the ``forecast`` family, saved through the registry: one :class:`HorizonForecaster`
per symbol and horizon (per-symbol heads) plus one pooled forecaster per horizon trained on
the stacked rows of every training symbol, and the validation comparison that decides, per
symbol and horizon, which of the two serves (docs/forecast.md, "Pooled model")."""

from __future__ import annotations

import json
import time
from typing import Callable, Sequence

import numpy as np

from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.evaluation import beats_baseline
from core.family import EvalCell, record_to_json
from core.features import FEATURE_VERSION
from core.forecasting.artifact import FAMILY, POOLED, head_record, model_files
from core.forecasting.evaluate import evaluation_record, usable_start
from core.forecasting.features import design, feature_frame
from core.forecasting.model import (
    HorizonForecaster, LGB_PARAMS, MEMBERS, RF_PARAMS, SHRINK_FLOOR, XGB_PARAMS,
)
from core.forecasting.pooled import compare_scope, fit_pooled
from core.predictions import hash_inputs
from core.registry import save_artifact

DAILY_HORIZONS = (1, 5, 20)
#: the fewest bars a symbol needs to be trained on
MIN_TRAIN_BARS = 500
INTRADAY_HORIZONS = (1, 5, 15, 60)

Progress = Callable[[float, str], None]


def default_horizons(interval: str) -> tuple[int, ...]:
    """1, 5, 20 bars for daily (and longer) bars; 1, 5, 15, 60 bars for intraday bars."""
    return DAILY_HORIZONS if interval in ("1d", "5d", "1wk", "1mo", "3mo") else INTRADAY_HORIZONS


def feature_importance(model: HorizonForecaster, columns: list[str]) -> dict[str, float]:
    """Ensemble-weighted mean of the members' normalised gain importances (sums to 1)."""
    xb, lb, rf = model.members_
    n = len(columns)
    imps = np.zeros((3, n))
    for k, v in xb.get_score(importance_type="gain").items():
        imps[0, int(k[1:])] = v
    imps[1] = lb.feature_importance(importance_type="gain")
    imps[2] = rf.feature_importances_
    sums = imps.sum(axis=1, keepdims=True)
    imps = np.divide(imps, sums, out=np.zeros_like(imps), where=sums > 0)
    tot = model.weights_ @ imps
    return {c: float(v) for c, v in sorted(zip(columns, tot), key=lambda t: -t[1])}


def fit_symbol(frame, horizons: Sequence[int], columns: list[str] | None = None,
               progress: Progress | None = None, **model_kwargs) -> tuple[list[str], dict]:
    """Fit one forecaster per horizon on the whole usable history of ``frame``.

    Returns:
        (feature columns, {horizon: fitted HorizonForecaster}).
    """
    fitted = {}
    for j, h in enumerate(horizons):
        X, y, sig = design(frame, h, columns)
        s0 = usable_start(X)
        X, y, sig = X.iloc[s0:], y.iloc[s0:], sig.iloc[s0:]
        m = HorizonForecaster(horizon=h, **model_kwargs).fit(X.to_numpy(), y, sig)
        m.val_index_ = X.index[m.val_rows_]  # origin bars of the validation rows (in memory)
        fitted[h] = m
        columns = list(X.columns)
        if progress:
            progress((j + 1) / len(horizons), f"h={h}")
    return columns, fitted


def _model_metadata(interval: str, horizons: list[int], columns: list[str]) -> dict:
    """Metadata every forecast version records about its models (interval, horizons, members,
    features, default parameters, shrinkage rule)."""
    return {
        "kind": "log_return", "interval": interval, "horizons": horizons,
        "members": list(MEMBERS), "features": columns, "feature_version": FEATURE_VERSION,
        "params": {"xgboost": XGB_PARAMS, "lightgbm": LGB_PARAMS, "random_forest": RF_PARAMS},
        "shrink_rule": {"floor": SHRINK_FLOOR, "cap": 0.5, "t_min": 2.0, "max_horizon": 1,
                        "gate": "nested forward check on the inner validation blocks"},
    }


def _record_model_kwargs(meta: dict, model_kwargs: dict) -> None:
    """Record non-default forecaster arguments (tests' small params) in ``meta``."""
    if model_kwargs:
        meta["model_kwargs"] = {k: v for k, v in model_kwargs.items() if k != "params"}
        if "params" in model_kwargs:
            meta["params"] = model_kwargs["params"]


def leave_symbols_out_record(results: list[dict]) -> dict:
    """``metadata["record"]`` (JSON form) from leave-symbols-out results
    (:func:`core.forecasting.pooled.evaluate_leave_symbols_out`): per held-out symbol and
    horizon, the pooled model's RMSE beside the zero-return random walk's on bars of a
    symbol it never trained on, the DM p-value and :func:`beats_baseline`."""
    record: dict = {}
    for r in results:
        ratio, p = r.get("rmse_ratio"), r.get("dm_pvalue")
        skill = (bool(beats_baseline(p, ratio)) if isinstance(p, (int, float))
                 and isinstance(ratio, (int, float)) else None)
        record.setdefault(str(r["symbol"]).upper(), {})[str(r["horizon"])] = EvalCell.from_dict(
            {"metric": "rmse", "model": (r.get("ensemble") or {}).get("rmse"),
             "baseline": (r.get("random_walk") or {}).get("rmse"), "ratio": ratio,
             "pvalue": p, "skill": skill})
    return record_to_json(record)


def save_pooled_version(fitted: dict, columns: list[str], symbols: list[str], *,
                        interval: str, horizons: list[int], data_info: dict, universe: dict,
                        pooled_evaluation: list | None, t0: float, models_dir=None,
                        **model_kwargs):
    """Save a version holding only the pooled forecaster (``fitted``: {horizon: model} from
    :func:`core.forecasting.pooled.fit_pooled` over ``symbols``): no per-symbol heads, so
    the pooled model serves every symbol. ``universe`` (what was trained on, skipped symbols
    and why, engine, seconds) goes to ``metadata["universe"]``; the leave-symbols-out
    results to ``metadata["leave_symbols_out"]`` and, per held-out symbol, to the record.

    Returns:
        The saved :class:`core.registry.Artifact`.
    """
    files: dict[str, bytes] = {}
    for h, m in fitted.items():
        files.update(model_files(POOLED, h, m))
    heads = {POOLED: {str(h): head_record(m) for h, m in fitted.items()}}
    files["heads.json"] = json.dumps(heads, indent=1).encode()
    meta = {
        **_model_metadata(interval, list(horizons), columns),
        "symbols": [], "pooled": True, "pooled_key": POOLED, "pooled_symbols": list(symbols),
        "scope": {}, "scope_validation": {},
        "method": ("pooled XGBoost/LightGBM/RandomForest (weights 0.4/0.4/0.2) on the stacked "
                   "rows of every symbol of the universe (features on each symbol's own "
                   "bars, time-purged inner validation), James-Stein shrinkage toward the "
                   "zero-return random walk gated by a nested forward check (horizon 1 "
                   "only; floor 1e-4 otherwise), normalised split-conformal 80/95% "
                   "intervals (EWMA sigma); no per-symbol heads: it serves every symbol"),
        "validation": {POOLED: {h: v["val"] | {"shrink": v["shrink"]}
                                for h, v in heads[POOLED].items()}},
        "feature_importance": {POOLED: {
            str(h): dict(list(feature_importance(m, columns).items())[:25])
            for h, m in fitted.items()}},
        "data": data_info, "universe": universe,
        "train_seconds": round(time.perf_counter() - t0, 2),
    }
    _record_model_kwargs(meta, model_kwargs)
    if pooled_evaluation:
        meta["leave_symbols_out"] = pooled_evaluation
        meta["record"] = leave_symbols_out_record(pooled_evaluation)
    return save_artifact(FAMILY, files, meta, models_dir=models_dir)


def train(progress: Progress | None = None, symbols: Sequence[str] | None = None,
          interval: str = "1d", horizons: Sequence[int] | None = None,
          evaluation: dict | None = None, models_dir=None, pooled: bool = True,
          frames: dict | None = None, pooled_evaluation: list | None = None,
          **model_kwargs):
    """Train the forecast family and save a new registry version.

    Args:
        progress: ``progress(fraction, message)`` callback.
        symbols: tickers (default: the bundled universe ``core.data.BUNDLED_SYMBOLS``).
        interval: bar interval (bundled history is daily).
        horizons: bars ahead (default :func:`default_horizons`).
        evaluation: walk-forward results to store in the metadata (from
            ``quantdesk evaluate forecast --save``); None stores none.
        pooled: also fit the pooled model on all ``symbols`` and record per symbol and
            horizon which model serves (``metadata["scope"]``).
        frames: {symbol: OHLCV frame} to train on instead of loading ``symbols`` (tests).
        pooled_evaluation: leave-symbols-out results to store as
            ``metadata["leave_symbols_out"]`` (from ``quantdesk evaluate forecast --pooled
            --save``); None stores none.
        model_kwargs: passed to every :class:`HorizonForecaster` (tests: small params).

    Returns:
        The saved :class:`core.registry.Artifact`.

    Raises:
        QuantdeskError subclasses when a symbol's data cannot be loaded or is too short.
    """
    t0 = time.perf_counter()
    if frames is not None:
        frames = {str(k).upper(): v for k, v in frames.items()}
        symbols = list(frames)
    symbols = [s.upper() for s in (symbols or BUNDLED_SYMBOLS)]
    horizons = list(horizons or default_horizons(interval))
    files: dict[str, bytes] = {}
    heads: dict[str, dict] = {}
    importance: dict[str, dict] = {}
    data_info: dict[str, dict] = {}
    loaded: dict = {}
    own_models: dict[str, dict] = {}
    columns = None
    steps = len(symbols) + (1 if pooled else 0)
    for i, sym in enumerate(symbols):
        if frames is not None:
            f, source = frames[sym], "frames"
        else:
            md = load_ohlcv(sym, interval, min_bars=MIN_TRAIN_BARS)
            f, source = md.frame, md.source

        def sub(frac, msg, i=i, sym=sym):
            if progress:
                progress((i + frac) / steps, f"{sym} {msg}")

        if columns is None:
            columns = list(feature_frame(f.iloc[:300]).columns)
        columns, fitted = fit_symbol(f, horizons, columns, sub, **model_kwargs)
        loaded[sym], own_models[sym] = f, fitted
        heads[sym] = {str(h): head_record(m) for h, m in fitted.items()}
        importance[sym] = {str(h): dict(list(feature_importance(m, columns).items())[:25])
                           for h, m in fitted.items()}
        for h, m in fitted.items():
            files.update(model_files(sym, h, m))
        data_info[sym] = {"source": source, "bars": len(f), "first": f.index[0].isoformat(),
                          "last": f.index[-1].isoformat(), "sha256": hash_inputs(f)}
    scope: dict[str, dict] = {}
    scope_val: dict[str, dict] = {}
    if pooled:
        def psub(frac, msg):
            if progress:
                progress((len(symbols) + frac) / steps, msg)

        _, pooled_fitted = fit_pooled(loaded, horizons, columns, psub, **model_kwargs)
        heads[POOLED] = {str(h): head_record(m) for h, m in pooled_fitted.items()}
        importance[POOLED] = {str(h): dict(list(feature_importance(m, columns).items())[:25])
                              for h, m in pooled_fitted.items()}
        for h, m in pooled_fitted.items():
            files.update(model_files(POOLED, h, m))
        for sym in symbols:
            cmp = {str(h): compare_scope(own_models[sym][h], pooled_fitted[h], sym)
                   for h in horizons}
            scope[sym] = {h: c["serve"] for h, c in cmp.items()}
            scope_val[sym] = cmp
    files["heads.json"] = json.dumps(heads, indent=1).encode()
    meta = {
        **_model_metadata(interval, horizons, columns),
        "symbols": symbols, "pooled": bool(pooled),
        "method": ("per-symbol XGBoost/LightGBM/RandomForest, weights 0.4/0.4/0.2, "
                   "James-Stein shrinkage toward the zero-return random walk gated by a "
                   "nested forward check (horizon 1 only; floor 1e-4 otherwise), "
                   "normalised split-conformal 80/95% intervals (EWMA sigma)"
                   + ("; plus a pooled forecaster of the same design on the stacked rows of "
                      "all symbols (time-purged inner validation) that serves every symbol "
                      "without a head and every symbol/horizon whose head did not beat it "
                      "on the symbol's validation window" if pooled else "")),
        "validation": {s: {h: v["val"] | {"shrink": v["shrink"]} for h, v in hh.items()}
                       for s, hh in heads.items()},
        "feature_importance": importance, "data": data_info,
        "train_seconds": round(time.perf_counter() - t0, 2),
    }
    if pooled:
        meta["pooled_key"] = POOLED
        meta["pooled_symbols"] = symbols
        meta["scope"] = scope
        meta["scope_validation"] = scope_val
    _record_model_kwargs(meta, model_kwargs)
    if evaluation:
        meta["walk_forward"] = evaluation
        meta["record"] = record_to_json(evaluation_record(meta))
    if pooled_evaluation:
        meta["leave_symbols_out"] = pooled_evaluation
    art = save_artifact(FAMILY, files, meta, models_dir=models_dir)
    if progress:
        progress(1.0, f"saved forecast/{art.version}")
    return art
