"""Per-horizon forecaster: XGBoost + LightGBM + RandomForest, a validated shrinkage toward the
random walk, and normalised split-conformal intervals.

Method (one symbol, one ``horizon``):

1. Members are small, strongly regularised tree ensembles fitted to the forward log return
   (``core.targets.forward_log_return``) on the feature rows of the training window.
2. **Inner validation** (walk-forward inside the training window only): the last
   ``inner_frac`` of the window is cut into ``inner_folds`` blocks; for each block the members
   are refit on the rows before it (minus an embargo of ``horizon`` bars) and predict it.
   These out-of-sample member predictions give
   - the ensemble weights (fixed 0.4/0.4/0.2 by default, or inverse validation MSE);
   - the **shrinkage** factor ``shrink_`` (:func:`validated_shrink`): the positive-part
     James-Stein factor of the through-origin slope of the target on the raw ensemble ``e``,
     shipped only when that rule, estimated on the first validation block, also lowered the
     error of the second block (at horizon 1 only); otherwise a floor of 1e-4. The shipped
     forecast is ``shrink_ * e``: without validated skill it is the zero-return random walk
     plus a vanishing tie-breaker that keeps the raw ensemble's ranking ("do no harm");
   - the conformal scores ``|y - shrink_*e| / sigma`` with ``sigma`` the EWMA volatility
     (RiskMetrics, lambda 0.94) of daily log returns up to the origin bar, times
     ``sqrt(horizon)``. Interval = forecast ± q_level * sigma (normalised split conformal:
     Lei et al. 2018, "Distribution-free predictive inference for regression", JASA, §5.2;
     finite-sample quantile ``ceil((n+1) level) / n``).
3. The members are refit on the whole training window for serving.

``predict`` never looks at anything but the given feature rows and ``sigma``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, NotTrainedError

MEMBERS = ("xgboost", "lightgbm", "random_forest")
DEFAULT_WEIGHTS = (0.4, 0.4, 0.2)
LEVELS = (80, 95)

XGB_PARAMS = dict(n_estimators=100, max_depth=2, learning_rate=0.03, subsample=0.7,
                  colsample_bytree=0.5, min_child_weight=20.0, reg_lambda=5.0,
                  tree_method="hist", n_jobs=1, random_state=0, verbosity=0)
LGB_PARAMS = dict(n_estimators=100, num_leaves=4, max_depth=2, learning_rate=0.03,
                  subsample=0.7, subsample_freq=1, colsample_bytree=0.5, min_child_samples=50,
                  reg_lambda=5.0, n_jobs=1, random_state=0, verbose=-1)
RF_PARAMS = dict(n_estimators=40, max_depth=4, min_samples_leaf=50, max_features=0.2,
                 max_samples=0.5, n_jobs=1, random_state=0)


def _fit_members(X: np.ndarray, y: np.ndarray, params: dict) -> list:
    import lightgbm as lgb  # deferred: lightgbm is slow to import
    import xgboost as xgb  # deferred: xgboost is slow to import
    from sklearn.ensemble import RandomForestRegressor  # deferred: scikit-learn is slow to import

    xm = xgb.XGBRegressor(**params["xgboost"]).fit(X, y)
    lm = lgb.LGBMRegressor(**params["lightgbm"]).fit(X, y)
    rf = RandomForestRegressor(**params["random_forest"]).fit(X, y)
    # serve from the native boosters so a saved/loaded model predicts bit-identically
    return [xm.get_booster(), lm.booster_, rf]


class _StackedTrees:
    """The trees of a fitted RandomForestRegressor as padded arrays, for a vectorised
    traversal that skips scikit-learn's per-tree joblib overhead (~0.3 ms/tree per call).
    Same rule as scikit-learn: X cast to float32, go left when ``x <= threshold``; a NaN
    follows the node's ``missing_go_to_left``. Derived from the model at load time; never persisted."""

    def __init__(self, rf):
        trees = [e.tree_ for e in rf.estimators_]
        m = max(t.node_count for t in trees)
        T = len(trees)
        self.left = np.zeros((T, m), np.int64)
        self.right = np.zeros((T, m), np.int64)
        self.feat = np.zeros((T, m), np.int64)
        self.thr = np.zeros((T, m), np.float64)
        self.val = np.zeros((T, m), np.float64)
        self.leaf = np.ones((T, m), bool)
        self.nan_left = np.zeros((T, m), bool)
        for i, t in enumerate(trees):
            k = t.node_count
            self.left[i, :k], self.right[i, :k] = t.children_left, t.children_right
            self.feat[i, :k] = np.maximum(t.feature, 0)
            self.thr[i, :k] = t.threshold
            self.val[i, :k] = t.value[:, 0, 0]
            self.leaf[i, :k] = t.children_left < 0
            self.nan_left[i, :k] = np.asarray(t.missing_go_to_left, bool)
        self.depth = max(e.get_depth() for e in rf.estimators_)
        self.rows = np.arange(T)[None, :]

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32).astype(np.float64)
        n, T = X.shape[0], self.left.shape[0]
        node = np.zeros((n, T), np.int64)
        r = np.arange(n)[:, None]
        for _ in range(self.depth):
            leaf = self.leaf[self.rows, node]
            x = X[r, self.feat[self.rows, node]]
            go_left = (x <= self.thr[self.rows, node]) | (
                np.isnan(x) & self.nan_left[self.rows, node])
            nxt = np.where(go_left, self.left[self.rows, node], self.right[self.rows, node])
            node = np.where(leaf, node, nxt)
        return self.val[self.rows, node].mean(axis=1)


