"""Champion/challenger (A/B) tests of two versions of one model family.

* :func:`route` sends a deterministic share of (symbol, bar) pairs to the challenger: the
  first 8 bytes of ``sha256(salt|SYMBOL|origin_ts)`` read as a fraction of 2**64 below
  ``share`` -> ``"challenger"``. The same pair always gets the same arm, in every process.
* Both versions are logged for every pair (so they can be compared on the same bars); the
  route only decides which prediction is *served*.
* :func:`compare` pairs the realised outcomes of the two versions on the same
  symbol/interval/kind/horizon/origin and tests the difference:

  - losses: Diebold-Mariano test on squared errors (Diebold & Mariano, "Comparing
    predictive accuracy", JBES 13(3), 1995) with the Harvey, Leybourne & Newbold (1997,
    IJF 13(2)) small-sample correction and a Student-t(n-1) reference; autocovariances up
    to lag h-1 for h-bar forecasts (rectangular kernel, as in the DM paper);
  - hits: two-proportion z-test on directional hit rates (pooled variance; e.g. Agresti,
    *Categorical Data Analysis*, 3rd ed., 2013; same as statsmodels ``proportions_ztest``).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, QuantdeskError
from core.evaluation import diebold_mariano as dm_test
from core.monitoring.figures import prediction_frame
from core.store import ABTest, audit, utcnow

CHAMPION, CHALLENGER = "champion", "challenger"


def route(symbol: str, origin_ts, share: float, salt: str = "") -> str:
    """``"challenger"`` for about ``share`` of (symbol, bar) pairs, else ``"champion"``.

    Args:
        symbol: ticker (case-insensitive). origin_ts: the bar (any timestamp-like; UTC).
        share: challenger fraction in [0, 1]. salt: experiment name, so different tests
            split differently.

    Raises:
        ValueError: share outside [0, 1].
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    ts = pd.Timestamp(origin_ts)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    key = f"{salt}|{symbol.strip().upper()}|{ts.isoformat()}".encode()
    frac = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2 ** 64
    return CHALLENGER if frac < share else CHAMPION


@dataclass
class TestResult:
    """A test statistic and its two-sided p-value."""

    statistic: float
    p_value: float


def diebold_mariano(e1, e2, horizon: int = 1) -> TestResult:
    """DM test of equal squared-error loss, HLN-corrected; positive statistic = model 1
    (champion) has the larger loss, i.e. model 2 is better. A thin wrapper over
    :func:`core.evaluation.diebold_mariano` (Newey-West variance, lag h-1, t(n-1)).

    Args:
        e1, e2: forecast errors of the two models on the same targets (1-D, same length).
        horizon: forecast horizon h in bars.

    Raises:
        InsufficientDataError: fewer than 3 pairs.
    """
    e1, e2 = np.asarray(e1, "float64"), np.asarray(e2, "float64")
    if e1.shape != e2.shape:
        raise ValueError("e1 and e2 must have the same length")
    if e1.size < 3:
        raise InsufficientDataError(
            f"Diebold-Mariano needs at least 3 paired outcomes, got {e1.size}.")
    res = dm_test(e1, e2, horizon)
    return TestResult(res.statistic, res.pvalue)


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> TestResult:
    """Pooled two-proportion z-test of ``k1/n1`` vs ``k2/n2`` (statistic > 0: first higher).

    Raises:
        InsufficientDataError: an empty sample.
    """
    from scipy import stats

    if n1 <= 0 or n2 <= 0:
        raise InsufficientDataError("Both arms need at least one directional outcome.")
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return TestResult(float("nan"), float("nan"))
    z = (k1 / n1 - k2 / n2) / se
    return TestResult(float(z), float(2 * stats.norm.sf(abs(z))))


@dataclass
class ABComparison:
    """Champion vs challenger on paired realised outcomes (units of the prediction)."""

    family: str
    champion_version: str
    challenger_version: str
    horizon: int | None
    n_pairs: int
    champion_mse: float | None
    challenger_mse: float | None
    dm: TestResult | None
    champion_hit_rate: float | None
    challenger_hit_rate: float | None
    hits_z: TestResult | None
    verdict: str

    def to_dict(self) -> dict:
        return asdict(self)


