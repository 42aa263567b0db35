"""How much of a backtest's Sharpe ratio survives estimation error and the search behind it.

* Standard error of a Sharpe ratio estimated from T i.i.d. returns with skewness g3 and
  (non-excess) kurtosis g4: ``sqrt((1 - g3*SR + (g4-1)/4 * SR^2) / (T-1))`` (per-bar SR;
  Mertens 2002; Lo 2002, "The Statistics of Sharpe Ratios", FAJ 58(4), gives the normal
  case ``sqrt((1 + SR^2/2) / T)``; Bailey & Lopez de Prado 2012, eq. 4).
* Probabilistic Sharpe ratio ``PSR(SR*) = Phi((SR - SR*) sqrt(T-1) / sqrt(1 - g3 SR +
  (g4-1)/4 SR^2))``: the probability that the true SR exceeds ``SR*`` (Bailey & Lopez de
  Prado 2012, "The Sharpe Ratio Efficient Frontier", J. of Risk 15(2)).
* Deflated Sharpe ratio: the PSR against the Sharpe ratio expected from the best of N
  unskilled trials, ``SR0 = sqrt(V[SR_n]) ((1-gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 -
  1/(N e)))`` with gamma the Euler-Mascheroni constant (Bailey & Lopez de Prado 2014, "The
  Deflated Sharpe Ratio: Correcting for Selection Bias, Backtest Overfitting and
  Non-Normality", J. of Portfolio Management 40(5), eqs. 1-2).
* Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV):
  Bailey, Borwein, Lopez de Prado & Zhu (2017), "The Probability of Backtest Overfitting",
  J. of Computational Finance 20(4), section 2.

All Sharpe ratios here are per bar unless a name says ``_ann`` (annualised by
``sqrt(periods per year)``, :func:`core.market.periods_per_year`), with a zero risk-free rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import stats as _st

EULER_GAMMA = 0.5772156649015329


def _clean(returns) -> np.ndarray:
    x = np.asarray(returns, dtype="float64").ravel()
    return x[np.isfinite(x)]


def sharpe_ratio(returns) -> float:
    """Per-bar Sharpe ratio ``mean / std`` (ddof=1) of simple returns; NaN for fewer than 2
    finite returns or zero volatility."""
    x = _clean(returns)
    if len(x) < 2:
        return float("nan")
    sd = float(x.std(ddof=1))
    return float(x.mean()) / sd if sd > 0 else float("nan")


def moments(returns) -> tuple[float, float]:
    """(skewness, non-excess kurtosis) of the returns, population (biased) estimators as in
    Bailey & Lopez de Prado; (0, 3) for fewer than 3 returns or zero variance."""
    x = _clean(returns)
    if len(x) < 3 or not x.std() > 0:
        return 0.0, 3.0
    return float(_st.skew(x)), float(_st.kurtosis(x, fisher=False))


def sharpe_standard_error(sr: float, n_obs: int, skew: float = 0.0, kurt: float = 3.0) -> float:
    """Standard error of a per-bar Sharpe ratio (module doc; Mertens 2002 / Lo 2002).

    Args: sr: per-bar Sharpe. n_obs: returns T (>= 2). skew, kurt: of the returns (kurt
    non-excess: 3 for the normal). Returns: the SE per bar; NaN when T < 2.
    """
    if n_obs < 2 or not math.isfinite(sr):
        return float("nan")
    v = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    return math.sqrt(max(v, 1e-12) / (n_obs - 1))


def sharpe_ci(returns, periods_per_year: float, confidence: float = 0.95) -> tuple[float, float, float]:
    """Annualised Sharpe ratio and its normal-approximation CI from the standard error above.

    Returns: ``(sharpe_ann, lower_ann, upper_ann)``; NaNs for fewer than 3 returns.
    """
    x = _clean(returns)
    sr = sharpe_ratio(x)
    if len(x) < 3 or not math.isfinite(sr):
        return float("nan"), float("nan"), float("nan")
    g3, g4 = moments(x)
    se = sharpe_standard_error(sr, len(x), g3, g4)
    z = _st.norm.ppf(0.5 + confidence / 2)
    a = math.sqrt(periods_per_year)
    return float(sr * a), float((sr - z * se) * a), float((sr + z * se) * a)


def probabilistic_sharpe_ratio(sr: float, n_obs: int, skew: float = 0.0, kurt: float = 3.0,
                               sr_benchmark: float = 0.0) -> float:
    """P(true per-bar SR > ``sr_benchmark``) given the estimate ``sr`` (module doc).

    Returns: a probability in [0, 1]; NaN when T < 2 or ``sr`` is NaN.
    """
    if n_obs < 2 or not math.isfinite(sr):
        return float("nan")
    v = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    z = (sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(max(v, 1e-12))
    return float(_st.norm.cdf(z))


def expected_max_sharpe(n_trials: int, var_trials: float, mean_trials: float = 0.0) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios drawn from a normal with variance
    ``var_trials`` and mean ``mean_trials`` (0 under the null of no skill): Bailey & Lopez de
    Prado (2014), eq. 2 (extreme-value approximation). One trial carries no selection: 0
    (plus the mean). Units: those of the trials' Sharpe ratios.

    Raises: ValueError for n_trials < 1 or a negative variance.
    """
    if n_trials < 1 or var_trials < 0:
        raise ValueError("need n_trials >= 1 and var_trials >= 0")
    if n_trials == 1:
        return float(mean_trials)
    z = ((1 - EULER_GAMMA) * _st.norm.ppf(1 - 1.0 / n_trials)
         + EULER_GAMMA * _st.norm.ppf(1 - 1.0 / (n_trials * math.e)))
    return float(mean_trials + math.sqrt(var_trials) * z)


