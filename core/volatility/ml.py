"""ML volatility forecaster: gradient-boosted correction of GJR-GARCH on GARCH/HAR features,
with an 80 % interval from quantile regression (LightGBM, Ke et al. 2017, NeurIPS).

* Point forecast: ``f = g * exp(s(x))`` where ``g`` is the GJR-GARCH-t horizon variance and
  ``s`` is a LightGBM ensemble trained *directly on QLIKE* (Patton 2011): with
  ``f = exp(score)`` the loss ``y/f + log f`` has gradient ``1 - y/f`` and expected Hessian 1
  (Fisher scoring); boosting starts from ``init_score = log g``, so zero trees = GJR.
* Interval: LightGBM ``objective="quantile"`` at alpha 0.10 and 0.90 on ``y / g`` (the target
  relative to GJR), so ``[g * q10, g * q90]`` is an 80 % interval for the realised variance
  over the horizon (sum of squared log returns) — wide at h = 1, where ``y`` is one squared
  return. The quantile models are fitted on the first 80 % of the training rows and the
  interval is widened (or narrowed) by conformalized quantile regression on the last 20 %
  (Romano, Patterson & Candès 2019, NeurIPS), in log-ratio units (``adjust_``).

Features (all known at the close of t, scale-free): log of GJR per-bar level, log ratios of
GARCH(1,1)/EWMA/HAR forecasts to GJR, of Parkinson and squared-return daily/weekly/monthly
averages to GJR's per-bar level, and the standardised last return and 5-bar return (leverage).
Persistence: LightGBM text models (``model_to_string``) + JSON, never pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, NotTrainedError
from core.volatility.har import har_features

EPS = 1e-12
FEATURES = ["log_g", "garch_g", "ewma_g", "har_g", "pk_d", "pk_w", "pk_m", "rv_w", "rv_m",
            "z1", "z5"]
BOOST = {"num_leaves": 7, "learning_rate": 0.03, "min_data_in_leaf": 100,
         "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
         "lambda_l2": 10.0, "verbose": -1, "num_threads": 1, "seed": 7,
         "deterministic": True, "force_row_wise": True}
ROUNDS = 120


def default_rounds(horizon: int) -> int:
    """Boosting rounds: 120 up to h = 5, 40 beyond — overlapping h-bar targets hold about
    n / h independent observations, so long horizons get fewer trees (chosen after a ^GSPC
    h = 21 run where 120 rounds overfit: QLIKE ratio 1.041 vs 0.983 with 40)."""
    return ROUNDS if horizon <= 5 else 40
QUANTILES = (0.1, 0.9)
MIN_ROWS = 300
CAL_FRAC = 0.2


def ml_features(frame: pd.DataFrame, base: pd.DataFrame, horizon: int,
                har: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Feature frame aligned with ``frame``.

    Args:
        frame: OHLCV bars. base: columns ``gjr garch ewma har`` = each model's horizon
            variance forecast made at t (fraction², NaN where unavailable), index of frame.
        horizon: bars. har: precomputed ``(har_features(frame, "parkinson"),
            har_features(frame, "rv"))`` to share across horizons.
    Returns: float64 DataFrame with columns :data:`FEATURES` (NaN rows where inputs are).
    """
    pk, rv = har if har is not None else (har_features(frame, "parkinson"),
                                           har_features(frame, "rv"))
    b = base.reindex(frame.index)
    g = b["gjr"].to_numpy(dtype="float64")
    gbar = g / horizon
    close = frame["close"].to_numpy(dtype="float64")
    r = np.full(len(close), np.nan)
    r[1:] = np.diff(np.log(close))
    r5 = pd.Series(r).rolling(5, min_periods=5).sum().to_numpy()
    pkv, rvv = pk.to_numpy(dtype="float64"), rv.to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        cols = {
            "log_g": np.log(gbar),
            **{f"{m}_g": np.log(np.maximum(b[m].to_numpy(dtype="float64"), EPS) / g)
               for m in ("garch", "ewma", "har")},
            "pk_d": np.log(np.maximum(pkv[:, 0], EPS) / gbar),
            "pk_w": np.log(np.maximum(pkv[:, 1], EPS) / gbar),
            "pk_m": np.log(np.maximum(pkv[:, 2], EPS) / gbar),
            "rv_w": np.log(np.maximum(rvv[:, 1], EPS) / gbar),
            "rv_m": np.log(np.maximum(rvv[:, 2], EPS) / gbar),
            "z1": r / np.sqrt(gbar),
            "z5": r5 / np.sqrt(5 * gbar),
        }
    out = pd.DataFrame(cols, index=frame.index)[FEATURES]
    # NaN inputs must stay NaN (np.maximum would turn them into EPS)
    nan_rows = (np.isnan(pkv).any(axis=1) | np.isnan(rvv[:, 1:]).any(axis=1)
                | b[["garch", "ewma", "har"]].isna().any(axis=1).to_numpy())
    out.iloc[nan_rows] = np.nan
    return out.astype("float64")