def compare(*, session, family: str, champion_version: str, challenger_version: str,
            horizon: int | None = None, kind: str | None = None,
            alpha: float = 0.05) -> ABComparison:
    """Compare two versions of ``family`` on the outcomes both have (same symbol, interval,
    kind, horizon and origin bar).

    Raises:
        InsufficientDataError: fewer than 3 paired outcomes (the message says how many).
    """
    df = prediction_frame(session=session, model_name=family)
    df = df[df["realized"].notna()]
    if horizon is not None:
        df = df[df["horizon"] == horizon]
    if kind is not None:
        df = df[df["kind"] == kind]
    key = ["symbol", "interval", "kind", "horizon", "origin_ts"]
    a = df[df["model_version"] == champion_version].set_index(key)
    b = df[df["model_version"] == challenger_version].set_index(key)
    both = a[["error", "hit"]].join(b[["error", "hit"]], how="inner", lsuffix="_a", rsuffix="_b")
    n = len(both)
    if n < 3:
        raise InsufficientDataError(
            f"Only {n} outcomes are shared by {family} {champion_version} and "
            f"{challenger_version}; log both versions on the same bars and wait for outcomes.")
    h = int(both.index.get_level_values("horizon").max())
    dm = diebold_mariano(both["error_a"], both["error_b"], horizon=h)
    mse_a, mse_b = float((both["error_a"] ** 2).mean()), float((both["error_b"] ** 2).mean())
    ha, hb = both["hit_a"].dropna(), both["hit_b"].dropna()
    hz = None
    if len(ha) and len(hb):
        hz = two_proportion_z(int(hb.sum()), len(hb), int(ha.sum()), len(ha))
    if dm.p_value == dm.p_value and dm.p_value < alpha:
        better = "challenger" if dm.statistic > 0 else "champion"
        verdict = (f"The {better} has a significantly lower squared error "
                   f"(DM {dm.statistic:+.2f}, p = {dm.p_value:.3f}, {n} pairs).")
    else:
        verdict = (f"No significant difference in squared error between champion and "
                   f"challenger (p = {dm.p_value:.3f}, {n} pairs); keep the champion.")
    return ABComparison(family, champion_version, challenger_version, horizon, n, mse_a, mse_b,
                        dm, float(ha.mean()) if len(ha) else None,
                        float(hb.mean()) if len(hb) else None, hz, verdict)


def start_ab_test(name: str, family: str, champion_version: str, challenger_version: str, *,
                  share: float, who: str, session, salt: str | None = None):
    """Record a running A/B test (audited). Raises QuantdeskError when one runs already
    for ``family`` or the name is taken; ValueError for a share outside [0, 1]."""
    from sqlmodel import select

    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    if session.exec(select(ABTest).where(ABTest.family == family,
                                         ABTest.status == "running")).first():
        raise QuantdeskError(f"An A/B test of {family} is already running; stop it first.")
    if session.exec(select(ABTest).where(ABTest.name == name)).first():
        raise QuantdeskError(f"An A/B test named {name!r} exists; choose another name.")
    row = ABTest(name=name, family=family, champion_version=champion_version,
                 challenger_version=challenger_version, share=share, salt=salt or name)
    session.add(row)
    session.flush()
    audit(who, "ab_start", family, {"name": name, "champion": champion_version,
                                    "challenger": challenger_version, "share": share},
          session=session)
    return row


def running_ab_test(family: str, *, session):
    """The running A/B test of ``family``, or None."""
    from sqlmodel import select

    return session.exec(select(ABTest).where(ABTest.family == family,
                                             ABTest.status == "running")).first()


def stop_ab_test(name: str, *, who: str, session, result: dict | None = None):
    """Stop a running test, storing ``result`` (e.g. ``compare(...).to_dict()``); audited."""
    from sqlmodel import select

    row = session.exec(select(ABTest).where(ABTest.name == name)).first()
    if row is None or row.status != "running":
        raise QuantdeskError(f"No running A/B test named {name!r}.")
    row.status, row.stopped_at, row.result = "stopped", utcnow(), result or {}
    session.add(row)
    session.flush()
    audit(who, "ab_stop", row.family, {"name": name}, session=session)
    return row