def rf_predict(rf, X: np.ndarray) -> np.ndarray:
    """Fast RandomForestRegressor prediction through a cached :class:`_StackedTrees`."""
    st = getattr(rf, "_qd_stacked", None)
    if st is None:
        st = _StackedTrees(rf)
        rf._qd_stacked = st
    return st.predict(X)


def _predict_members(members: list, X: np.ndarray) -> np.ndarray:
    xb, lb, rf = members
    out = np.empty((X.shape[0], 3), dtype="float64")
    out[:, 0] = xb.inplace_predict(np.ascontiguousarray(X))
    out[:, 1] = lb.predict(X, num_threads=1)
    out[:, 2] = rf_predict(rf, X)
    return out


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ``ceil((n+1)*level)``-th smallest score (inf when the
    sample is too small for the level). ``level`` is a fraction, e.g. 0.8."""
    s = np.sort(np.asarray(scores, float)[np.isfinite(scores)])
    n = len(s)
    k = math.ceil((n + 1) * level)
    return float(s[k - 1]) if 0 < k <= n else float("inf")


def js_factor(y: np.ndarray, e: np.ndarray, horizon: int, t_min: float = 2.0) -> float:
    """Positive-part James-Stein factor (>= 0, unclipped) of the through-origin slope of ``y``
    on ``e``: ``b = sum(y e) / sum(e e)``, ``se = sqrt(mean((y - b e)^2) * horizon / sum(e e))``
    (``horizon`` inflates the variance for overlapping targets),
    ``s = b * max(0, 1 - (t_min * se / b)^2)``, and 0 when ``b <= 0`` (Stein 1956; Copas 1983,
    "Regression, prediction and shrinkage", JRSS B). A slope less than ``t_min`` standard
    errors from zero gives 0."""
    y, e = np.asarray(y, float), np.asarray(e, float)
    den = float(e @ e)
    if not den > 0:
        return 0.0
    b = float(y @ e) / den
    if b <= 0:
        return 0.0
    se2 = float(np.mean((y - b * e) ** 2)) * horizon / den
    return float(b * max(0.0, 1.0 - t_min * t_min * se2 / (b * b)))


SHRINK_FLOOR = 1e-4


def validated_shrink(y: np.ndarray, e: np.ndarray, horizon: int, floor: float = SHRINK_FLOOR,
                     cap: float = 0.5, t_min: float = 2.0, max_horizon: int | None = 1) -> float:
    """Shrink factor in ``[floor, cap]`` for the forecast ``s * e`` of targets ``y``, from
    time-ordered inner-validation pairs (``y`` realised log returns, ``e`` out-of-sample raw
    ensemble forecasts, both (m,) float64).

    Three conditions must hold for more than the floor (otherwise ``floor`` is returned):

    1. ``horizon <= max_horizon`` (None: no limit). Default 1: at 5 and 20 bars the nested
       validation below never showed a gain on the bundled history (docs/forecast.md).
    2. **Nested forward check**: the :func:`js_factor` estimated on the first half of the
       validation pairs must lower the squared error of the second half below the zero
       forecast's (the shrinkage rule itself is validated out of sample, not only the slope).
    3. The :func:`js_factor` on all pairs (``t_min`` standard errors) is positive.

    Then ``s = clip(js_factor, floor, cap)``. ``cap = 0.5`` bounds the damage when the
    validated relation breaks down out of sample (excess MSE of ``s e`` over the random walk
    <= ``s^2 E[e^2]`` when the members have no skill). The ``floor`` (1e-4) keeps the raw
    ensemble's ranking, hence its IC and direction, at an RMSE-ratio cost below
    ``floor * rms(e) / rms(y)`` (Cauchy-Schwarz), i.e. < 1e-4 and ~1e-5 in practice.
    """
    y, e = np.asarray(y, float), np.asarray(e, float)
    if max_horizon is not None and horizon > max_horizon:
        return float(floor)
    m = len(y) // 2
    if m < 20:
        return float(floor)
    s1 = js_factor(y[:m], e[:m], horizon, t_min)
    if not (s1 > 0 and np.mean((y[m:] - s1 * e[m:]) ** 2) < np.mean(y[m:] ** 2)):
        return float(floor)
    s = js_factor(y, e, horizon, t_min)
    return float(np.clip(s, floor, max(cap, floor)))


@dataclass
class HorizonForecaster:
    """Ensemble forecaster of the forward log return over ``horizon`` bars.

    Parameters (scikit-learn style: ``__init__`` stores them only):
        horizon: bars ahead (>= 1).
        weights: member weights (xgboost, lightgbm, random_forest), default 0.4/0.4/0.2.
        weighting: ``fixed`` (use ``weights``) or ``inverse_error`` (1/validation MSE).
        inner_folds: validation blocks inside the training window (>= 1).
        inner_frac: share of the training window those blocks cover.
        shrink: fit the validated shrinkage (True) or ship the raw ensemble (False).
        shrink_floor: smallest shrink factor (keeps the ranking, hence the IC, when the
            validation finds no skill; 1e-4 costs < 1e-4 of the RMSE ratio).
        shrink_max_horizon: largest horizon allowed more than the floor (None: any).
        params: per-member keyword arguments (defaults: small, regularised models).

    Learned attributes: ``members_`` (native models), ``weights_`` (3,), ``shrink_`` in [0, 1],
    ``q_`` {80: q, 95: q} normalised conformal quantiles, ``val_`` validation summary dict,
    ``n_train_`` rows used; ``val_rows_``/``val_forecast_``/``val_y_`` (see :meth:`fit`).
    """

    horizon: int
    weights: tuple = DEFAULT_WEIGHTS
    weighting: str = "fixed"
    inner_folds: int = 2
    inner_frac: float = 0.4
    shrink: bool = True
    shrink_floor: float = SHRINK_FLOOR
    shrink_max_horizon: int | None = 1
    params: dict = field(default_factory=lambda: {"xgboost": dict(XGB_PARAMS),
                                                  "lightgbm": dict(LGB_PARAMS),
                                                  "random_forest": dict(RF_PARAMS)})

    def fit(self, X, y, sigma, *, origin=None, target_end=None) -> "HorizonForecaster":
        """Fit on feature rows ``X`` (n, p) float64, targets ``y`` (n,) [log return over
        ``horizon`` bars] and ``sigma`` (n,) [per-horizon volatility, log-return units]
        known at each row's bar. Rows with a NaN target/sigma are dropped.

        Rows of several symbols stacked in time order (the pooled model) pass ``origin`` (n,)
        (each row's bar time, non-decreasing, any orderable dtype such as int64 ns) and
        ``target_end`` (n,) (the time of the bar its target is realised at). The inner
        validation then purges by time instead of by ``horizon`` rows: a block starting at
        row ``a`` is predicted by members fitted on the rows with ``target_end <
        origin[a]`` (purged split, López de Prado 2018, "Advances in Financial Machine
        Learning", ch. 7), so no training label overlaps the block in any symbol.

        Learned besides the class attributes: ``val_rows_`` (m,) positions in the given
        ``X`` of the inner-validation rows, ``val_forecast_`` (m,) their out-of-sample
        shipped forecasts ``shrink_ * e`` and ``val_y_`` (m,) their targets (in memory only,
        never saved).

        Raises:
            InsufficientDataError: fewer than 200 usable rows.
            ValueError: bad ``weighting``, or only one of ``origin``/``target_end`` given,
                or ``origin`` not non-decreasing.
        """
        if self.weighting not in ("fixed", "inverse_error"):
            raise ValueError("weighting must be 'fixed' or 'inverse_error'")
        if (origin is None) != (target_end is None):
            raise ValueError("give both origin and target_end, or neither")
        X = np.asarray(X, dtype="float64")
        y = np.asarray(y, dtype="float64")
        sigma = np.asarray(sigma, dtype="float64")
        ok = np.isfinite(y) & np.isfinite(sigma) & (sigma > 0)
        rows = np.flatnonzero(ok)
        X, y, sigma = X[ok], y[ok], sigma[ok]
        if origin is not None:
            origin, target_end = np.asarray(origin)[ok], np.asarray(target_end)[ok]
            if len(origin) > 1 and np.any(origin[1:] < origin[:-1]):
                raise ValueError("origin must be non-decreasing (rows stacked in time order)")
        n = len(y)
        if n < 200:
            raise InsufficientDataError(
                f"Only {n} usable training rows for horizon {self.horizon}; the forecaster "
                "needs at least 200 (load a longer history).")
        h = self.horizon
        P, Y, S, V = self._inner_validation(X, y, sigma, origin, target_end)
        mse = np.mean((P - Y[:, None]) ** 2, axis=0)
        if self.weighting == "inverse_error":
            w = 1.0 / np.maximum(mse, 1e-18)
        else:
            w = np.asarray(self.weights, float)
        w = w / w.sum()
        e = P @ w
        s = (validated_shrink(Y, e, h, floor=self.shrink_floor,
                              max_horizon=self.shrink_max_horizon) if self.shrink else 1.0)
        scores = np.abs(Y - s * e) / S
        self.val_rows_ = rows[V]
        self.val_forecast_ = s * e
        self.val_y_ = Y
        self.weights_ = w
        self.shrink_ = s
        self.q_ = {lv: conformal_quantile(scores, lv / 100) for lv in LEVELS}
        naive_mse = float(np.mean(Y ** 2))
        self.val_ = {
            "n": int(len(Y)),
            "member_rmse_ratio": {k: float(math.sqrt(v / naive_mse)) for k, v in
                                  zip(MEMBERS, mse)},
            "ensemble_rmse_ratio": float(math.sqrt(np.mean((Y - s * e) ** 2) / naive_mse)),
            "raw_ensemble_rmse_ratio": float(math.sqrt(np.mean((Y - e) ** 2) / naive_mse)),
        }
        self.members_ = _fit_members(X, y, self.params)
        self.n_train_ = int(n)
        return self

    def _inner_validation(self, X: np.ndarray, y: np.ndarray, sigma: np.ndarray,
                          origin=None, target_end=None):
        """Out-of-sample member predictions on the last ``inner_frac`` of the (clean) training
        rows, cut into ``inner_folds`` blocks, each predicted by members refit on the rows
        before it minus an embargo of ``horizon`` bars (or, with ``origin``/``target_end``,
        on the rows whose target is realised before the block's first origin). Returns
        (P (m, 3), Y (m,), S (m,), V (m,) positions of the validation rows)."""
        n, h = len(y), self.horizon
        val_start = int(n * (1 - self.inner_frac))
        edges = np.linspace(val_start, n, self.inner_folds + 1).astype(int)
        P, Y, S, V = [], [], [], []
        for a, b in zip(edges[:-1], edges[1:]):
            if b <= a:
                continue
            if origin is None:
                train = slice(0, a - h)
                n_tr = a - h
            else:
                train = np.flatnonzero(target_end[:a] < origin[a])
                n_tr = len(train)
            if n_tr < 100:
                continue
            m = _fit_members(X[train], y[train], self.params)
            P.append(_predict_members(m, X[a:b]))
            Y.append(y[a:b])
            S.append(sigma[a:b])
            V.append(np.arange(a, b))
        if not P:
            raise InsufficientDataError("Training window too short for inner validation.")
        return np.vstack(P), np.concatenate(Y), np.concatenate(S), np.concatenate(V)

    def _check(self) -> None:
        if not hasattr(self, "members_"):
            raise NotTrainedError("HorizonForecaster is not fitted; call fit() first.")

    def predict_members(self, X) -> np.ndarray:
        """Raw member predictions, shape (n, 3) float64, columns in ``MEMBERS`` order."""
        self._check()
        return _predict_members(self.members_, np.asarray(X, dtype="float64"))

    def predict(self, X, sigma) -> pd.DataFrame:
        """Forecast frame (n rows, float64 log returns over ``horizon`` bars) with columns
        ``xgboost lightgbm random_forest ensemble_raw ensemble`` and statsforecast-style
        interval bounds ``ensemble-lo-80 ensemble-hi-80 ensemble-lo-95 ensemble-hi-95``.
        ``sigma`` (n,) is the per-horizon volatility at each row (same unit as in fit).

        Raises:
            NotTrainedError: before ``fit``.
        """
        P = self.predict_members(X)
        sigma = np.asarray(sigma, dtype="float64").reshape(-1)
        raw = P @ self.weights_
        ens = self.shrink_ * raw
        out = pd.DataFrame(P, columns=list(MEMBERS))
        out["ensemble_raw"] = raw
        out["ensemble"] = ens
        for lv in LEVELS:
            out[f"ensemble-lo-{lv}"] = ens - self.q_[lv] * sigma
            out[f"ensemble-hi-{lv}"] = ens + self.q_[lv] * sigma
        return out