def deflated_sharpe_ratio(sr: float, n_obs: int, n_trials: int, var_trials: float,
                          skew: float = 0.0, kurt: float = 3.0) -> float:
    """Deflated Sharpe ratio (Bailey & Lopez de Prado 2014): the PSR of the selected per-bar
    ``sr`` against ``expected_max_sharpe(n_trials, var_trials)``.

    Args:
        sr: per-bar Sharpe of the selected trial. n_obs: its returns T. n_trials: configurations
            tried N. var_trials: variance of the N trials' per-bar Sharpe ratios.
        skew, kurt: of the selected trial's returns (kurt non-excess).
    Returns:
        A probability in [0, 1] that the true SR is above what the best of N unskilled trials
        would show; above 0.95 is significant at 5%. NaN when it cannot be computed.
    """
    sr0 = expected_max_sharpe(int(n_trials), float(var_trials))
    return probabilistic_sharpe_ratio(sr, n_obs, skew, kurt, sr_benchmark=sr0)


@dataclass(frozen=True)
class PBOResult:
    """CSCV outcome. ``pbo``: share of splits whose in-sample best ranks at or below the
    out-of-sample median (logit <= 0). ``logits``: one per split. ``n_splits``: C(S, S/2).
    ``n_blocks``: S. ``degradation``: slope of OOS on IS performance of the selected
    configuration (negative = in-sample winners fade)."""

    pbo: float
    logits: np.ndarray
    n_splits: int
    n_blocks: int
    degradation: float


def probability_of_backtest_overfitting(returns: np.ndarray, n_blocks: int = 16) -> PBOResult:
    """Probability of backtest overfitting by CSCV (Bailey, Borwein, Lopez de Prado & Zhu
    2017, section 2), with the per-bar Sharpe ratio as the performance statistic.

    The T x N matrix of per-bar returns (one column per configuration) is cut into S equal
    row blocks (trailing rows dropped; a configuration flat over a half scores Sharpe 0);
    for every choice of S/2 blocks as in-sample (IS) and
    the rest as out-of-sample (OOS), the configuration with the best IS Sharpe is ranked
    among all N on OOS Sharpe, ``w = rank / (N + 1)``, ``logit = log(w / (1 - w))``;
    PBO is the share of splits with ``logit <= 0``.

    Args:
        returns: array (T, N), N >= 2 configurations, T >= 2 * S rows (NaN read as 0).
        n_blocks: S, even, >= 2 (16 gives 12,870 splits).
    Returns:
        :class:`PBOResult`.
    Raises:
        ValueError: fewer than 2 configurations, odd S or too few rows.
    """
    m = np.nan_to_num(np.asarray(returns, dtype="float64"))
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValueError("PBO needs a (bars x configurations) matrix with at least 2 configurations")
    s = int(n_blocks)
    if s < 2 or s % 2:
        raise ValueError("n_blocks must be even and >= 2")
    t, n = m.shape
    if t < 2 * s:
        raise ValueError(f"PBO needs at least {2 * s} bars for {s} blocks, got {t}")
    size = t // s
    blocks = m[: size * s].reshape(s, size, n)
    sums, sq = blocks.sum(axis=1), (blocks ** 2).sum(axis=1)  # (S, N)
    half = s // 2

    def sharpe(idx):
        k = len(idx) * size
        mu = sums[list(idx)].sum(axis=0) / k
        var = (sq[list(idx)].sum(axis=0) - k * mu * mu) / (k - 1)
        sd = np.sqrt(np.maximum(var, 0.0))
        return np.divide(mu, sd, out=np.zeros(n), where=sd > 0)  # flat: Sharpe 0

    logits, is_best, oos_best = [], [], []
    every = set(range(s))
    for chosen in combinations(range(s), half):
        ins = sharpe(chosen)
        oos = sharpe(tuple(sorted(every - set(chosen))))
        best = int(np.argmax(ins))
        rank = float(_st.rankdata(oos)[best])  # 1 = worst, N = best (average ties)
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
        is_best.append(ins[best])
        oos_best.append(oos[best])
    lg = np.asarray(logits)
    x, y = np.asarray(is_best), np.asarray(oos_best)
    ok = np.isfinite(x) & np.isfinite(y)
    slope = float(np.polyfit(x[ok], y[ok], 1)[0]) if ok.sum() > 2 and np.ptp(x[ok]) > 0 \
        else float("nan")
    return PBOResult(float((lg <= 0).mean()), lg, len(lg), s, slope)
