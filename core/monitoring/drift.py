"""Feature drift between a reference window (e.g. the training period) and a recent window.

* **PSI** (population stability index; Siddiqi, *Credit Risk Scorecards*, Wiley 2006, ch. 8;
  Yurdakul, "Statistical properties of the population stability index", 2018)::

      PSI = sum_i (a_i - e_i) * ln(a_i / e_i)

  with ``e_i`` / ``a_i`` the reference / recent shares in bin i. Bins are the reference
  deciles (``bins`` quantile edges of the reference, outer edges open to +-inf, duplicate
  edges merged); a share of 0 is replaced by ``eps = 1e-4`` so the log stays finite.
  Rule of thumb: < 0.1 stable, 0.1-0.2 moderate shift, > 0.2 significant shift (alert).
* **KS**: two-sample Kolmogorov-Smirnov statistic and p-value (``scipy.stats.ks_2samp``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.features import build_features
from core.store.ops import record_metric

PSI_ALERT = 0.2
EPS = 1e-4


def psi(reference, recent, *, bins: int = 10, eps: float = EPS) -> float:
    """Population stability index of ``recent`` against ``reference`` (1-D arrays; NaN and
    inf are dropped). Returns NaN when either side has no finite value.

    Raises:
        ValueError: bins < 2.
    """
    if bins < 2:
        raise ValueError("bins must be >= 2")
    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(recent, dtype="float64")
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    e = np.histogram(ref, edges)[0] / ref.size
    a = np.histogram(cur, edges)[0] / cur.size
    e, a = np.clip(e, eps, None), np.clip(a, eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def ks(reference, recent) -> tuple[float, float]:
    """Two-sample KS ``(statistic, p_value)`` on finite values (NaN, NaN when a side is empty)."""
    from scipy.stats import ks_2samp

    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(recent, dtype="float64")
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return float("nan"), float("nan")
    res = ks_2samp(ref, cur)
    return float(res.statistic), float(res.pvalue)


def drift_table(reference: pd.DataFrame, recent: pd.DataFrame, features: list[str] | None = None,
                *, bins: int = 10, threshold: float = PSI_ALERT) -> pd.DataFrame:
    """PSI and KS per numeric feature, worst PSI first.

    Args:
        reference: features over the reference window (rows = bars).
        recent: the same features over the recent window.
        features: columns to compare (default: numeric columns present in both).

    Returns:
        DataFrame with ``feature, psi, ks_stat, ks_pvalue, n_reference, n_recent, alert``
        (``alert`` = psi > threshold).
    """
    if features is None:
        features = [c for c in reference.columns if c in recent.columns
                    and pd.api.types.is_numeric_dtype(reference[c])]
    rows = []
    for f in features:
        r, c = reference[f].to_numpy("float64"), recent[f].to_numpy("float64")
        stat, p = ks(r, c)
        value = psi(r, c, bins=bins)
        rows.append({"feature": f, "psi": value, "ks_stat": stat, "ks_pvalue": p,
                     "n_reference": int(np.isfinite(r).sum()), "n_recent": int(np.isfinite(c).sum()),
                     "alert": bool(np.isfinite(value) and value > threshold)})
    out = pd.DataFrame(rows, columns=["feature", "psi", "ks_stat", "ks_pvalue", "n_reference",
                                      "n_recent", "alert"])
    return out.sort_values("psi", ascending=False, na_position="last").reset_index(drop=True)


def feature_drift(frame: pd.DataFrame, *, recent_bars: int = 250,
                  reference_end=None, features: list[str] | None = None) -> pd.DataFrame:
    """Drift of the technical features of one history: reference = bars up to
    ``reference_end`` (e.g. the training cut-off in a model's metadata; default: everything
    before the recent window), recent = the last ``recent_bars`` bars.

    Raises:
        InsufficientDataError: fewer than ``recent_bars + 50`` bars.
    """
    if len(frame) < recent_bars + 50:
        raise InsufficientDataError(f"Drift needs at least {recent_bars + 50} bars, got {len(frame)}.")
    feats = build_features(frame)
    recent = feats.iloc[-recent_bars:]
    if reference_end is not None:
        ts = pd.Timestamp(reference_end)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        reference = feats[feats.index <= ts]
    else:
        reference = feats.iloc[:-recent_bars]
    return drift_table(reference, recent, features)


def record_drift(table: pd.DataFrame, *, session, model_name: str | None = None) -> int:
    """Store each feature's PSI as a ``psi`` metric snapshot (detail: feature, KS) so the
    monitoring report and its alerts pick it up. Returns the number of rows written."""
    n = 0
    for r in table.to_dict("records"):
        if r["psi"] is None or not np.isfinite(r["psi"]):
            continue
        record_metric("psi", r["psi"], session=session, model_name=model_name,
                      detail={"feature": r["feature"], "ks_stat": r["ks_stat"],
                              "ks_pvalue": r["ks_pvalue"]})
        n += 1
    return n
