"""Trainer of the ``forecast`` family: one :class:`HorizonForecaster` per symbol and horizon
(per-symbol models; see docs/forecast.md for why not pooled), saved through the registry."""

from __future__ import annotations

import json
import time
from typing import Callable, Sequence

import numpy as np

from core.forecasting.artifact import FAMILY, head_record, model_files
from core.forecasting.evaluate import usable_start
from core.forecasting.features import design, feature_frame
from core.forecasting.model import MEMBERS, HorizonForecaster

DAILY_HORIZONS = (1, 5, 20)
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
        fitted[h] = HorizonForecaster(horizon=h, **model_kwargs).fit(X.to_numpy(), y, sig)
        columns = list(X.columns)
        if progress:
            progress((j + 1) / len(horizons), f"h={h}")
    return columns, fitted


def train(progress: Progress | None = None, symbols: Sequence[str] | None = None,
          interval: str = "1d", horizons: Sequence[int] | None = None,
          evaluation: dict | None = None, models_dir=None):
    """Train the forecast family and save a new registry version.

    Args:
        progress: ``progress(fraction, message)`` callback.
        symbols: tickers (default: the bundled universe ``core.data.BUNDLED_SYMBOLS``).
        interval: bar interval (bundled history is daily).
        horizons: bars ahead (default :func:`default_horizons`).
        evaluation: walk-forward results to store in the metadata (from
            ``quantdesk evaluate forecast --save``); None stores none.

    Returns:
        The saved :class:`core.registry.Artifact`.

    Raises:
        QuantdeskError subclasses when a symbol's data cannot be loaded or is too short.
    """
    from core.data import BUNDLED_SYMBOLS, load_ohlcv
    from core.features import FEATURE_VERSION
    from core.predictions import hash_inputs
    from core.registry import save_artifact

    t0 = time.perf_counter()
    symbols = [s.upper() for s in (symbols or BUNDLED_SYMBOLS)]
    horizons = list(horizons or default_horizons(interval))
    files: dict[str, bytes] = {}
    heads: dict[str, dict] = {}
    importance: dict[str, dict] = {}
    data_info: dict[str, dict] = {}
    columns = None
    for i, sym in enumerate(symbols):
        md = load_ohlcv(sym, interval, min_bars=500)

        def sub(frac, msg, i=i, sym=sym):
            if progress:
                progress((i + frac) / len(symbols), f"{sym} {msg}")

        if columns is None:
            columns = list(feature_frame(md.frame.iloc[:300]).columns)
        columns, fitted = fit_symbol(md.frame, horizons, columns, sub)
        heads[sym] = {str(h): head_record(m) for h, m in fitted.items()}
        importance[sym] = {str(h): dict(list(feature_importance(m, columns).items())[:25])
                           for h, m in fitted.items()}
        for h, m in fitted.items():
            files.update(model_files(sym, h, m))
        f = md.frame
        data_info[sym] = {"source": md.source, "bars": len(f), "first": f.index[0].isoformat(),
                          "last": f.index[-1].isoformat(), "sha256": hash_inputs(f)}
    files["heads.json"] = json.dumps(heads, indent=1).encode()
    from core.forecasting.model import LGB_PARAMS, RF_PARAMS, SHRINK_FLOOR, XGB_PARAMS
    meta = {
        "kind": "log_return", "interval": interval, "horizons": horizons,
        "symbols": symbols, "pooled": False, "members": list(MEMBERS),
        "features": columns, "feature_version": FEATURE_VERSION,
        "params": {"xgboost": XGB_PARAMS, "lightgbm": LGB_PARAMS, "random_forest": RF_PARAMS},
        "shrink_rule": {"floor": SHRINK_FLOOR, "cap": 0.5, "t_min": 2.0, "max_horizon": 1,
                        "gate": "nested forward check on the inner validation blocks"},
        "method": ("per-symbol XGBoost/LightGBM/RandomForest, weights 0.4/0.4/0.2, "
                   "James-Stein shrinkage toward the zero-return random walk gated by a "
                   "nested forward check (horizon 1 only; floor 1e-4 otherwise), "
                   "normalised split-conformal 80/95% intervals (EWMA sigma)"),
        "validation": {s: {h: v["val"] | {"shrink": v["shrink"]} for h, v in hh.items()}
                       for s, hh in heads.items()},
        "feature_importance": importance, "data": data_info,
        "train_seconds": round(time.perf_counter() - t0, 2),
    }
    if evaluation:
        meta["walk_forward"] = evaluation
    art = save_artifact(FAMILY, files, meta, models_dir=models_dir)
    if progress:
        progress(1.0, f"saved forecast/{art.version}")
    return art
