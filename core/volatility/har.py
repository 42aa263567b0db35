"""HAR-RV forecaster: Corsi, F. (2009) "A simple approximate long-memory model of realized
volatility", *Journal of Financial Econometrics* 7(2), 174-196.

``y[t] = b0 + bd * v_d[t] + bw * v_w[t] + bm * v_m[t]`` by least squares with non-negative
coefficients (NNLS, Lawson & Hanson 1974, ``scipy.optimize.nnls``: plain OLS gave negative
monthly slopes in the 2000-2003 window of AAPL and hence near-zero forecasts), where ``y[t]`` is the mean
per-bar squared log return over ``t+1..t+h`` (from :mod:`core.targets`), and the regressors
are the daily, weekly (5-bar) and monthly (22-bar) averages of a per-bar variance proxy known
at the close of t: squared close-to-close returns (``inputs="rv"``) or the Parkinson range
variance (``inputs="parkinson"``, less noisy; the slopes absorb its lower level).
Forecast of the horizon variance: ``h * y_hat`` (fraction², not annualised), floored at a
small positive value so QLIKE stays defined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, NotTrainedError
from core.market import EWMA_LAMBDA, ewma_variance, log_returns
from core.targets import forward_realized_var
from core.volatility.estimators import bar_variance

FLOOR = 1e-8  # per-bar variance floor (0.16 % annualised vol)


def har_features(frame: pd.DataFrame, inputs: str = "parkinson") -> pd.DataFrame:
    """Columns ``d w m`` (per-bar variance, fraction²): the proxy at t and its 5- and 22-bar
    trailing means. Rows before 22 bars are NaN. Known at the close of t (no lookahead)."""
    if inputs == "rv":
        v = bar_variance(frame, "close_to_close")
    elif inputs == "parkinson":
        v = bar_variance(frame, "parkinson")
    else:
        raise ValueError("inputs must be 'rv' or 'parkinson'")
    return pd.DataFrame({"d": v, "w": v.rolling(5, min_periods=5).mean(),
                         "m": v.rolling(22, min_periods=22).mean()})


@dataclass
class HARForecaster:
    """HAR-RV by non-negative least squares for one horizon (bars).
    Learned: ``coef_`` = [b0, bd, bw, bm] (all >= 0)."""

    horizon: int = 1
    inputs: str = "parkinson"
    coef_: list | None = field(default=None, repr=False)

    def fit(self, frame: pd.DataFrame, last_row: int | None = None) -> "HARForecaster":
        """NNLS fit on rows whose target is complete. ``last_row`` (position) limits training to
        origins ``<= last_row - horizon`` so the target never passes ``last_row``.
        Raises InsufficientDataError with fewer than 100 usable rows."""
        x = har_features(frame, self.inputs).to_numpy()
        y = (forward_realized_var(frame["close"], self.horizon) / self.horizon).to_numpy()
        if last_row is not None:
            cut = max(last_row - self.horizon + 1, 0)
            x, y = x[:cut], y[:cut]
        return self.fit_arrays(x, y)

    def fit_arrays(self, x: np.ndarray, y: np.ndarray) -> "HARForecaster":
        """Fit on precomputed :func:`har_features` rows ``x`` (n, 3) and per-bar targets ``y``
        (n,) — rows with NaN are skipped. Raises InsufficientDataError below 100 rows."""
        from scipy.optimize import nnls

        ok = np.isfinite(x).all(axis=1) & np.isfinite(y)
        if ok.sum() < 100:
            raise InsufficientDataError(
                f"HAR needs at least 100 complete rows; got {int(ok.sum())}. Use more history.")
        xv = x[ok]
        scale = float(np.mean(xv[:, 2]))  # monthly mean: puts the intercept on the slopes' scale
        a = np.column_stack([np.full(len(xv), scale), xv])
        coef, _ = nnls(a, y[ok])
        coef[0] *= scale
        self.coef_ = [float(c) for c in coef]
        return self

    def predict_arrays(self, x: np.ndarray) -> np.ndarray:
        """Horizon variance for precomputed feature rows ``x`` (n, 3)."""
        if self.coef_ is None:
            raise NotTrainedError("HAR forecaster is not fitted; call fit() first.")
        per_bar = self.coef_[0] + x @ np.asarray(self.coef_[1:])
        return np.where(np.isnan(per_bar), np.nan, np.maximum(per_bar, FLOOR)) * self.horizon

    def predict_path(self, frame: pd.DataFrame) -> pd.Series:
        """Horizon variance forecast at every origin (NaN before 22 bars), fraction²."""
        if self.coef_ is None:
            raise NotTrainedError("HAR forecaster is not fitted; call fit() first.")
        x = har_features(frame, self.inputs).to_numpy()
        return pd.Series(self.predict_arrays(x), index=frame.index,
                         name=f"har_var_{self.horizon}")

    def forecast(self, frame: pd.DataFrame) -> float:
        return float(self.predict_path(frame).iloc[-1])

    def to_dict(self) -> dict:
        if self.coef_ is None:
            raise NotTrainedError("HAR forecaster is not fitted; call fit() first.")
        return {"horizon": self.horizon, "inputs": self.inputs, "coef": self.coef_,
                "coef_names": ["const", "d", "w", "m"], "source": "Corsi (2009) HAR-RV, non-negative least squares"}

    @classmethod
    def from_dict(cls, d: dict) -> "HARForecaster":
        return cls(horizon=int(d["horizon"]), inputs=d["inputs"], coef_=[float(c) for c in d["coef"]])

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def ewma_path(frame: pd.DataFrame, horizon: int, lam: float = EWMA_LAMBDA) -> pd.Series:
    """RiskMetrics EWMA horizon variance ``h * sigma2[t]`` (flat term structure), fraction²."""
    return (ewma_variance(log_returns(frame["close"]), lam) * horizon).rename(f"ewma_var_{horizon}")


def check_len(frame: pd.DataFrame, need: int, what: str) -> None:
    if len(frame) < need:
        raise InsufficientDataError(f"{what} needs at least {need} bars; got {len(frame)}. "
                                    "Choose a longer date range.")
