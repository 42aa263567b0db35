"""Monitoring figures computed from the store (predictions joined with outcomes, metric
snapshots), per model family / version / kind / horizon.

Definitions (all on *realised* predictions unless stated):

* ``mae``: mean |value - realised| in the prediction's unit (log return, variance...).
* ``baseline_mae`` (return kinds): MAE of the naive zero-return forecast, mean |realised|.
* ``directional_accuracy``: share of hits among predictions that made a directional call
  (value != 0); ``baseline_accuracy``: share of realised > 0, i.e. the naive "always up"
  call (the zero-return forecast itself makes no call).
* ``coverage``: share of realised values inside [lower, upper] (nominal 80%).
* ``brier`` (probability kinds): mean (p - y)^2 (Brier 1950); ``brier_climatology``: the
  Brier score of always predicting the observed base rate, ``y_bar (1 - y_bar)`` (in-sample
  reference); ``reliability``: 10 equal-width bins of p with mean p, observed frequency and
  count (calibration curve as in scikit-learn's ``calibration_curve``).
* ``latency_p50/p95`` [ms]: over all logged predictions of the group.
* Time series: rolling means over the last ``window`` realised predictions, indexed by
  ``origin_ts``.
* Operations (from ``metric_snapshots`` counters): ``error_rate = errors / requests``,
  ``cache_hit_rate = cache_hits / (cache_hits + cache_misses)``.

Alerts (:class:`Thresholds`): latency p95 > 200 ms, rolling directional accuracy below the
configured floor (after ``min_n`` calls), cache hit rate < 0.7, error rate > 5 %, PSI > 0.2
(latest ``psi`` snapshot per feature, or a drift table passed in).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from core.store.db import to_utc, utcnow
from core.store.tables import MetricSnapshot, Outcome, PredictionRow

RETURN_KINDS = ("log_return",)
GROUP_KEYS = ["model_name", "model_version", "kind", "event", "horizon"]


@dataclass(frozen=True)
class Thresholds:
    """Alert rules (the specification's defaults)."""

    latency_ms: float = 200.0
    accuracy_floor: float = 0.5
    min_n: int = 20
    cache_hit_rate: float = 0.7
    error_rate: float = 0.05
    psi: float = 0.2


@dataclass
class Alert:
    """One firing alert rule: ``rule`` in latency | accuracy | cache | errors | drift."""

    rule: str
    level: str
    message: str
    target: str
    value: float
    threshold: float


@dataclass
class GroupFigures:
    """Figures of one (model_name, model_version, kind, event, horizon) group."""

    model_name: str
    model_version: str
    kind: str
    event: str | None
    horizon: int
    n: int
    n_realised: int
    mae: float | None = None
    baseline_mae: float | None = None
    directional_accuracy: float | None = None
    n_directional: int = 0
    baseline_accuracy: float | None = None
    coverage: float | None = None
    n_interval: int = 0
    brier: float | None = None
    brier_climatology: float | None = None
    reliability: list[dict] = field(default_factory=list)
    latency_p50: float | None = None
    latency_p95: float | None = None
    series: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def label(self) -> str:
        kind = f"{self.kind}:{self.event}" if self.event else self.kind
        return f"{self.model_name} {self.model_version} {kind} h={self.horizon}"

    def to_dict(self, with_series: bool = True) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "series"}
        if with_series:
            s = self.series.reset_index()
            d["series"] = [{k: (v.isoformat() if isinstance(v, pd.Timestamp) else _num(v))
                            for k, v in r.items()} for r in s.to_dict("records")]
        return {k: _num(v) for k, v in d.items()}


@dataclass
class MonitoringReport:
    """Everything the Model Monitoring page and ``quantdesk monitor --json`` show."""

    generated_at: dt.datetime
    window: int
    groups: list[GroupFigures]
    volume: pd.DataFrame
    ops: dict
    alerts: list[Alert]
    drift: pd.DataFrame | None = None

    def to_dict(self, with_series: bool = True) -> dict:
        return {
            "generated_at": self.generated_at.isoformat(), "window": self.window,
            "groups": [g.to_dict(with_series) for g in self.groups],
            "volume": [{"date": str(r["date"]), "model_name": r["model_name"], "n": int(r["n"])}
                       for r in self.volume.to_dict("records")],
            "ops": {k: _num(v) for k, v in self.ops.items()},
            "alerts": [asdict(a) for a in self.alerts],
            "drift": None if self.drift is None else [
                {k: _num(v) for k, v in r.items()} for r in self.drift.to_dict("records")],
        }


