"""Statistical tests and intervals for forecast evaluation.

- Wilson score interval for a proportion: Wilson (1927), JASA 22(158); see also Brown, Cai &
  DasGupta (2001) "Interval estimation for a binomial proportion".
- Effective sample size for overlapping ``horizon``-bar targets: ``n / horizon`` (each
  non-overlapping block carries one independent observation; Hansen & Hodrick 1980 motivate
  the MA(h-1) structure).
- Newey-West HAC long-run variance: Newey & West (1987), Econometrica 55(3), Bartlett kernel.
- Diebold-Mariano test: Diebold & Mariano (1995), JBES 13(3), with the small-sample
  correction of Harvey, Leybourne & Newbold (1997), IJF 13(2) and Student-t(n-1) reference.
- Moving-block bootstrap: Künsch (1989), Annals of Statistics 17(3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st


def effective_n(n: int, horizon: int = 1) -> float:
    """Effective number of independent observations among ``n`` overlapping targets that each
    span ``horizon`` bars: ``n / horizon`` (>= 1 when n >= 1). Raises ValueError if horizon < 1."""
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    return max(float(n) / horizon, 1.0) if n > 0 else 0.0


def wilson_ci(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Args:
        successes: number of hits (may be fractional when rescaled to an effective n).
        n: trials (may be an effective n, e.g. ``effective_n(n, horizon)``); ``n <= 0`` gives
            ``(nan, nan)``.
        confidence: two-sided level in (0, 1), e.g. 0.95.

    Returns:
        (lower, upper) as fractions in [0, 1].
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    z = _st.norm.ppf(0.5 + confidence / 2)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def newey_west_variance(x, lags: int) -> float:
    """Long-run variance of the mean-centred series ``x`` with Bartlett weights
    ``1 - k/(lags+1)`` for k = 1..lags (Newey & West 1987); autocovariances divide by n.
    With ``lags=0`` this is the plain (biased) variance."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return float("nan")
    d = x - x.mean()
    v = float(d @ d) / n
    for k in range(1, min(int(lags), n - 1) + 1):
        v += 2 * (1 - k / (lags + 1)) * float(d[k:] @ d[:-k]) / n
    return v


@dataclass(frozen=True)
class DMResult:
    """Diebold-Mariano result. ``statistic`` is HLN-corrected (t with n-1 df); negative
    means model 1 has the lower loss. ``mean_diff`` = mean(loss1 - loss2)."""

    statistic: float
    pvalue: float
    mean_diff: float
    n: int
    horizon: int


def diebold_mariano(
    e1,
    e2,
    horizon: int = 1,
    *,
    power: int = 2,
    alternative: str = "two-sided",
) -> DMResult:
    """Diebold-Mariano test of equal predictive accuracy of two forecast-error series.

    Loss ``|e|**power`` (2 = squared error, 1 = absolute error); loss differential
    ``d = |e1|**p - |e2|**p``; HAC variance of ``mean(d)`` with Newey-West lag ``horizon-1``;
    statistic multiplied by the Harvey-Leybourne-Newbold factor
    ``sqrt((n + 1 - 2h + h(h-1)/n) / n)`` and compared with Student-t(n-1).

    Args:
        e1, e2: forecast errors (target - forecast) of model 1 and model 2 (e.g. the naive
            zero forecast, whose error is the target itself); NaN pairs dropped.
        horizon: forecast horizon h [bars] (>= 1).
        alternative: ``two-sided``; ``less`` (H1: model 1 has lower loss); ``greater``.

    Returns:
        :class:`DMResult`; p-value NaN when fewer than 3 pairs or a zero variance.

    Raises:
        ValueError: bad ``alternative`` or ``horizon``.
    """
    if alternative not in ("two-sided", "less", "greater"):
        raise ValueError("alternative must be 'two-sided', 'less' or 'greater'")
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    a, b = np.asarray(e1, float), np.asarray(e2, float)
    ok = np.isfinite(a) & np.isfinite(b)
    d = np.abs(a[ok]) ** power - np.abs(b[ok]) ** power
    n = len(d)
    mean_d = float(d.mean()) if n else float("nan")
    if n < 3:
        return DMResult(float("nan"), float("nan"), mean_d, n, horizon)
    var = newey_west_variance(d, horizon - 1)
    if not var > 0:
        return DMResult(float("nan"), float("nan"), mean_d, n, horizon)
    dm = mean_d / math.sqrt(var / n)
    h = horizon
    hln = math.sqrt(max((n + 1 - 2 * h + h * (h - 1) / n) / n, 0.0))
    stat = dm * hln
    t = _st.t(df=n - 1)
    if alternative == "two-sided":
        p = 2 * t.sf(abs(stat))
    elif alternative == "less":
        p = t.cdf(stat)
    else:
        p = t.sf(stat)
    return DMResult(float(stat), float(p), mean_d, n, horizon)


def block_bootstrap_ci(
    x,
    *,
    statistic=np.mean,
    block: int | None = None,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile CI of ``statistic(x)`` by the moving-block bootstrap.

    Args:
        x: 1-D series (NaN dropped). block: block length [bars]; default ``ceil(n**(1/3))``
            (use at least the horizon for overlapping targets). n_boot: resamples.
        confidence: two-sided level. seed: RNG seed (results are reproducible).

    Returns:
        (lower, upper); ``(nan, nan)`` for fewer than 2 observations.
    """
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        return float("nan"), float("nan")
    block = max(1, min(n, int(block or math.ceil(n ** (1 / 3)))))
    rng = np.random.default_rng(seed)
    n_blocks = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, -1)[:, :n]
    stats = np.array([statistic(x[row]) for row in idx])
    a = (1 - confidence) / 2
    return float(np.quantile(stats, a)), float(np.quantile(stats, 1 - a))


NEGLIGIBLE_RATIO = 5e-4  # |1 - loss ratio| below this (0.05%) is no practical difference


def beats_baseline(pvalue: float | None, loss_ratio: float | None, alpha: float = 0.05) -> bool:
    """The one skill rule: a model beats its naive baseline when a two-sided test rejects
    equal loss (``pvalue < alpha``, e.g. Diebold-Mariano) AND its loss ratio to the
    baseline (e.g. RMSE ratio) is below 1 by at least :data:`NEGLIGIBLE_RATIO` — a forecast
    shrunk to the baseline can differ "significantly" by millionths, which no trader can use.
    Missing or non-finite inputs mean no evidence of skill (False)."""
    if pvalue is None or loss_ratio is None:
        return False
    if not (math.isfinite(pvalue) and math.isfinite(loss_ratio)):
        return False
    return pvalue < alpha and loss_ratio < 1 - NEGLIGIBLE_RATIO
