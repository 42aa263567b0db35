"""GARCH(1,1) and GJR-GARCH(1,1,1) forecasters on the ``arch`` package, persisted as JSON.

Models (zero mean, fitted on log returns in percent, i.e. ``100 * log_return``, which keeps
the optimiser well scaled; forecasts are converted back to fraction² units):

* ``garch``: GARCH(1,1) with normal errors — Bollerslev, T. (1986) "Generalized
  autoregressive conditional heteroskedasticity", *Journal of Econometrics* 31, 307-327.
* ``gjr``: GJR-GARCH(1,1,1) with Student-t errors — Glosten, L., Jagannathan, R. & Runkle, D.
  (1993) "On the relation between the expected value and the volatility of the nominal excess
  return on stocks", *Journal of Finance* 48(5), 1779-1801; Student-t: Bollerslev (1987).

Persistence: ``{"spec": {...}, "params": {...}}`` JSON; rebuilt with ``arch_model(...).fix``
(arch docs, "ARCHModel.fix"). Multi-step variance forecasts use the closed form of the
analytic recursion (the same numbers as ``arch``'s ``forecast(method="analytic")``):
``E[s2_{t+k}] = omega * sum_{j<k-1} phi**j + phi**(k-1) * s2_{t+1}``, with persistence
``phi = alpha + beta + gamma/2`` (symmetric errors).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, NotTrainedError

SCALE = 100.0  # fit in percent units
SPECS: dict[str, dict] = {
    "garch": {"mean": "Zero", "vol": "GARCH", "p": 1, "o": 0, "q": 1, "dist": "normal"},
    "gjr": {"mean": "Zero", "vol": "GARCH", "p": 1, "o": 1, "q": 1, "dist": "t"},
}
MIN_BARS = 250


def _clean(log_return: pd.Series) -> pd.Series:
    r = log_return.astype("float64")
    ok = np.isfinite(r.to_numpy())
    if not ok.all():
        r = r[ok]
    if len(r) < MIN_BARS:
        raise InsufficientDataError(
            f"A GARCH fit needs at least {MIN_BARS} returns; got {len(r)}. "
            "Choose a longer date range.")
    return r


def horizon_sum(one_step: np.ndarray, omega: float, phi: float, horizon: int) -> np.ndarray:
    """Sum over ``k = 1..horizon`` of the analytic GARCH variance forecasts.

    Args:
        one_step: ``s2_{t+1}`` per origin (any units; omega in the same units).
        omega, phi: intercept and persistence (``alpha + beta + gamma/2``).
    Returns: array like ``one_step`` with the summed variance over the horizon.
    """
    total = np.zeros_like(one_step, dtype="float64")
    cur = np.asarray(one_step, dtype="float64")
    for _ in range(horizon):
        total = total + cur
        cur = omega + phi * cur
    return total


@dataclass
class GarchForecaster:
    """GARCH-family forecaster (scikit-learn style).

    Args:
        kind: ``"garch"`` (GARCH(1,1)-normal) or ``"gjr"`` (GJR-GARCH(1,1,1)-t).
    Learned:
        params_: dict of arch parameter names -> values (percent-return units).
    """

    kind: str = "gjr"
    params_: dict | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.kind not in SPECS:
            raise ValueError(f"unknown GARCH kind {self.kind!r}; choose garch or gjr")

    @property
    def spec(self) -> dict:
        return dict(SPECS[self.kind])

    def _model(self, r: pd.Series):
        from arch import arch_model  # deferred: arch is slow to import

        return arch_model(r * SCALE, rescale=False, **self.spec)

    def fit(self, log_return: pd.Series, starting_values: dict | None = None) -> "GarchForecaster":
        """Maximum-likelihood fit on ``log_return`` (fraction units, per bar).

        ``starting_values`` (a previous ``params_``) warm-starts the optimiser.
        Raises InsufficientDataError with fewer than 250 returns.
        """
        r = _clean(log_return)
        sv = None
        if starting_values is not None:
            sv = np.array([starting_values[k] for k in self._names()], dtype="float64")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = self._model(r).fit(disp="off", starting_values=sv, show_warning=False)
            if not np.all(np.isfinite(res.params)) and sv is not None:
                res = self._model(r).fit(disp="off", show_warning=False)
        self.params_ = {k: float(v) for k, v in res.params.items()}
        return self

    def _names(self) -> list[str]:
        names = ["omega", "alpha[1]"] + (["gamma[1]"] if self.spec["o"] else []) + ["beta[1]"]
        return names + (["nu"] if self.spec["dist"] == "t" else [])

    def _require(self) -> dict:
        if self.params_ is None:
            raise NotTrainedError(f"{self.kind} forecaster is not fitted; call fit() first.")
        return self.params_

    @property
    def persistence(self) -> float:
        p = self._require()
        return p["alpha[1]"] + p["beta[1]"] + 0.5 * p.get("gamma[1]", 0.0)

    def conditional_variance(self, log_return: pd.Series) -> pd.Series:
        """In-sample filtered ``sigma2[t]`` (variance of ``log_return[t]`` given bars < t),
        fraction² per bar, rebuilt from ``params_`` with ``arch``'s ``fix``."""
        p = self._require()
        r = _clean(log_return)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = self._model(r).fix(pd.Series(p)[self._names()].to_numpy())
        s2 = np.asarray(res.conditional_volatility, dtype="float64") ** 2 / SCALE**2
        return pd.Series(s2, index=r.index, name="sigma2")

    def one_step(self, log_return: pd.Series) -> pd.Series:
        """``s2_{t+1}`` known at the close of each bar t (fraction² per bar)."""
        p = self._require()
        r = _clean(log_return)
        s2 = self.conditional_variance(r).to_numpy() * SCALE**2
        x = r.to_numpy() * SCALE
        nxt = (p["omega"] + (p["alpha[1]"] + p.get("gamma[1]", 0.0) * (x < 0)) * x**2
               + p["beta[1]"] * s2)
        return pd.Series(nxt / SCALE**2, index=r.index, name="sigma2_next")

    def forecast_path(self, log_return: pd.Series, horizon: int) -> pd.Series:
        """Variance of the summed log return over bars ``t+1..t+horizon`` for every origin t
        (fraction², not annualised)."""
        p = self._require()
        one = self.one_step(log_return)
        tot = horizon_sum(one.to_numpy() * SCALE**2, p["omega"], self.persistence, horizon)
        return pd.Series(tot / SCALE**2, index=one.index, name=f"{self.kind}_var_{horizon}")

    def forecast_paths(self, log_return: pd.Series, horizons) -> dict[int, pd.Series]:
        """:meth:`forecast_path` for several horizons from one filtering pass."""
        p = self._require()
        one = self.one_step(log_return)
        raw = one.to_numpy() * SCALE**2
        return {h: pd.Series(horizon_sum(raw, p["omega"], self.persistence, h) / SCALE**2,
                             index=one.index, name=f"{self.kind}_var_{h}") for h in horizons}

    def forecast(self, log_return: pd.Series, horizon: int) -> float:
        """Variance over the next ``horizon`` bars from the last bar (fraction²)."""
        return float(self.forecast_path(log_return, horizon).iloc[-1])

    # --- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"kind": self.kind, "spec": self.spec, "scale": SCALE, "params": self._require(),
                "source": "arch.arch_model(...).fix(params)"}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "GarchForecaster":
        if d.get("kind") not in SPECS or d.get("spec") != SPECS[d["kind"]]:
            raise ValueError(f"unsupported GARCH spec in artifact: {d.get('spec')}")
        return cls(kind=d["kind"], params_={k: float(v) for k, v in d["params"].items()})

    @classmethod
    def from_json(cls, text: str) -> "GarchForecaster":
        return cls.from_dict(json.loads(text))
