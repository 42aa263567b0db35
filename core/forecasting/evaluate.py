"""Walk-forward evaluation of the forecaster beside the naive random walk (DESIGN.md protocol).

Expanding window, refit every ``step`` bars, embargo = ``horizon`` bars, scored only on bars
never trained on (:func:`core.evaluation.walk_forward_splits`).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.family import EvalCell, EvalRecord
from core.evaluation import (
    NEGLIGIBLE_RATIO,
    beats_baseline,
    always_up,
    coverage,
    diebold_mariano,
    directional_accuracy,
    effective_n,
    mae,
    mae_ratio,
    rmse,
    rmse_ratio,
    spearman_ic,
    walk_forward_splits,
    wilson_ci,
)
from core.forecasting.features import design
from core.forecasting.model import MEMBERS, HorizonForecaster

INITIAL_TRAIN = 750
STEP = 250


def usable_start(X: pd.DataFrame) -> int:
    """Position of the first row with every feature finite (end of indicator warm-up)."""
    ok = np.isfinite(X.to_numpy()).all(axis=1)
    if not ok.any():
        raise InsufficientDataError("No bar has every feature defined; load a longer history.")
    return int(np.argmax(ok))


def walk_forward_design(frame: pd.DataFrame, horizon: int, initial_train: int,
                        symbol: str = "") -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """``(X, y, sigma)`` of :func:`core.forecasting.features.design` from the end of the
    indicator warm-up on, checked long enough for one walk-forward fold.

    Raises:
        InsufficientDataError: fewer than ``initial_train + horizon + 20`` usable bars (the
            message names ``symbol`` when given).
    """
    X, y, sig = design(frame, horizon)
    s0 = usable_start(X)
    X, y, sig = X.iloc[s0:], y.iloc[s0:], sig.iloc[s0:]
    need = initial_train + horizon + 20
    if len(X) < need:
        text = (f"walk-forward needs more than {need} bars after the indicator warm-up; only "
                f"{len(X)} available.")
        raise InsufficientDataError(f"{symbol}: {text}" if symbol else text[0].upper() + text[1:])
    return X, y, sig


def walk_forward_predictions(
    frame: pd.DataFrame,
    horizon: int,
    *,
    step: int = STEP,
    initial_train: int = INITIAL_TRAIN,
    progress: Callable[[float, str], None] | None = None,
    **model_kwargs,
) -> pd.DataFrame:
    """Out-of-sample predictions for every test bar of an expanding walk-forward.

    Returns:
        Frame indexed by origin ``timestamp`` with the :meth:`HorizonForecaster.predict`
        columns plus ``y`` (realised forward log return, NaN when not yet known), ``sigma``,
        ``fold`` and ``shrink``.

    Raises:
        InsufficientDataError: history too short for one fold.
    """
    X, y, sig = walk_forward_design(frame, horizon, initial_train)
    n = len(X)
    splits = walk_forward_splits(n, horizon=horizon, initial_train=initial_train, step=step)
    Xa, ya, sa = X.to_numpy(), y.to_numpy(), sig.to_numpy()
    parts = []
    for k, sp in enumerate(splits):
        if progress:
            progress(k / len(splits), f"h={horizon}: fold {k + 1}/{len(splits)}")
        model = HorizonForecaster(horizon=horizon, **model_kwargs).fit(
            Xa[sp.train], ya[sp.train], sa[sp.train])
        pred = model.predict(Xa[sp.test], sa[sp.test])
        pred.index = X.index[sp.test]
        pred["y"] = ya[sp.test]
        pred["sigma"] = sa[sp.test]
        pred["fold"] = k
        pred["shrink"] = model.shrink_
        parts.append(pred)
    if progress:
        progress(1.0, f"h={horizon}: done")
    return pd.concat(parts)


def _skill(y: np.ndarray, p: np.ndarray, horizon: int) -> dict:
    acc, hits, n = directional_accuracy(y, p)
    n_eff = effective_n(n, horizon)
    lo, hi = wilson_ci(acc * n_eff, n_eff) if n else (float("nan"), float("nan"))
    dm = diebold_mariano(y - p, y, horizon)
    return {"rmse": rmse(y, p), "mae": mae(y, p), "rmse_ratio": rmse_ratio(y, p),
            "mae_ratio": mae_ratio(y, p), "directional_accuracy": acc,
            "directional_accuracy_ci95": [lo, hi], "ic": spearman_ic(y, p),
            "dm_stat": dm.statistic, "dm_pvalue": dm.pvalue}


def score_predictions(pred: pd.DataFrame, horizon: int) -> dict:
    """Skill of every member, the raw ensemble and the shipped ensemble against the naive
    zero-return forecast and the always-up direction baseline (scored bars: finite ``y``).

    DM test: squared-error loss vs naive, Newey-West lag ``horizon-1``, HLN-corrected,
    two-sided. Directional CI: Wilson with effective n = n / horizon.
    """
    d = pred[np.isfinite(pred["y"])]
    y = d["y"].to_numpy()
    models = {m: _skill(y, d[m].to_numpy(), horizon) for m in (*MEMBERS, "ensemble_raw",
                                                                "ensemble")}
    up, _, n = always_up(y)
    n_eff = effective_n(n, horizon)
    ens = models["ensemble"]
    return {
        "horizon": int(horizon),
        "n_test": int(len(y)),
        "n_effective": n_eff,
        "first_test": d.index[0].isoformat() if len(d) else None,
        "last_test": d.index[-1].isoformat() if len(d) else None,
        "folds": int(d["fold"].nunique()) if len(d) else 0,
        "mean_shrink": float(d["shrink"].mean()) if len(d) else float("nan"),
        "members": {m: models[m] for m in MEMBERS},
        "ensemble_raw": models["ensemble_raw"],
        "ensemble": models["ensemble"],
        "rmse_ratio": ens["rmse_ratio"], "mae_ratio": ens["mae_ratio"],
        "directional_accuracy": ens["directional_accuracy"], "ic": ens["ic"],
        "dm_pvalue": ens["dm_pvalue"],
        "baselines": {
            "naive_zero": {"rmse": rmse(y, np.zeros_like(y)), "mae": mae(y, np.zeros_like(y)),
                           "rmse_ratio": 1.0, "mae_ratio": 1.0},
            "always_up": {"directional_accuracy": up,
                          "directional_accuracy_ci95": list(wilson_ci(up * n_eff, n_eff))},
        },
        "coverage_80": coverage(y, d["ensemble-lo-80"], d["ensemble-hi-80"]),
        "coverage_95": coverage(y, d["ensemble-lo-95"], d["ensemble-hi-95"]),
    }


def evaluate_symbol(frame: pd.DataFrame, symbol: str, horizon: int, **kwargs) -> dict:
    """Walk-forward predictions + :func:`score_predictions` for one symbol and horizon."""
    pred = walk_forward_predictions(frame, horizon, **kwargs)
    out = {"symbol": symbol, **score_predictions(pred, horizon)}
    return out




def verdict(res: dict) -> str:
    """One plain sentence about the ensemble's skill versus the random walk.

    "Significant" needs a two-sided DM p < 0.05 AND an RMSE ratio at least ``NEGLIGIBLE_RATIO``
    (0.05%) away from 1: a forecast shrunk to ~1e-4 of its raw size can differ from the
    random walk "significantly" by a few millionths, which is no skill a trader can use.
    """
    h = res["horizon"]
    p = res.get("dm_pvalue")
    r = res.get("rmse_ratio")
    ptxt = "n/a" if p is None or not math.isfinite(p) else f"{p:.2f}"
    sig = p is not None and math.isfinite(p) and p < 0.05
    if sig and r is not None and abs(1 - r) < NEGLIGIBLE_RATIO:
        return (f"No practical difference from a random walk at {h} bars (RMSE ratio "
                f"{r:.4f}; DM p = {ptxt} only detects a difference below 0.05%).")
    if beats_baseline(p, r):
        return (f"Significant skill over a random walk at {h} bars "
                f"(RMSE ratio {r:.4f}, DM p = {ptxt}).")
    if sig and r > 1:
        return f"Significantly worse than a random walk at {h} bars (DM p = {ptxt})."
    return f"No significant skill over a random walk at {h} bars (DM p = {ptxt})."


def evaluation_record(metadata: dict) -> EvalRecord:
    """The record from ``metadata["walk_forward"]`` (``{symbol: {h: result}}`` of
    :func:`core.forecasting.evaluate.evaluate_symbol`): RMSE of the ensemble against the
    zero-return forecast, Diebold-Mariano p-value, skill by :func:`beats_baseline`."""
    out: EvalRecord = {}
    wf = metadata.get("walk_forward")
    if not isinstance(wf, dict):
        return out
    for sym, by_h in wf.items():
        if not isinstance(by_h, dict):
            continue
        for h, r in by_h.items():
            if not isinstance(r, dict):
                continue
            ratio, p = r.get("rmse_ratio"), r.get("dm_pvalue")
            ens = (r.get("ensemble") or {}).get("rmse")
            base = ((r.get("baselines") or {}).get("naive_zero") or {}).get("rmse")
            skill = (beats_baseline(p, ratio) if isinstance(p, (int, float))
                     and isinstance(ratio, (int, float)) else None)
            out.setdefault(str(sym).upper(), {})[str(h)] = EvalCell.from_dict(
                {"metric": "rmse", "model": ens, "baseline": base, "ratio": ratio, "pvalue": p,
                 "skill": skill})
    return out