def _qlike_objective(preds: np.ndarray, data) -> tuple[np.ndarray, np.ndarray]:
    y = data.get_label()
    grad = 1.0 - y * np.exp(-preds)
    return grad, np.ones_like(preds)


@dataclass
class MLForecaster:
    """Boosted QLIKE correction of GJR with quantile interval, for one horizon.

    Learned: ``point_``, ``lower_``, ``upper_`` (LightGBM Boosters).
    """

    horizon: int = 1
    rounds: int | None = None
    point_: object = field(default=None, repr=False)
    lower_: object = field(default=None, repr=False)
    upper_: object = field(default=None, repr=False)
    adjust_: float = 0.0

    def fit(self, x: pd.DataFrame, y: pd.Series, g: pd.Series) -> "MLForecaster":
        """Train on rows where features, target ``y`` (realised horizon variance) and GJR
        forecast ``g`` are all finite. Raises InsufficientDataError below 300 rows."""
        import lightgbm as lgb  # deferred: lightgbm is slow to import

        ok = x.notna().all(axis=1) & np.isfinite(y) & np.isfinite(g) & (g > 0)
        if ok.sum() < MIN_ROWS:
            raise InsufficientDataError(
                f"The ML volatility model needs {MIN_ROWS} training rows; got {int(ok.sum())}.")
        xv, yv, gv = x[ok].to_numpy(), y[ok].to_numpy(), g[ok].to_numpy()
        ds = lgb.Dataset(xv, label=yv, init_score=np.log(gv), feature_name=FEATURES,
                         free_raw_data=False)
        rounds = self.rounds or default_rounds(self.horizon)
        self.point_ = lgb.train({**BOOST, "objective": _qlike_objective}, ds,
                                num_boost_round=rounds)
        ratio = yv / gv
        n_fit = int(len(ratio) * (1 - CAL_FRAC))  # time-ordered split: last 20 % calibrates
        boosters = []
        for a in QUANTILES:
            dq = lgb.Dataset(xv[:n_fit], label=ratio[:n_fit], feature_name=FEATURES)
            boosters.append(lgb.train({**BOOST, "objective": "quantile", "alpha": a}, dq,
                                      num_boost_round=rounds))
        self.lower_, self.upper_ = boosters
        # conformalized quantile regression (Romano, Patterson & Candes 2019) on log ratios
        lo = np.maximum(self.lower_.predict(xv[n_fit:]), EPS)
        hi = np.maximum(self.upper_.predict(xv[n_fit:]), lo)
        yr = np.maximum(ratio[n_fit:], EPS)
        e = np.maximum(np.log(lo / yr), np.log(yr / hi))
        level = min(1.0, (QUANTILES[1] - QUANTILES[0]) * (1 + 1 / len(e)))
        self.adjust_ = float(np.quantile(e, level))
        return self

    def predict(self, x: pd.DataFrame, g: pd.Series) -> pd.DataFrame:
        """Columns ``ml``, ``ml-lo-80``, ``ml-hi-80`` (horizon variance, fraction²); NaN where
        features are missing. Raises NotTrainedError before fit."""
        if self.point_ is None:
            raise NotTrainedError("ML volatility model is not trained; call fit() or train "
                                  "the volatility family.")
        out = pd.DataFrame(np.nan, index=x.index, columns=["ml", "ml-lo-80", "ml-hi-80"])
        ok = (x.notna().all(axis=1) & np.isfinite(g) & (g > 0)).to_numpy()
        if ok.any():
            xv, gv = x.to_numpy()[ok], g.to_numpy()[ok]
            out.loc[ok, "ml"] = gv * np.exp(self.point_.predict(xv))
            lo = np.maximum(self.lower_.predict(xv), EPS)
            hi = np.maximum(self.upper_.predict(xv), lo)
            out.loc[ok, "ml-lo-80"] = gv * lo * np.exp(-self.adjust_)
            out.loc[ok, "ml-hi-80"] = gv * hi * np.exp(self.adjust_)
        return out

    def to_files(self, prefix: str) -> dict[str, bytes]:
        """LightGBM text files ``<prefix>-point.txt`` / ``-lo.txt`` / ``-hi.txt`` and the
        conformal adjustment ``<prefix>-cal.json``."""
        if self.point_ is None:
            raise NotTrainedError("ML volatility model is not trained.")
        return {f"{prefix}-cal.json": json.dumps({"log_adjust": self.adjust_}).encode(),
                f"{prefix}-point.txt": self.point_.model_to_string().encode(),
                f"{prefix}-lo.txt": self.lower_.model_to_string().encode(),
                f"{prefix}-hi.txt": self.upper_.model_to_string().encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes], prefix: str, horizon: int) -> "MLForecaster":
        import lightgbm as lgb  # deferred: lightgbm is slow to import

        def load(name):
            return lgb.Booster(model_str=files[f"{prefix}-{name}.txt"].decode())

        cal = json.loads(files[f"{prefix}-cal.json"]) if f"{prefix}-cal.json" in files else {}
        return cls(horizon=horizon, point_=load("point"), lower_=load("lo"), upper_=load("hi"),
                   adjust_=float(cal.get("log_adjust", 0.0)))
