"""Pooled ML volatility model for symbols the artifact has no parameters for.

The per-symbol ML model (:mod:`core.volatility.ml`) needs its own training history; a symbol
without one used to be served by fitting a LightGBM model *in sample* on its own bars at
request time (``api.forecast_all``: ~0.2-0.5 s per symbol for three horizons, most of a
screener row). This module trains **one** model per horizon across the bundled symbols
instead, on scale-free inputs, and serves it to any other symbol:

* Inputs: :func:`pooled_features` = :func:`core.volatility.ml.ml_features` with its one level
  feature (``log_g``, the log of GJR's per-bar variance: an index and a stock live at
  different levels, so a tree split on it does not transfer) replaced by ``rv_y``, the log
  ratio of the trailing 252-bar mean squared return to GJR's per-bar level. Every input is a
  log ratio or a standardised return, so the model sees no symbol's price or vol level.
* Training rows: every bundled symbol's *out-of-sample* base forecasts from the rolling
  evaluation (``RollingResult.bases``: GARCH/GJR/HAR refitted every 21 bars on past bars),
  which is how the base forecasts of a served symbol are made (fitted on bars up to the last
  one, forecasting after it).
* Point: LightGBM on QLIKE as a multiplicative correction of GJR (same as the per-symbol
  model). Interval: LightGBM quantiles (0.1, 0.9) of ``y / g``, conformalized (Romano et al.
  2019) on **held-out symbols**: for each training symbol, quantile models fitted on the
  others score it; the pooled scores set the widening, applied to the quantile models fitted
  on all symbols (cross-conformal).
* Serving (:func:`forecasts_pooled`): GARCH(1,1) and GJR-t are still fitted on the symbol's
  own last <= 2520 bars (~30 ms), HAR by NNLS (~1 ms per horizon); only the ML step is
  shared. No lookahead: every input at the last bar uses bars <= it.

:func:`heldout_evaluation` is the leave-symbols-out walk-forward comparison recorded in the
artifact (``metadata["pooled"]``) and ``docs/volatility.md``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.market import log_returns
from core.predictions import hash_inputs
from core.targets import forward_realized_var
from core.volatility.ml import (
    BOOST,
    CAL_FRAC,
    EPS,
    FEATURES,
    MIN_ROWS,
    QUANTILES,
    MLForecaster,
    _qlike_objective,
    default_rounds,
    ml_features,
)

#: pooled inputs: the per-symbol features without the level ``log_g``, plus ``rv_y``
POOL_FEATURES = [f for f in FEATURES if f != "log_g"] + ["rv_y"]
LONG_WINDOW = 252
#: bars of the tail the serving features are computed on (>= LONG_WINDOW + a margin)
FEATURE_TAIL = 300
PREFIX = "pooled"


def pooled_features(frame: pd.DataFrame, base: pd.DataFrame, horizon: int,
                    har: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Scale-free feature frame (columns :data:`POOL_FEATURES`) aligned with ``frame``; NaN
    rows where an input is missing (fewer than 126 bars for ``rv_y``)."""
    x = ml_features(frame, base, horizon, har)
    g = base.reindex(frame.index)["gjr"].to_numpy(dtype="float64") / horizon
    r2 = log_returns(frame["close"]).pow(2)
    long = r2.rolling(LONG_WINDOW, min_periods=LONG_WINDOW // 2).mean().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rv_y = np.log(np.maximum(long, EPS) / g)
    rv_y[np.isnan(long)] = np.nan
    x["rv_y"] = rv_y
    x.loc[x["log_g"].isna(), "rv_y"] = np.nan
    return x[POOL_FEATURES].astype("float64")


def training_rows(frame: pd.DataFrame, bases: pd.DataFrame, horizon: int,
                  features=pooled_features) -> pd.DataFrame:
    """Rows ``features..., y, g`` of one symbol from its out-of-sample base forecasts
    (``RollingResult.bases[horizon]``), complete rows only, indexed by origin date."""
    b = bases.reindex(frame.index)
    x = features(frame, b, horizon)
    y = forward_realized_var(frame["close"], horizon)
    out = x.assign(y=y, g=b["gjr"]).loc[bases.index]
    ok = out.notna().all(axis=1) & (out["g"] > 0) & (out["y"] >= 0)
    return out[ok]


def _train(params: dict, x: np.ndarray, y: np.ndarray, rounds: int, init=None, names=None):
    import lightgbm as lgb  # deferred: lightgbm is slow to import

    ds = lgb.Dataset(x, label=y, init_score=init, feature_name=names)
    return lgb.train(params, ds, num_boost_round=rounds)


def _scores(lower, upper, x: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Conformity scores of CQR in log-ratio units (positive: outside the raw interval)."""
    lo = np.maximum(lower.predict(x), EPS)
    hi = np.maximum(upper.predict(x), lo)
    yr = np.maximum(ratio, EPS)
    return np.maximum(np.log(lo / yr), np.log(yr / hi))


def fit_pooled(rows: dict[str, pd.DataFrame], horizon: int, rounds: int | None = None,
               names=None) -> tuple[MLForecaster, dict]:
    """One pooled model for ``horizon`` from ``{symbol: training_rows(...)}``.

    Returns the model (an :class:`MLForecaster`, so it persists and predicts like the
    per-symbol ones) and ``info`` (rows per symbol, held-out calibration scores' count and
    coverage before widening). Symbols with fewer than 50 rows are not used as calibration
    folds. Raises InsufficientDataError below 300 rows in all or without two usable symbols.
    """
    rows = {s: r for s, r in rows.items() if len(r)}
    names = names or [c for c in next(iter(rows.values()), pd.DataFrame(columns=POOL_FEATURES)).columns
                      if c not in ("y", "g")]
    n_all = sum(len(r) for r in rows.values())
    if n_all < MIN_ROWS or len(rows) < 2:
        raise InsufficientDataError(
            f"The pooled volatility model needs {MIN_ROWS} rows from at least 2 symbols; got "
            f"{n_all} from {len(rows)}.")
    rounds = rounds or default_rounds(horizon)
    params = {**BOOST}
    allr = pd.concat(rows.values())
    x, y, g = allr[names].to_numpy(), allr["y"].to_numpy(), allr["g"].to_numpy()
    point = _train({**params, "objective": _qlike_objective}, x, y, rounds, np.log(g), names)
    ratio = y / g
    qp = [{**params, "objective": "quantile", "alpha": a} for a in QUANTILES]
    scores = []
    for sym, r in rows.items():  # symbol-held-out conformity scores
        rest = pd.concat([rr for s, rr in rows.items() if s != sym])
        if len(r) < 50 or len(rest) < MIN_ROWS:
            continue
        xr, rr_ = rest[names].to_numpy(), (rest["y"] / rest["g"]).to_numpy()
        lo, hi = (_train(p, xr, rr_, rounds, None, names) for p in qp)
        scores.append(_scores(lo, hi, r[names].to_numpy(), (r["y"] / r["g"]).to_numpy()))
    if scores:
        e = np.concatenate(scores)
    else:  # one usable symbol only: fall back to a time split, as the per-symbol model
        n_fit = int(len(x) * (1 - CAL_FRAC))
        lo, hi = (_train(p, x[:n_fit], ratio[:n_fit], rounds, None, names) for p in qp)
        e = _scores(lo, hi, x[n_fit:], ratio[n_fit:])
    level = min(1.0, (QUANTILES[1] - QUANTILES[0]) * (1 + 1 / len(e)))
    lower, upper = (_train(p, x, ratio, rounds, None, names) for p in qp)
    ml = MLForecaster(horizon=horizon, rounds=rounds, point_=point, lower_=lower,
                      upper_=upper, adjust_=float(np.quantile(e, level)))
    info = {"rows": {s: len(r) for s, r in rows.items()}, "n_rows": int(n_all),
            "rounds": rounds, "calibration": "held-out symbols" if scores else "time split",
            "n_calibration": len(e), "raw_coverage": float(np.mean(e <= 0)),
            "log_adjust": ml.adjust_}
    return ml, info


# --- serving ------------------------------------------------------------------------------
def forecasts_pooled(frame: pd.DataFrame, models: dict[int, MLForecaster], horizons,
                     features=pooled_features) -> dict[int, dict[str, float]]:
    """Every model's horizon variance at the last bar of ``frame`` for a symbol without its
    own parameters: GARCH/GJR/HAR fitted on its last <= 2520 bars (one GARCH filtering pass
    for all horizons), EWMA, and the pooled ML model with its 80 % interval. Same keys as
    :func:`core.volatility.api.forecast_all`. Raises InsufficientDataError below 300 bars."""
    from core.market import EWMA_LAMBDA, ewma_variance
    from core.volatility.api import _FITS, _fit_garch, _tail
    from core.volatility.har import HARForecaster, har_features

    f = _tail(frame)
    fhash = hash_inputs(f)
    r = log_returns(f["close"]).iloc[1:]
    paths = {k: _fit_garch(f, k, fhash).forecast_paths(r, horizons) for k in ("garch", "gjr")}
    pk_all = har_features(f, "parkinson").to_numpy()  # shared by the HAR fits of every h
    tail = f.iloc[-FEATURE_TAIL:]
    feats = (har_features(tail, "parkinson"), har_features(tail, "rv"))
    ewma1 = ewma_variance(log_returns(tail["close"]), EWMA_LAMBDA)
    out = {}
    for h in horizons:
        # the same NNLS fit as HARForecaster(h).fit(f), without recomputing its inputs
        har = _FITS.get_or_create((fhash, "har", h), lambda h=h: HARForecaster(h).fit_arrays(
            pk_all, (forward_realized_var(f["close"], h) / h).to_numpy()))
        base = pd.DataFrame({k: paths[k][h].reindex(tail.index) for k in ("gjr", "garch")})
        base["ewma"] = ewma1 * h
        base["har"] = har.predict_arrays(feats[0].to_numpy())
        row = {k: float(base[k].iloc[-1]) for k in ("gjr", "garch", "ewma", "har")}
        x = features(tail, base, h, feats).iloc[[-1]]
        pred = models[h].predict(x, base["gjr"].iloc[[-1]]).iloc[-1]
        row.update({k: float(pred[k]) for k in ("ml", "ml-lo-80", "ml-hi-80")})
        out[h] = row
    return out


def to_files(models: dict[int, MLForecaster]) -> dict[str, bytes]:
    """LightGBM text files ``pooled-h<h>-{point,lo,hi}.txt`` and ``-cal.json``."""
    files = {}
    for h, m in models.items():
        files.update(m.to_files(f"{PREFIX}-h{h}"))
    return files


def from_files(files: dict[str, bytes], horizons) -> dict[int, MLForecaster] | None:
    """The pooled models of an artifact, or None when it has none for every horizon."""
    if not all(f"{PREFIX}-h{h}-point.txt" in files for h in horizons):
        return None
    return {h: MLForecaster.from_files(files, f"{PREFIX}-h{h}", h) for h in horizons}


# --- leave-symbols-out walk-forward evaluation --------------------------------------------
COMPARED = ("garch", "gjr", "ewma", "har", "ml_onthefly", "ml_pooled")


def heldout_origins(frame: pd.DataFrame, horizon: int, start: int = 1000, step: int = 21
                    ) -> list[int]:
    """Test origins (positions) of one symbol: every ``step`` bars from ``start`` whose
    target is complete."""
    return list(range(start, len(frame) - horizon, step))


def heldout_symbol(symbol: str, frames: dict[str, pd.DataFrame],
                   rows: dict[int, dict[str, pd.DataFrame]], horizons, start: int = 1000,
                   step: int = 21, refit: int = 252, onthefly: bool = True,
                   variants: dict | None = None, progress=None) -> dict[int, pd.DataFrame]:
    """Walk-forward forecasts of ``symbol`` with it held out of the pooled model.

    At each origin t (every ``step`` bars from ``start``) of the held-out symbol: the
    on-the-fly path (``api.forecast_all`` on its bars <= t: in-sample GARCH/GJR/HAR and an
    in-sample LightGBM) and the pooled path (the same GARCH/GJR/HAR fits, the pooled model).
    The pooled model is refitted every ``refit`` bars on the *other* symbols' rows whose
    target ended on or before the refit date. ``variants`` maps a column name to ``(rows,
    features)`` for alternative pooled inputs. Returns per horizon a frame indexed by origin
    date with ``y`` and every model's forecast (+ ``<ml>-lo``/``-hi``)."""
    from core.volatility.api import forecast_all

    frame = frames[symbol]
    variants = variants or {"ml_pooled": (rows, pooled_features)}
    idx = frame.index
    origins = heldout_origins(frame, min(horizons), start, step)
    recs = {h: [] for h in horizons}
    models: dict = {}
    t_start = time.perf_counter()
    for i, t in enumerate(origins):
        if (t - start) % refit < step:  # refit the pooled models at this origin
            cut_date = idx[t]
            for name, (vrows, _) in variants.items():
                for h in horizons:
                    train = {}
                    for s, r in vrows[h].items():
                        if s == symbol:
                            continue
                        fi = frames[s].index
                        # target of row p ends at bar p + h: keep rows with fi[p + h] <= cut
                        pos = fi.get_indexer(r.index)
                        end = np.minimum(pos + h, len(fi) - 1)
                        train[s] = r[(fi[end] <= cut_date) & (pos + h < len(fi))]
                    try:
                        models[(name, h)] = fit_pooled(train, h)[0]
                    except InsufficientDataError:
                        models[(name, h)] = None
        sub = frame.iloc[:t + 1]
        fly = {h: forecast_all(sub, h) for h in horizons} if onthefly else None
        pooled = {}
        for name, (_, feats) in variants.items():
            ms = {h: models[(name, h)] for h in horizons}
            if all(m is not None for m in ms.values()):
                pooled[name] = forecasts_pooled(sub, ms, horizons, feats)
        for h in horizons:
            if t + h >= len(frame):
                continue
            y = float((log_returns(frame["close"].iloc[t:t + h + 1]).iloc[1:] ** 2).sum())
            rec = {"date": idx[t], "y": y}
            src = fly[h] if fly else next(iter(pooled.values()))[h] if pooled else None
            if src is None:
                continue
            rec.update({k: src[k] for k in ("garch", "gjr", "ewma", "har")})
            if fly:
                rec.update({"ml_onthefly": fly[h]["ml"], "ml_onthefly-lo": fly[h]["ml-lo-80"],
                            "ml_onthefly-hi": fly[h]["ml-hi-80"]})
            for name, fc in pooled.items():
                rec.update({name: fc[h]["ml"], f"{name}-lo": fc[h]["ml-lo-80"],
                            f"{name}-hi": fc[h]["ml-hi-80"]})
            recs[h].append(rec)
        if progress and i % 20 == 0:
            progress(f"{symbol}: origin {i + 1}/{len(origins)} "
                     f"({time.perf_counter() - t_start:.0f} s)")
    return {h: pd.DataFrame(v).set_index("date") for h, v in recs.items()}


def score_heldout(fc: pd.DataFrame, horizon: int, models=COMPARED) -> dict:
    """Origins are ``step`` >= ``horizon`` bars apart, so the targets do not overlap and the
    DM tests use one HAC lag.

    QLIKE of every model (and its ratio to GARCH(1,1)), DM tests of the pooled model
    against the on-the-fly ML and against EWMA, and 80 % coverage of both ML intervals, on
    the origins where every model has a positive forecast and ``y > 0``."""
    from core.volatility.evaluate import dm_test, qlike

    models = [m for m in models if m in fc]
    d = fc[(fc["y"] > 0) & (fc[models] > 0).all(axis=1)]
    y = d["y"].to_numpy()
    losses = {m: qlike(y, d[m].to_numpy()) for m in models}
    base = float(np.mean(losses["garch"]))
    out = {"n_test": len(d), "test_start": str(d.index[0].date()),
           "test_end": str(d.index[-1].date()), "models": {}}
    for m in models:
        out["models"][m] = {"qlike": float(np.mean(losses[m])),
                            "qlike_ratio": float(np.mean(losses[m]) / base)}
    for m in models:
        if f"{m}-lo" in d:
            inside = (d["y"] >= d[f"{m}-lo"]) & (d["y"] <= d[f"{m}-hi"])
            out["models"][m]["coverage80"] = float(inside.mean())
            out["models"][m]["mean_width_ratio"] = float(
                ((d[f"{m}-hi"] - d[f"{m}-lo"]) / d[m]).mean())
    for a, b in (("ml_pooled", "ml_onthefly"), ("ml_pooled", "ewma"), ("ml_pooled", "garch"),
                 ("ml_onthefly", "ewma")):
        if a in losses and b in losses:
            stat, p = dm_test(losses[a], losses[b], 1)
            out[f"dm_{a}_vs_{b}"] = {"stat": stat, "pvalue": p}
    return out


# --- building the pooled section of an artifact -------------------------------------------
#: QLIKE/coverage rule (declared before the held-out run): the pooled model serves unless it
#: is worse than the on-the-fly model beyond noise at some horizon: a DM test on the pooled
#: losses of all held-out symbols with p < 0.05 against it, or |coverage - 0.80| larger than
#: the on-the-fly model's by more than two binomial standard errors.
DM_LEVEL = 0.05


def summarise(heldout: dict[str, dict], horizons) -> dict:
    """Across held-out symbols, per horizon: mean QLIKE ratio to GARCH(1,1) of each model,
    pooled QLIKE ratio to the on-the-fly ML and to EWMA, coverage of both intervals, a DM test
    of pooled vs on-the-fly on all held-out losses, and the decision."""
    out = {}
    for h in horizons:
        cells = [heldout[s][str(h)] for s in heldout if str(h) in heldout[s]]
        models = cells[0]["models"].keys()
        n = sum(c["n_test"] for c in cells)
        row = {"n_test": n, "symbols": len(cells),
               "qlike_ratio_vs_garch": {m: float(np.mean([c["models"][m]["qlike_ratio"]
                                                          for c in cells])) for m in models}}
        for m in ("ml_onthefly", "ml_pooled"):
            if all("coverage80" in c["models"].get(m, {}) for c in cells):
                row[f"coverage80_{m}"] = float(
                    sum(c["models"][m]["coverage80"] * c["n_test"] for c in cells) / n)
        out[str(h)] = row
    return out


def decide(pooled_losses: dict[int, np.ndarray], fly_losses: dict[int, np.ndarray],
           summary: dict) -> tuple[bool, list[str]]:
    """Apply the rule above. Returns (serve the pooled model, reasons)."""
    from core.volatility.evaluate import dm_test

    serve, reasons = True, []
    for h, lp in pooled_losses.items():
        s = summary[str(h)]
        stat, p = dm_test(lp, fly_losses[h], 1)
        s["dm_pooled_vs_onthefly_all"] = {"stat": stat, "pvalue": p}
        s["qlike_ratio_pooled_vs_onthefly_all"] = float(np.nanmean(lp) / np.nanmean(fly_losses[h]))
        if stat > 0 and p < DM_LEVEL:
            serve = False
            reasons.append(f"h={h}: QLIKE worse than on the fly (DM p = {p:.3f})")
        se = 2 * np.sqrt(0.16 / s["n_test"])
        cp, cf = s.get("coverage80_ml_pooled"), s.get("coverage80_ml_onthefly")
        if cp is not None and cf is not None and abs(cp - 0.8) > abs(cf - 0.8) + se:
            serve = False
            reasons.append(f"h={h}: coverage {cp:.3f} vs on the fly {cf:.3f} (2 SE {se:.3f})")
    return serve, reasons


def build(frames: dict[str, pd.DataFrame], bases: dict[str, dict[int, pd.DataFrame]],
          horizons, heldout: dict[str, dict[int, pd.DataFrame]] | None = None,
          progress=None, step: int = 21, refit: int = 504) -> tuple[dict[str, bytes], dict]:
    """The pooled models (trained on every symbol in ``frames``) as artifact files and the
    ``metadata["pooled"]`` section: training summary, the leave-symbols-out walk-forward
    evaluation against the on-the-fly path and EWMA (computed here unless ``heldout`` gives
    :func:`heldout_symbol` results), the decision and the model served per horizon."""
    from core.volatility.evaluate import qlike

    rows = {h: {s: training_rows(frames[s], bases[s][h], h) for s in frames} for h in horizons}
    models, info = {}, {}
    for h in horizons:
        models[h], info[str(h)] = fit_pooled(rows[h], h)
    if heldout is None:
        heldout = {}
        for s in frames:
            if progress:
                progress(f"pooled volatility model: leave-{s}-out walk-forward")
            heldout[s] = heldout_symbol(s, frames, rows, horizons, step=step, refit=refit)
    scores = {s: {str(h): score_heldout(fc[h], h) for h in horizons if len(fc[h])}
              for s, fc in heldout.items()}
    summary = summarise(scores, horizons)
    lp, lf = {}, {}
    for h in horizons:
        d = pd.concat([fc[h] for fc in heldout.values()])
        d = d[(d["y"] > 0) & (d[list(COMPARED)] > 0).all(axis=1)]
        lp[h], lf[h] = qlike(d["y"], d["ml_pooled"]), qlike(d["y"], d["ml_onthefly"])
    serve, reasons = decide(lp, lf, summary)
    best = {}
    for h in horizons:
        ratios = dict(summary[str(h)]["qlike_ratio_vs_garch"])
        ratios.pop("ml_onthefly", None)  # not what a symbol gets when the pooled model serves
        ratios["ml"] = ratios.pop("ml_pooled")
        best[str(h)] = min(ratios, key=ratios.get)
    train_end = max(frames[s].index[-1] for s in frames)
    meta = {
        "serve": bool(serve), "reasons": reasons, "symbols": list(frames),
        "train_end": str(train_end), "features": POOL_FEATURES, "best": best,
        "training": info, "heldout": scores, "summary": summary,
        "protocol": (
            f"leave-one-symbol-out walk-forward over the bundled symbols: origins every {step} "
            f"bars from bar 1000 of the held-out symbol; the pooled model refitted every "
            f"{refit} bars on the other symbols' rows whose target ended by the refit date "
            "(their out-of-sample rolling base forecasts); at each origin GARCH/GJR/HAR fitted "
            "on the held-out symbol's bars <= origin (last <= 2520), shared by the pooled and "
            "the on-the-fly path (api.forecast_all: in-sample LightGBM on the symbol); target: "
            "sum of squared log returns over the horizon; QLIKE and 80 % coverage"),
        "rule": ("serve unless worse than on the fly beyond noise: DM p < 0.05 against the "
                 "pooled model on all held-out losses, or |coverage - 0.8| larger than the on-"
                 "the-fly model's by more than 2 binomial SE, at any horizon"),
    }
    return to_files(models), meta
