"""Has an event mattered? Forward returns after event bars against the unconditional base.

Shared by the candlestick-pattern edge table (:func:`core.patterns.edge.edge_table`) and the
rule-signal edge table (:func:`core.strategy.rules.signal_edge_table`). For events on bars
``t_i`` with direction ``d_i`` (+1 long / -1 short) and a forward log return ``r`` over h bars
(:func:`core.targets.forward_log_return`):

* ``ret_h``: mean of ``d_i * r[t_i]`` [log return]; ``base_ret_h``: the same for an
  unconditional entry in the same direction, ``mean_i(d_i) * mean_t(r[t])`` (mean over all
  bars with a known outcome).
* ``hit_h``: share of events with ``d_i * r[t_i] > 0``; ``base_hit_h``: mean over events of
  the unconditional share of bars moving in direction ``d_i``.
* 95% CIs by the bootstrap over occurrences (percentile method; Efron & Tibshirani 1993,
  *An Introduction to the Bootstrap*, ch. 13). Overlapping h-bar windows make neighbouring
  events dependent, so these CIs are, if anything, too narrow: a "no measurable edge"
  verdict is conservative in the right direction.
* ``edge_h``: at least ``min_cases`` events and the return CI or the hit-rate CI excludes
  its base value. ``verdict``: "too few cases" below ``min_cases`` events; "no measurable
  edge" when no horizon has an edge; else e.g. "better than base at 5 bars (+0.41% vs
  +0.10%)".
"""

from __future__ import annotations

import numpy as np

N_BOOT = 2000
MIN_CASES = 10


def bootstrap_mean_ci(x: np.ndarray, rng: np.random.Generator, n_boot: int = N_BOOT,
                      confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of ``mean(x)`` resampling observations i.i.d.

    Args:
        x: 1-D float array of observations (no NaN). rng: generator (consumed: the caller
            owns reproducibility). n_boot: resamples. confidence: two-sided level in (0, 1).
    Returns:
        (lower, upper) in the units of ``x``; ``(nan, nan)`` for fewer than 2 observations.
    """
    if len(x) < 2:
        return float("nan"), float("nan")
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    m = x[idx].mean(axis=1)
    a = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(m, [a, 100 - a])
    return float(lo), float(hi)


def event_edge(mask: np.ndarray, direction: np.ndarray, forward: dict[int, np.ndarray],
               rng: np.random.Generator, *, n_boot: int = N_BOOT,
               min_cases: int = MIN_CASES) -> tuple[dict, str]:
    """Per-horizon edge statistics of events against the unconditional base (module doc).

    Args:
        mask: bool array (n,), True on event bars. direction: float array (n,), the event's
            side (+1 / -1) on event bars (other bars ignored). forward: horizon [bars] ->
            forward log returns (n,), NaN where unknown (the last h bars).
        rng: generator; per horizon the return CI is drawn before the hit-rate CI.
        n_boot: bootstrap resamples. min_cases: fewest events for an edge or a verdict.
    Returns:
        ``(columns, verdict)``: columns ``ret_h, ret_lo_h, ret_hi_h, base_ret_h`` (log
        returns, fractions), ``hit_h, hit_lo_h, hit_hi_h, base_hit_h`` (fractions),
        ``edge_h`` (bool) for each h, and the verdict sentence.
    """
    row: dict = {}
    verdicts = []
    for h, r in forward.items():
        known = np.isfinite(r)
        sel = mask & known
        d = direction[sel]
        x = d * r[sel]
        base_mean = float(np.nanmean(r)) if known.any() else float("nan")
        up_share = float((r[known] > 0).mean()) if known.any() else float("nan")
        down_share = float((r[known] < 0).mean()) if known.any() else float("nan")
        base_ret = float(d.mean() * base_mean) if len(d) else float("nan")
        base_hit = float(np.where(d > 0, up_share, down_share).mean()) if len(d) else float("nan")
        hits = (x > 0).astype(float)
        ret_lo, ret_hi = bootstrap_mean_ci(x, rng, n_boot)
        hit_lo, hit_hi = bootstrap_mean_ci(hits, rng, n_boot)
        edge = bool(len(x) >= min_cases and (
            (ret_lo > base_ret or ret_hi < base_ret) or (hit_lo > base_hit or hit_hi < base_hit)))
        row.update({f"ret_{h}": float(x.mean()) if len(x) else float("nan"),
                    f"ret_lo_{h}": ret_lo, f"ret_hi_{h}": ret_hi, f"base_ret_{h}": base_ret,
                    f"hit_{h}": float(hits.mean()) if len(x) else float("nan"),
                    f"hit_lo_{h}": hit_lo, f"hit_hi_{h}": hit_hi, f"base_hit_{h}": base_hit,
                    f"edge_{h}": edge})
        if edge:
            m = float(x.mean())
            sign = "better" if (m > base_ret or hits.mean() > base_hit) else "worse"
            verdicts.append(f"{sign} than base at {h} bars ({m * 100:+.2f}% vs "
                            f"{base_ret * 100:+.2f}%)")
    if int(mask.sum()) < min_cases:
        verdict = "too few cases"
    elif not verdicts:
        verdict = "no measurable edge"
    else:
        verdict = "; ".join(verdicts)
    return row, verdict
