"""Rolling out-of-sample evaluation of the volatility forecasters.

Protocol (``docs/volatility.md``): expanding window capped at ``max_train`` bars; GARCH/GJR refit every ``refit_every``
bars (21, "monthly", warm-started from the previous parameters); HAR re-estimated at the
same points on rows whose target ends at or before the refit bar (an embargo of ``horizon``
bars); the ML model is trained on the *out-of-sample* base forecasts of earlier bars
(stacking, so it never sees a forecast made with future data) and refit every ``ml_refit``
bars. Every model is scored on the same test bars (from ``ml_start``), against the sum of
squared close-to-close log returns over the horizon (primary) and the Parkinson range
variance (secondary).

Losses and tests:
    * QLIKE ``y/f - log(y/f) - 1`` and MSE on variances — Patton, A. J. (2011) "Volatility
      forecast comparison using imperfect volatility proxies", *J. Econometrics* 160, 246-256.
      Bars with ``y = 0`` (no price change) are left out of QLIKE's sample (log 0).
    * Mincer-Zarnowitz R² of ``y = a + b f`` — Mincer & Zarnowitz (1969).
    * Diebold-Mariano (1995) test of equal loss vs GARCH(1,1) with a Newey-West HAC variance
      (statsmodels OLS on a constant, ``cov_type="HAC"``), since multi-step loss differences
      are autocorrelated.
    * Model Confidence Set, Hansen, Lunde & Nason (2011), ``arch.bootstrap.MCS`` at 10 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.evaluation import beats_baseline
from core.family import EvalCell, EvalRecord
from core.market import log_returns
from core.targets import forward_range_var, forward_realized_var
from core.volatility.garch import GarchForecaster
from core.volatility.har import HARForecaster, ewma_path, har_features
from core.volatility.ml import MLForecaster, ml_features

MODELS = ("garch", "gjr", "ewma", "har", "ml")
MODEL_LABELS = {"garch": "GARCH(1,1)-normal", "gjr": "GJR-GARCH(1,1,1)-t",
                "ewma": "EWMA (lambda 0.94)", "har": "HAR-RV (Parkinson inputs)",
                "ml": "ML (LightGBM QLIKE on GJR)"}
HORIZONS = (1, 5, 21)


# --- losses ---------------------------------------------------------------------------------
def qlike(y, f) -> np.ndarray:
    """Patton (2011) QLIKE per observation: ``y/f - log(y/f) - 1`` (>= 0, 0 when f = y).

    Args: y realised variance (> 0), f forecast variance (> 0), same units. Returns float64
    array; NaN where ``y <= 0`` or ``f <= 0``."""
    y, f = np.asarray(y, dtype="float64"), np.asarray(f, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = y / f
        out = ratio - np.log(ratio) - 1.0
    return np.where((y > 0) & (f > 0), out, np.nan)


def mse(y, f) -> np.ndarray:
    """Squared error on variances ``(y - f)**2`` per observation."""
    return (np.asarray(y, dtype="float64") - np.asarray(f, dtype="float64")) ** 2


def mz_r2(y, f) -> float:
    """Mincer-Zarnowitz R²: the R² of the OLS regression ``y = a + b f`` (NaN if degenerate)."""
    y, f = np.asarray(y, dtype="float64"), np.asarray(f, dtype="float64")
    ok = np.isfinite(y) & np.isfinite(f)
    y, f = y[ok], f[ok]
    if len(y) < 3 or np.var(f) == 0 or np.var(y) == 0:
        return float("nan")
    a = np.column_stack([np.ones(len(f)), f])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    resid = y - a @ coef
    return float(1.0 - resid @ resid / ((y - y.mean()) @ (y - y.mean())))


def dm_test(loss_a, loss_b, horizon: int = 1) -> tuple[float, float]:
    """Diebold-Mariano test of equal expected loss, ``d = loss_a - loss_b``.

    HAC (Newey-West, Bartlett kernel) standard error with ``max(horizon, 4 (n/100)**(2/9))``
    lags. Returns ``(statistic, two-sided p-value)``; a negative statistic means ``a`` has the
    lower loss. NaN when fewer than 10 pairs or no variation."""
    import statsmodels.api as sm

    d = np.asarray(loss_a, dtype="float64") - np.asarray(loss_b, dtype="float64")
    d = d[np.isfinite(d)]
    if len(d) < 10 or np.allclose(d, d[0]):
        return float("nan"), float("nan")
    lags = max(int(horizon), int(np.floor(4 * (len(d) / 100) ** (2 / 9))))
    res = sm.OLS(d, np.ones(len(d))).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return float(res.tvalues[0]), float(res.pvalues[0])


def mcs_members(losses: pd.DataFrame, size: float = 0.10, reps: int = 500, seed: int = 0,
                block_size: int | None = None) -> list[str]:
    """Models in the Model Confidence Set (Hansen, Lunde & Nason 2011) via
    ``arch.bootstrap.MCS`` (stationary bootstrap, "R" statistic) at level ``size``."""
    from arch.bootstrap import MCS  # deferred: arch is slow to import

    clean = losses.dropna()
    if len(clean) < 30 or clean.shape[1] < 2:
        return list(clean.columns)
    m = MCS(clean, size=size, reps=reps, block_size=block_size, method="R",
            bootstrap="stationary", seed=seed)
    m.compute()
    return [str(c) for c in m.included]


# --- rolling forecasts --------------------------------------------------------------------
@dataclass
class RollingResult:
    """Out-of-sample forecasts per horizon: ``frames[h]`` has columns ``y`` (primary target),
    ``y_range`` (secondary), one per model in :data:`MODELS`, and ``ml-lo-80``/``ml-hi-80``,
    indexed by origin timestamp (test bars only). ``params`` are the last refit's GARCH/GJR
    parameters; ``bases[h]`` the out-of-sample base forecasts (gjr garch ewma har) and the
    target ``y`` on every bar from ``min_train`` (the ML training rows); ``n_refits`` counts
    GARCH refits."""

    frames: dict[int, pd.DataFrame]
    bases: dict[int, pd.DataFrame]
    params: dict[str, dict]
    n_refits: int
    test_start: pd.Timestamp


def rolling_forecasts(frame: pd.DataFrame, horizons=HORIZONS, refit_every: int = 21,
                      min_train: int = 500, ml_start: int | None = None, ml_refit: int = 126,
                      ml_rounds: int | None = None, max_train: int = 2520) -> RollingResult:
    """Walk-forward forecasts of every model for several horizons at once (GARCH fits are
    shared across horizons). See the module docstring for the protocol.

    Args:
        frame: OHLCV bars (>= ``ml_start + 250`` bars). horizons: bars ahead.
        refit_every: GARCH/HAR refit period [bars]. min_train: first origin [bars].
        ml_start: first test origin (default ``min_train + 500``). ml_refit: ML refit period.
        max_train: GARCH/HAR estimation window cap [bars] (10 years, as in serving).
    Raises:
        InsufficientDataError: not enough bars for a training window plus a test period.
    """
    n = len(frame)
    ml_start = min_train + 500 if ml_start is None else ml_start
    if n < ml_start + 250:
        raise InsufficientDataError(
            f"A rolling volatility evaluation needs at least {ml_start + 250} bars "
            f"({min_train} to start the GARCH fits, {ml_start - min_train} to train the ML "
            f"model, 250 to test); got {n}. Use a longer history.")
    r = log_returns(frame["close"])
    base = {h: {m: np.full(n, np.nan) for m in ("garch", "gjr", "har")} for h in horizons}
    models = {k: GarchForecaster(k) for k in ("garch", "gjr")}
    prev: dict[str, dict | None] = {"garch": None, "gjr": None}
    n_refits = 0
    har_x = har_features(frame, "parkinson").to_numpy()  # causal: row t uses bars <= t
    har_y = {h: (forward_realized_var(frame["close"], h) / h).to_numpy() for h in horizons}
    for t0 in range(min_train, n, refit_every):
        t1 = min(t0 + refit_every, n) - 1
        for k, mdl in models.items():
            mdl.fit(r.iloc[max(1, t0 + 1 - max_train):t0 + 1], starting_values=prev[k])
            prev[k] = mdl.params_
            # filter from a 500-bar burn-in before the block (the GARCH recursion forgets
            # its start: phi**500 ~ 0), not from the first bar: same numbers, less time
            s0 = max(1, t0 - 500)
            paths = mdl.forecast_paths(r.iloc[s0:t1 + 1], horizons)
            for h in horizons:
                base[h][k][t0:t1 + 1] = paths[h].to_numpy()[t0 - s0:]
        lo = max(0, t0 + 1 - max_train)
        for h in horizons:  # HAR rows whose target ends at or before t0 (embargo of h bars)
            har = HARForecaster(h).fit_arrays(har_x[lo:t0 - h + 1], har_y[h][lo:t0 - h + 1])
            base[h]["har"][t0:t1 + 1] = har.predict_arrays(har_x[t0:t1 + 1])
        n_refits += 1
    frames, bases = {}, {}
    har_both = (har_features(frame, "parkinson"), har_features(frame, "rv"))
    for h in horizons:
        b = pd.DataFrame({k: v for k, v in base[h].items()}, index=frame.index)
        b["ewma"] = ewma_path(frame, h)
        b.iloc[:min_train] = np.nan
        y = forward_realized_var(frame["close"], h)
        x = ml_features(frame, b, h, har_both)
        ml = pd.DataFrame(np.nan, index=frame.index, columns=["ml", "ml-lo-80", "ml-hi-80"])
        for s0 in range(ml_start, n, ml_refit):
            s1 = min(s0 + ml_refit, n)
            train = slice(max(min_train, s0 - max_train), max(s0 - h + 1, min_train))
            mdl = MLForecaster(h, **({"rounds": ml_rounds} if ml_rounds else {}))
            mdl.fit(x.iloc[train], y.iloc[train], b["gjr"].iloc[train])
            ml.iloc[s0:s1] = mdl.predict(x.iloc[s0:s1], b["gjr"].iloc[s0:s1]).to_numpy()
        out = pd.concat([y.rename("y"), forward_range_var(frame, h).rename("y_range"),
                         b[["garch", "gjr", "ewma", "har"]], ml], axis=1)
        frames[h] = out.iloc[ml_start:].dropna(subset=["y"])
        bases[h] = pd.concat([b[["gjr", "garch", "ewma", "har"]], y.rename("y")],
                             axis=1).iloc[min_train:]
    return RollingResult(frames, bases, {k: dict(v) for k, v in prev.items()}, n_refits,
                         frame.index[ml_start])


def score(fc: pd.DataFrame, horizon: int, target: str = "y", mcs_reps: int = 500,
          seed: int = 0) -> dict:
    """Metrics of one horizon's forecasts against ``target`` (``y`` or ``y_range``).

    Returns a JSON-ready dict: ``n_test``, ``models`` {name: qlike, mse, mz_r2, qlike_ratio
    (vs GARCH(1,1)), dm_stat, dm_pvalue_vs_garch}, ``mcs_members`` (QLIKE, 10 %),
    ``best`` (lowest QLIKE), ``interval`` (ML 80 % coverage and mean width).
    """
    ok = fc[target] > 0
    for m in MODELS:
        ok &= fc[m] > 0
    d = fc[ok]
    y = d[target].to_numpy()
    losses = pd.DataFrame({m: qlike(y, d[m].to_numpy()) for m in MODELS}, index=d.index)
    base_q = losses["garch"].mean()
    models = {}
    for m in MODELS:
        stat, p = (float("nan"), float("nan")) if m == "garch" else dm_test(
            losses[m], losses["garch"], horizon)
        models[m] = {"qlike": float(losses[m].mean()), "mse": float(mse(y, d[m]).mean()),
                     "mz_r2": mz_r2(y, d[m].to_numpy()),
                     "qlike_ratio": float(losses[m].mean() / base_q),
                     "dm_stat": stat, "dm_pvalue_vs_garch": p}
    # a block length near the horizon keeps the overlap structure of multi-step losses
    members = mcs_members(losses, reps=mcs_reps, seed=seed, block_size=max(horizon, 10))
    inside = (d[target] >= d["ml-lo-80"]) & (d[target] <= d["ml-hi-80"])
    return {
        "horizon": horizon, "target": target, "n_test": int(len(d)),
        "n_dropped_zero": int((~ok).sum()),
        "test_start": str(d.index[0].date()) if len(d) else None,
        "test_end": str(d.index[-1].date()) if len(d) else None,
        "models": models, "mcs_members": members,
        "best": min(MODELS, key=lambda m: models[m]["qlike"]),
        "interval": {"model": "ml", "nominal": 0.80, "coverage": float(inside.mean()),
                     "below": float((d[target] < d["ml-lo-80"]).mean()),
                     "above": float((d[target] > d["ml-hi-80"]).mean()),
                     "mean_width": float((d["ml-hi-80"] - d["ml-lo-80"]).mean())},
    }


def evaluate_rolling(frame: pd.DataFrame, symbol: str, horizons=HORIZONS, mcs_reps: int = 500,
                     **kw) -> tuple[dict, RollingResult]:
    """:func:`evaluate` plus the :class:`RollingResult` (the trainer reuses its forecasts)."""
    rr = rolling_forecasts(frame, horizons, **kw)
    out = {"symbol": symbol, "n_refits": rr.n_refits, "refit_every": kw.get("refit_every", 21),
           "ml_refit": kw.get("ml_refit", 126), "results": {}}
    for h in horizons:
        out["results"][h] = {"primary": score(rr.frames[h], h, "y", mcs_reps),
                             "range": score(rr.frames[h], h, "y_range", mcs_reps)}
    return out, rr


def evaluate(frame: pd.DataFrame, symbol: str, horizons=HORIZONS, **kw) -> dict:
    """Rolling evaluation of every model on ``frame`` for ``horizons``; primary and range
    tables per horizon: ``{"symbol", "n_refits", "results": {h: {"primary", "range"}}}``.
    Raises InsufficientDataError for short histories (see :func:`rolling_forecasts`)."""
    return evaluate_rolling(frame, symbol, horizons, **kw)[0]


def evaluation_record(metadata: dict) -> EvalRecord:
    """The record from ``metadata["evaluation"]`` (``{symbol: {"results": {h: {"primary":
    ...}}}}`` of :func:`core.volatility.evaluate.evaluate_rolling`): QLIKE of the best model
    of each cell (the one the page serves) against GARCH(1,1)-normal, the Diebold-Mariano
    p-value against it, skill by :func:`beats_baseline`."""
    out: EvalRecord = {}
    ev = metadata.get("evaluation")
    if not isinstance(ev, dict):
        return out
    for sym, res in ev.items():
        for h, cell in ((res or {}).get("results") or {}).items():
            primary = (cell or {}).get("primary") or {}
            models = primary.get("models") or {}
            best = models.get(primary.get("best")) or {}
            base = (models.get("garch") or {}).get("qlike")
            ratio, p = best.get("qlike_ratio"), best.get("dm_pvalue_vs_garch")
            skill = (beats_baseline(p, ratio) if isinstance(p, (int, float))
                     and isinstance(ratio, (int, float)) else None)
            out.setdefault(str(sym).upper(), {})[str(h)] = EvalCell.from_dict(
                {"metric": "qlike", "model": best.get("qlike"), "baseline": base,
                 "ratio": ratio, "pvalue": p, "skill": skill})
    return out
