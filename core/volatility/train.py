"""Trainer of the ``volatility`` family (``quantdesk train volatility``).

For every bundled symbol: the rolling out-of-sample evaluation (``core.volatility.evaluate``,
h = 1, 5, 21), then the serving fit on the last 2520 bars — GARCH(1,1) and GJR-GARCH-t
parameters and HAR coefficients as JSON (``params.json``), and the ML model per horizon as
LightGBM text files trained on the out-of-sample base forecasts of the evaluation. Metrics,
MCS members and the best model per symbol/horizon go into the artifact metadata, so pages show
the evaluation table without recomputing it.
"""

from __future__ import annotations

import json
import re
from typing import Callable

import numpy as np
import pandas as pd

from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.market import log_returns
from core.predictions import hash_inputs
from core.registry import save_artifact
from core.volatility.api import FIT_BARS
from core.family import record_to_json
from core.volatility.evaluate import HORIZONS, MODELS, evaluate_rolling, evaluation_record
from core.volatility.garch import GarchForecaster
from core.volatility.har import HARForecaster
from core.volatility.ml import MLForecaster, ml_features

FAMILY = "volatility"


def slug(symbol: str) -> str:
    """File-name-safe symbol: ``^GSPC`` -> ``idx-gspc``, ``BRK.B`` -> ``brk.b``."""
    s = symbol.lower().replace("^", "idx-")
    return re.sub(r"[^a-z0-9_.-]", "-", s)


def fit_symbol(frame: pd.DataFrame, symbol: str, horizons=HORIZONS, progress=None) -> dict:
    """Evaluate and fit one symbol. Returns ``{"params": ..., "files": ..., "evaluation":
    ...}`` ready for the artifact (params JSON-ready, files LightGBM text bytes)."""
    res, rr = evaluate_rolling(frame, symbol, horizons)
    tail = frame.iloc[-FIT_BARS:]
    r = log_returns(tail["close"]).iloc[1:]
    garch = {k: GarchForecaster(k).fit(r, starting_values=rr.params[k]) for k in ("garch", "gjr")}
    params = {"garch": garch["garch"].to_dict(), "gjr": garch["gjr"].to_dict(), "har": {},
              "fit_start": str(tail.index[0]), "fit_end": str(tail.index[-1]),
              "n_bars": int(len(tail)), "data_hash": hash_inputs(frame)}
    files: dict[str, bytes] = {}
    for h in horizons:
        params["har"][str(h)] = HARForecaster(h).fit(tail).to_dict()
        b = rr.bases[h].iloc[-FIT_BARS:]
        x = ml_features(frame, b, h).loc[b.index]
        ml = MLForecaster(h).fit(x, b["y"], b["gjr"])
        files.update(ml.to_files(f"ml-{slug(symbol)}-h{h}"))
    return {"params": params, "files": files, "evaluation": res, "bases": rr.bases}