def _num(v):
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _opt(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def prediction_frame(*, session: Session, model_name: str | None = None,
                     symbol: str | None = None, since=None) -> pd.DataFrame:
    """Predictions left-joined with outcomes as a DataFrame (one row per prediction).

    Columns: id, model_name, model_version, symbol, interval, kind, event, horizon,
    origin_ts, target_ts, value, lower, upper, confidence, latency_ms, created_at, realized,
    error, hit, covered (NaN/None where not realised yet).
    """
    P, O = PredictionRow, Outcome
    stmt = (sa.select(P.id, P.model_name, P.model_version, P.symbol, P.interval, P.kind,
                      P.output, P.horizon, P.origin_ts, P.target_ts, P.value, P.lower, P.upper,
                      P.confidence, P.latency_ms, P.created_at, O.realized, O.error, O.hit,
                      O.covered)
            .outerjoin(O, O.prediction_id == P.id).order_by(P.origin_ts, P.id))
    if model_name:
        stmt = stmt.where(P.model_name == model_name)
    if symbol:
        stmt = stmt.where(P.symbol == symbol.upper())
    if since is not None:
        stmt = stmt.where(P.origin_ts >= to_utc(since))
    rows = session.execute(stmt).all()
    cols = ["id", "model_name", "model_version", "symbol", "interval", "kind", "output",
            "horizon", "origin_ts", "target_ts", "value", "lower", "upper", "confidence",
            "latency_ms", "created_at", "realized", "error", "hit", "covered"]
    df = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    df["event"] = [(o or {}).get("event") if k == "probability" else None
                   for o, k in zip(df["output"], df["kind"])]
    df = df.drop(columns="output")
    for c in ("value", "lower", "upper", "confidence", "latency_ms", "realized", "error"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    for c in ("hit", "covered"):
        df[c] = df[c].map(lambda v: np.nan if v is None else float(v)).astype("float64")
    for c in ("origin_ts", "target_ts", "created_at"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def _group_figures(key: tuple, g: pd.DataFrame, window: int) -> GroupFigures:
    model_name, model_version, kind, event, horizon = key
    r = g[g["realized"].notna()].sort_values(["origin_ts", "id"])
    lat = g["latency_ms"].dropna()
    out = GroupFigures(model_name, model_version, kind, event, int(horizon), n=len(g),
                       n_realised=len(r))
    if len(lat):
        out.latency_p50 = float(np.percentile(lat, 50))
        out.latency_p95 = float(np.percentile(lat, 95))
    if r.empty:
        return out
    abs_err = r["error"].abs()
    out.mae = float(abs_err.mean())
    series = pd.DataFrame(index=pd.DatetimeIndex(r["origin_ts"], name="origin_ts"))
    roll = lambda s: s.rolling(window, min_periods=1).mean().to_numpy()  # noqa: E731
    series["mae"] = roll(abs_err)
    hits = r["hit"]
    if hits.notna().any():
        out.directional_accuracy = float(hits.mean())
        out.n_directional = int(hits.notna().sum())
        series["accuracy"] = roll(hits)
    cov = r["covered"]
    if cov.notna().any():
        out.coverage = float(cov.mean())
        out.n_interval = int(cov.notna().sum())
        series["coverage"] = roll(cov)
    if kind in RETURN_KINDS:
        base_err = r["realized"].abs()
        up = (r["realized"] > 0).astype("float64")
        out.baseline_mae = float(base_err.mean())
        out.baseline_accuracy = float(up.mean())
        series["baseline_mae"] = roll(base_err)
        series["baseline_accuracy"] = roll(up)
    if kind == "probability":
        p, y = r["value"].clip(0, 1), r["realized"]
        sq = (p - y) ** 2
        out.brier = float(sq.mean())
        ybar = float(y.mean())
        out.brier_climatology = ybar * (1 - ybar)
        series["brier"] = roll(sq)
        bins = np.minimum((p.to_numpy() * 10).astype(int), 9)
        for b in range(10):
            m = bins == b
            if m.any():
                out.reliability.append({"bin_lo": b / 10, "bin_hi": (b + 1) / 10,
                                        "mean_predicted": float(p[m].mean()),
                                        "observed": float(y[m].mean()), "n": int(m.sum())})
    out.series = series
    return out


def _ops(session: Session, model_name: str | None) -> tuple[dict, pd.DataFrame]:
    stmt = select(MetricSnapshot)
    if model_name:
        stmt = stmt.where(MetricSnapshot.model_name == model_name)
    snaps = session.exec(stmt).all()
    sums: dict[str, float] = {}
    psi_rows: dict[tuple, MetricSnapshot] = {}
    for s in snaps:
        sums[s.name] = sums.get(s.name, 0.0) + s.value
        if s.name == "psi":
            k = (s.model_name, (s.detail or {}).get("feature", "?"))
            if k not in psi_rows or (s.ts, s.id) > (psi_rows[k].ts, psi_rows[k].id):
                psi_rows[k] = s
    req, err = sums.get("requests", 0.0), sums.get("errors", 0.0)
    hits, misses = sums.get("cache_hits", 0.0), sums.get("cache_misses", 0.0)
    ops = {"requests": req, "errors": err, "cache_hits": hits, "cache_misses": misses,
           "error_rate": err / req if req > 0 else None,
           "cache_hit_rate": hits / (hits + misses) if hits + misses > 0 else None}
    psi = pd.DataFrame([{"model_name": k[0], "feature": k[1], "psi": s.value,
                         "ts": s.ts} for k, s in psi_rows.items()])
    return ops, psi


def monitoring_figures(*, session: Session, model_name: str | None = None, window: int = 50,
                       symbol: str | None = None, since=None,
                       thresholds: Thresholds = Thresholds(),
                       drift: pd.DataFrame | None = None) -> MonitoringReport:
    """All monitoring figures and alerts (see the module docstring for definitions).

    Args:
        session: store session. model_name: one family (default all). symbol: one symbol.
        window: realised predictions per rolling mean (>= 1).
        since: only predictions with origin_ts >= since.
        thresholds: alert rules.
        drift: optional table with columns ``feature``, ``psi`` (and ``ks_pvalue``) from
            :func:`core.monitoring.drift.drift_table`; otherwise the latest ``psi`` metric
            snapshots are used.

    Returns:
        :class:`MonitoringReport` (``to_dict()`` for JSON).
    """
    if window < 1:
        raise ValueError("window must be >= 1")
    df = prediction_frame(session=session, model_name=model_name, symbol=symbol, since=since)
    groups = []
    if not df.empty:
        keyed = df.assign(event=df["event"].fillna(""))
        for key, g in keyed.groupby(GROUP_KEYS, sort=True):
            key = tuple(k if k != "" else None for k in key)
            groups.append(_group_figures(key, g, window))
    if df.empty:
        volume = pd.DataFrame(columns=["date", "model_name", "n"])
    else:
        volume = (df.assign(date=df["origin_ts"].dt.date).groupby(["date", "model_name"])
                  .size().rename("n").reset_index())
    ops, psi = _ops(session, model_name)
    if drift is None and not psi.empty:
        drift = psi
    alerts = _alerts(groups, ops, drift, thresholds, window)
    return MonitoringReport(utcnow(), window, groups, volume, ops, alerts, drift)


def _alerts(groups, ops, drift, th: Thresholds, window: int) -> list[Alert]:
    out = []
    for g in groups:
        if g.latency_p95 is not None and g.latency_p95 > th.latency_ms:
            out.append(Alert("latency", "warning",
                             f"{g.label}: latency p95 {g.latency_p95:.0f} ms > {th.latency_ms:.0f} ms",
                             g.label, g.latency_p95, th.latency_ms))
        if g.n_directional >= th.min_n and "accuracy" in g.series:
            recent = float(g.series["accuracy"].iloc[-1])
            if recent < th.accuracy_floor:
                out.append(Alert("accuracy", "critical",
                                 f"{g.label}: directional accuracy over the last {window} "
                                 f"outcomes {recent:.1%} < floor {th.accuracy_floor:.0%}",
                                 g.label, recent, th.accuracy_floor))
    if ops.get("cache_hit_rate") is not None and ops["cache_hit_rate"] < th.cache_hit_rate:
        out.append(Alert("cache", "warning",
                         f"cache hit rate {ops['cache_hit_rate']:.0%} < {th.cache_hit_rate:.0%}",
                         "cache", ops["cache_hit_rate"], th.cache_hit_rate))
    if ops.get("error_rate") is not None and ops["error_rate"] > th.error_rate:
        out.append(Alert("errors", "critical",
                         f"error rate {ops['error_rate']:.1%} > {th.error_rate:.0%}",
                         "errors", ops["error_rate"], th.error_rate))
    if drift is not None and not drift.empty:
        for r in drift.to_dict("records"):
            if r.get("psi") is not None and np.isfinite(r["psi"]) and r["psi"] > th.psi:
                out.append(Alert("drift", "warning",
                                 f"feature {r['feature']}: PSI {r['psi']:.2f} > {th.psi}",
                                 str(r["feature"]), float(r["psi"]), th.psi))
    return out


def summary_rows(*, session: Session, symbol: str | None = None,
                 model_name: str | None = None) -> list[dict]:
    """One compact dict per group (no time series): for CLI output and the overview."""
    rep = monitoring_figures(session=session, symbol=symbol, model_name=model_name)
    keys = ("model_name", "model_version", "kind", "event", "horizon", "n", "n_realised", "mae",
            "baseline_mae", "directional_accuracy", "baseline_accuracy", "coverage", "brier",
            "latency_p50", "latency_p95")
    return [{k: v for k, v in g.to_dict(with_series=False).items() if k in keys}
            for g in rep.groups]
