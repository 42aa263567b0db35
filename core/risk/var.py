"""Value at Risk and Conditional VaR (expected shortfall), historical and parametric.

Conventions (all functions): returns are *simple* per-bar returns as fractions (0.01 = 1%);
VaR and CVaR are reported as **positive losses, fraction of position value** (multiply by
the position's value for currency). ``level`` is the confidence, e.g. 0.95 or 0.99.

Methods (Jorion, *Value at Risk*, 3rd ed., ch. 5 and 10; Acerbi & Tasche 2002 for ES):

- historical VaR: the empirical ``level``-quantile of the losses ``L = -r`` with the
  inverted-CDF rule (the smallest observed loss ``l`` with ``F_n(l) >= level``, i.e. the
  ``ceil(level * n)``-th smallest loss); historical CVaR: the mean of the losses ``>= VaR``.
- horizon (h bars) historical: the same on overlapping h-bar compounded returns
  ``exp(sum of h log returns) - 1`` (overlap makes them autocorrelated; fine for a point
  estimate, not for a standard error).
- parametric (Gaussian): ``VaR = -mu_h + z * sigma_h``, ``CVaR = -mu_h + sigma_h *
  phi(z) / (1 - level)`` with ``mu_h = h * mu``, ``sigma_h = sqrt(h) * sigma`` (square-root of
  time; i.i.d. returns assumed). Gaussian tails understate fat-tailed losses: compare with the
  historical figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from core.errors import InsufficientDataError

LEVELS = (0.95, 0.99)
MIN_OBS = 30


def _check_level(level: float) -> None:
    if not 0.5 < level < 1:
        raise ValueError(f"level must be in (0.5, 1), got {level}")


def _clean(returns) -> np.ndarray:
    r = np.asarray(returns, dtype="float64").ravel()
    r = r[np.isfinite(r)]
    if len(r) < MIN_OBS:
        raise InsufficientDataError(
            f"VaR needs at least {MIN_OBS} finite returns, got {len(r)}. Use a longer history."
        )
    return r


def historical_var(returns, level: float = 0.95) -> float:
    """Historical VaR: ``ceil(level*n)``-th smallest loss of ``-returns``.

    Args:
        returns: 1-D simple returns [fraction], NaN ignored (at least 30 finite values).
        level: confidence in (0.5, 1).
    Returns:
        float, positive loss [fraction of position value] (negative when even the tail
        bar gained).
    Raises:
        InsufficientDataError: fewer than 30 finite returns. ValueError: bad level.
    """
    _check_level(level)
    losses = np.sort(-_clean(returns))
    k = int(np.ceil(level * len(losses))) - 1
    return float(losses[k])


def historical_cvar(returns, level: float = 0.95) -> float:
    """Historical CVaR (expected shortfall): mean of the losses ``>= historical_var``.

    Same arguments, units and errors as :func:`historical_var`; always ``>= VaR``.
    """
    _check_level(level)
    losses = -_clean(returns)
    var = historical_var(-losses, level)
    return float(losses[losses >= var].mean())


def parametric_var(mu: float, sigma: float, level: float = 0.95, horizon: int = 1) -> float:
    """Gaussian VaR ``-h*mu + z_level*sqrt(h)*sigma`` [fraction].

    Args:
        mu, sigma: per-bar mean and standard deviation of simple returns [fraction].
        horizon: bars (square-root-of-time scaling).
    """
    _check_level(level)
    if sigma < 0 or horizon < 1:
        raise ValueError("sigma must be >= 0 and horizon >= 1 bar")
    return float(-horizon * mu + norm.ppf(level) * np.sqrt(horizon) * sigma)


def parametric_cvar(mu: float, sigma: float, level: float = 0.95, horizon: int = 1) -> float:
    """Gaussian CVaR ``-h*mu + sqrt(h)*sigma*phi(z)/(1-level)`` [fraction]."""
    _check_level(level)
    if sigma < 0 or horizon < 1:
        raise ValueError("sigma must be >= 0 and horizon >= 1 bar")
    z = norm.ppf(level)
    return float(-horizon * mu + np.sqrt(horizon) * sigma * norm.pdf(z) / (1 - level))


def horizon_returns(returns, horizon: int) -> np.ndarray:
    """Overlapping ``horizon``-bar compounded simple returns from per-bar simple returns.

    ``R_t = prod_{i=t-h+1..t}(1 + r_i) - 1``; length ``n - h + 1``. horizon=1 returns the input.
    """
    r = _clean(returns)
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    if horizon == 1:
        return r
    lr = np.log1p(r)
    c = np.concatenate([[0.0], np.cumsum(lr)])
    return np.expm1(c[horizon:] - c[:-horizon])


@dataclass(frozen=True)
class VaRRow:
    """One line of a VaR table: loss figures are positive fractions of position value."""

    method: str          # "historical" | "parametric"
    horizon: int         # bars
    level: float         # 0.95 / 0.99
    var: float           # fraction of position value
    cvar: float          # fraction of position value


def var_table(returns, horizon: int = 1, levels=LEVELS, sigma: float | None = None,
              mu: float = 0.0, cap: float | None = None) -> list[VaRRow]:
    """Historical and parametric VaR/CVaR at 1 bar and ``horizon`` bars for each level.

    Args:
        returns: per-bar simple returns [fraction] (history for the historical method and,
            when ``sigma`` is None, for the sample standard deviation).
        horizon: bars for the second block (skipped when 1).
        sigma: per-bar volatility forecast [fraction] for the parametric method (e.g. EWMA);
            default the sample standard deviation. mu: per-bar mean (default 0, conservative).
        cap: the largest loss the position can take [fraction of position value]: 1.0 for a
            long position (it cannot lose more than its value; the Gaussian tail can exceed
            it at long horizons), None for a short (unbounded).
    Returns:
        list of :class:`VaRRow` (method x horizon x level).
    """
    r = _clean(returns)
    s = float(np.std(r, ddof=1)) if sigma is None else float(sigma)
    rows: list[VaRRow] = []
    for h in sorted({1, int(horizon)}):
        rh = horizon_returns(r, h)
        for lv in levels:
            if len(rh) >= MIN_OBS:
                rows.append(VaRRow("historical", h, lv, historical_var(rh, lv),
                                   historical_cvar(rh, lv)))
            rows.append(VaRRow("parametric", h, lv, parametric_var(mu, s, lv, h),
                               parametric_cvar(mu, s, lv, h)))
    if cap is not None:
        rows = [VaRRow(r.method, r.horizon, r.level, min(r.var, cap), min(r.cvar, cap))
                for r in rows]
    return rows


def var_frame(rows: list[VaRRow], position_value: float | None = None,
              equity: float | None = None) -> pd.DataFrame:
    """VaR rows as a display frame: percent of position and, when given, currency and % equity."""
    df = pd.DataFrame([r.__dict__ for r in rows])
    out = pd.DataFrame({
        "Method": df["method"], "Horizon [bars]": df["horizon"],
        "Level [%]": (df["level"] * 100).round(1),
        "VaR [% position]": df["var"] * 100, "CVaR [% position]": df["cvar"] * 100,
    })
    if position_value is not None:
        out["VaR [$]"] = df["var"] * abs(position_value)
        out["CVaR [$]"] = df["cvar"] * abs(position_value)
        if equity:
            out["VaR [% equity]"] = out["VaR [$]"] / equity * 100
            out["CVaR [% equity]"] = out["CVaR [$]"] / equity * 100
    return out