def train(progress: Callable[[float, str], None] | None = None, symbols=None, models_dir=None,
          pooled: bool = True):
    """Train the volatility family on the bundled symbols and save a new version.

    With ``pooled`` (and >= 3 symbols), also the pooled ML model for symbols without their own
    parameters and its leave-symbols-out walk-forward evaluation
    (:func:`core.volatility.pooled.build`, ~10-20 min on 2 cores).
    Returns the :class:`core.registry.Artifact`. Progress reports per symbol."""
    symbols = list(symbols or BUNDLED_SYMBOLS)
    params, files, evaluation, data = {}, {}, {}, {}
    frames, bases = {}, {}
    for i, sym in enumerate(symbols):
        if progress:
            progress(i / len(symbols), f"volatility: evaluating and fitting {sym}")
        md = load_ohlcv(sym)
        out = fit_symbol(md.frame, sym)
        params[sym] = out["params"]
        files.update(out["files"])
        evaluation[sym] = out["evaluation"]
        frames[sym], bases[sym] = md.frame, out["bases"]
        data[sym] = {"source": md.source, "first": str(md.frame.index[0].date()),
                     "last": str(md.frame.index[-1].date()), "rows": len(md.frame)}
    best = {}
    for h in HORIZONS:
        ratios = {m: float(np.mean([evaluation[s]["results"][h]["primary"]["models"][m]
                                    ["qlike_ratio"] for s in symbols])) for m in MODELS}
        best[str(h)] = min(ratios, key=ratios.get)
    files["params.json"] = json.dumps(params, indent=1, sort_keys=True).encode()
    meta = {
        "kind": "variance", "horizons": list(HORIZONS), "models": list(MODELS),
        "symbols": symbols, "data": data, "evaluation": _json_keys(evaluation),
        "record": record_to_json(evaluation_record({"evaluation": _json_keys(evaluation)})),
        "best_overall": best,
        "protocol": "rolling out-of-sample, GARCH/HAR refit every 21 bars (window <= 2520), "
                    "ML refit every 126 bars on out-of-sample base forecasts; target: sum of "
                    "squared close-to-close log returns over the horizon",
        "units": "variance of the log return summed over the horizon (fraction^2), not "
                 "annualised",
    }
    if pooled and len(symbols) >= 3:
        from core.volatility import pooled as pooled_mod

        pfiles, meta["pooled"] = pooled_mod.build(
            frames, bases, HORIZONS,
            progress=(lambda m: progress(0.9, m)) if progress else None)
        files.update(pfiles)
    if progress:
        progress(0.99, "volatility: saving artifact")
    art = save_artifact(FAMILY, files, meta, models_dir=models_dir)
    if progress:
        progress(1.0, f"volatility: saved {art.version}")
    return art


def _json_keys(obj):
    if isinstance(obj, dict):
        return {str(k): _json_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_keys(v) for v in obj]
    return obj


REGISTRY_KEYS = ("family", "version", "created_at", "files", "library_versions")


def add_pooled(models_dir=None, version: str | None = None, progress=None, heldout=None,
               symbols=None, bases=None):
    """A new version = an existing one (default: the newest on disk) plus the pooled ML model
    and its leave-symbols-out evaluation (:func:`core.volatility.pooled.build`), saved with
    the registry; the per-symbol files and evaluation are copied byte for byte (so git stores
    them once). ``heldout`` passes precomputed :func:`~core.volatility.pooled.heldout_symbol`
    results and ``bases`` the symbols' ``RollingResult.bases`` (both recomputed when None).
    Returns the new :class:`core.registry.Artifact`."""
    from core.registry import load_artifact
    from core.volatility import pooled as pooled_mod
    from core.volatility.evaluate import rolling_forecasts

    old = load_artifact(FAMILY, version, models_dir=models_dir)
    symbols = list(symbols or old.metadata.get("symbols") or BUNDLED_SYMBOLS)
    frames, given, bases = {}, bases or {}, {}
    for sym in symbols:
        frames[sym] = load_ohlcv(sym).frame
        if sym in given:
            bases[sym] = given[sym]
            continue
        if progress:
            progress(f"volatility: out-of-sample base forecasts of {sym}")
        # the base forecasts do not depend on the ML refits: one ML fit only
        bases[sym] = rolling_forecasts(frames[sym], HORIZONS, ml_refit=10**9).bases
    pfiles, pmeta = pooled_mod.build(frames, bases, HORIZONS, heldout=heldout,
                                     progress=progress)
    meta = {k: v for k, v in old.metadata.items() if k not in REGISTRY_KEYS}
    meta["pooled"] = pmeta
    meta["derived_from"] = {"version": old.version,
                            "what": "same per-symbol files and evaluation; pooled model added"}
    files = {k: v for k, v in old.files.items() if not k.startswith(pooled_mod.PREFIX + "-")}
    files.update(pfiles)
    return save_artifact(FAMILY, files, meta, models_dir=models_dir)
