"""Replay loop end to end on a SYNTHETIC series: N bars replayed -> predictions logged ->
outcomes filled -> monitoring figures equal a hand computation."""

import math

import numpy as np
import pytest
from sqlmodel import select

from core.baseline.naive import naive_predictor
from core.market import Z80
from core.panel.replay import ReplaySource, run_replay
from core.monitoring import Thresholds, monitoring_figures
from core.predictions import Prediction
from core.store import Outcome, PredictionRow, record_metric, session_scope
from tests.pg import both_backends

START, N = 40, 30


def momentum(md):
    """Test predictor: last 1-bar log return as the 1-bar forecast (a directional call)."""
    c = md.frame["close"].to_numpy()
    return [Prediction("mom", "t1", md.symbol, md.interval, "log_return", 1, md.frame.index[-1],
                       float(np.log(c[-1] / c[-2])), latency_ms=250.0)]


def test_replay_source_hides_future(synthetic_frame):
    src = ReplaySource(synthetic_frame, 10)
    assert len(src.frame) == 10 and src.cursor_ts == synthetic_frame.index[9]
    assert src.step() and len(src.frame) == 11
    end = ReplaySource(synthetic_frame, len(synthetic_frame))
    assert end.done and not end.step()


@both_backends
def test_replay_end_to_end_matches_hand_computation(synthetic_frame):
    f = synthetic_frame
    preds = (naive_predictor, momentum)
    r1 = run_replay("SYN", steps=10, start_bars=START, frame=f, predictors=preds)
    r2 = run_replay("SYN", steps=N - 10, frame=f, predictors=preds)  # continues from the cursor
    r3 = run_replay("SYN", steps=0, frame=f, predictors=preds)
    assert r1.position == START - 1 + 10 and r2.position == START - 1 + N == r3.position
    assert r1.logged == 10 * 3 and r2.logged == (N - 10) * 3
    assert r1.outcomes + r2.outcomes == N + (N - 4) + N  # h=1, h=5 (last 4 pending), mom h=1
    lr = np.log(f["close"]).diff()
    origins = range(START - 1, START - 1 + N)
    realised1 = np.array([lr.iloc[o + 1] for o in origins])
    realised5 = np.array([np.log(f["close"].iloc[o + 5] / f["close"].iloc[o])
                          for o in origins if o + 5 <= START - 1 + N])
    half = np.array([Z80 * lr.iloc[o - 19:o + 1].std(ddof=1) for o in origins])
    with session_scope() as s:
        rep = monitoring_figures(session=s, window=10, thresholds=Thresholds(min_n=5))
        assert len(s.exec(select(PredictionRow)).all()) == 3 * N
        assert len(s.exec(select(Outcome)).all()) == 3 * N - 4
    g = {(x.model_name, x.horizon): x for x in rep.groups}
    n1, n5, m = g[("naive", 1)], g[("naive", 5)], g[("mom", 1)]
    assert (n1.n, n1.n_realised, n5.n_realised) == (N, N, N - 4)
    assert n1.mae == pytest.approx(np.abs(realised1).mean())
    assert n1.baseline_mae == pytest.approx(n1.mae)
    assert n1.directional_accuracy is None  # zero forecast makes no directional call
    assert n1.baseline_accuracy == pytest.approx((realised1 > 0).mean())
    assert n1.coverage == pytest.approx((np.abs(realised1) <= half).mean())
    half5 = half[: N - 4] * math.sqrt(5)
    assert n5.coverage == pytest.approx((np.abs(realised5) <= half5).mean())
    assert n5.mae == pytest.approx(np.abs(realised5).mean())
    pred = np.array([lr.iloc[o] for o in origins])
    hits = (np.sign(pred) == np.sign(realised1)).astype(float)
    assert m.directional_accuracy == pytest.approx(hits.mean())
    assert m.mae == pytest.approx(np.abs(pred - realised1).mean())
    assert m.series["accuracy"].iloc[-1] == pytest.approx(hits[-10:].mean())  # rolling window
    assert m.series["baseline_mae"].iloc[-1] == pytest.approx(np.abs(realised1[-10:]).mean())
    assert m.latency_p95 == 250.0
    rules = {a.rule for a in rep.alerts}
    assert "latency" in rules  # 250 ms > 200 ms
    assert ("accuracy" in rules) == (hits[-10:].mean() < 0.5)
    assert rep.to_dict()["groups"][0]["series"]  # JSON-able


@both_backends
def test_ops_alerts_from_counters(synthetic_frame):
    with session_scope() as s:
        for name, v in [("cache_hits", 6), ("cache_misses", 4), ("requests", 10), ("errors", 1)]:
            record_metric(name, v, session=s, model_name="forecast")
        record_metric("psi", 0.35, session=s, model_name="forecast", detail={"feature": "rsi_14"})
        record_metric("psi", 0.05, session=s, model_name="forecast", detail={"feature": "atr_14"})
        rep = monitoring_figures(session=s)
    assert rep.ops["cache_hit_rate"] == pytest.approx(0.6) and rep.ops["error_rate"] == 0.1
    alerts = {(a.rule, a.target) for a in rep.alerts}
    assert ("cache", "cache") in alerts and ("errors", "errors") in alerts
    assert ("drift", "rsi_14") in alerts and ("drift", "atr_14") not in alerts


@both_backends
def test_probability_brier_and_reliability(synthetic_frame):
    f = synthetic_frame.iloc[:60]
    c = f["close"].to_numpy()
    recs = [Prediction("brk", "v", "SYN", "1d", "probability", 1, f.index[i], p,
                       output={"event": "up"}) for i, p in zip(range(30, 40), np.linspace(0.05, 0.95, 10))]
    from core.store import backfill_outcomes, log_predictions

    with session_scope() as s:
        log_predictions(recs, session=s)
        backfill_outcomes(session=s, load_bars=lambda *_: f)
        rep = monitoring_figures(session=s)
    g = rep.groups[0]
    y = np.array([float(c[i + 1] > c[i]) for i in range(30, 40)])
    p = np.linspace(0.05, 0.95, 10)
    assert g.brier == pytest.approx(np.mean((p - y) ** 2))
    assert g.brier_climatology == pytest.approx(y.mean() * (1 - y.mean()))
    assert sum(b["n"] for b in g.reliability) == 10
    assert g.directional_accuracy == pytest.approx(((p >= 0.5) == (y == 1)).mean())


def test_naive_predictor_needs_history(synthetic_frame):
    from core.data import MarketData

    md = MarketData(synthetic_frame.iloc[:15], "SYN", "1d", "test", synthetic_frame.index[14])
    assert naive_predictor(md) == []
    md = MarketData(synthetic_frame.iloc[:30], "SYN", "1d", "test", synthetic_frame.index[29])
    out = naive_predictor(md)
    assert [p.horizon for p in out] == [1, 5] and out[1].upper == pytest.approx(out[0].upper * math.sqrt(5))


@both_backends
def test_failing_predictor_counted_not_fatal(synthetic_frame):
    from core.errors import ModelUnavailableError

    def broken(md):
        raise ModelUnavailableError("weights missing")

    r = run_replay("SYN", steps=4, start_bars=40, frame=synthetic_frame,
                   predictors=(naive_predictor, broken))
    assert r.logged == 8 and r.errors == ["broken: weights missing"] * 4
    with session_scope() as s:
        rep = monitoring_figures(session=s)
    assert rep.ops["requests"] == 8 and rep.ops["errors"] == 4
    assert rep.ops["error_rate"] == 0.5 and "errors" in {a.rule for a in rep.alerts}
