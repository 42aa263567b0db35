"""The live loop through the panel's core function on a SYNTHETIC history: N refreshes ->
N bars revealed -> predictions logged once -> outcomes filled from visible bars only ->
monitoring figures equal a hand computation."""

import math

import numpy as np
import pytest

from core.baseline.naive import NAIVE_STD_WINDOW
from core.market import Z80
from core.panel.predictors import DomainPredictor
from core.panel.refresh import refresh_panel
from core.panel.replay import replay_position, replay_tick

START, N = 300, 25


def run_loop(frame, n, dps):
    from core.store import session_scope

    positions = []
    with session_scope() as s:
        for i in range(n):
            md = replay_tick("SYN", frame, session=s, steps=0 if i == 0 else 1,
                             start_bars=START if i == 0 else None)
            res = refresh_panel([md], session=s, predictors=dps)
            assert not res.errors
            positions.append(len(md.frame))
            s.commit()
    return positions


def test_replay_loop_end_to_end(synthetic_frame, fakes):
    from core.monitoring import monitoring_figures
    from core.store import Outcome, PredictionRow, session_scope

    frame = synthetic_frame  # 300 bars
    import pandas as pd

    more = frame.copy()  # extend the synthetic walk to 330 bars
    idx = pd.bdate_range(frame.index[-1] + pd.offsets.BDay(1), periods=30, tz="UTC",
                         name="timestamp")
    rng = np.random.default_rng(7)
    c = frame["close"].iloc[-1] * np.exp(np.cumsum(rng.normal(0, 0.01, 30)))
    ext = pd.DataFrame({"open": c, "high": c * 1.003, "low": c * 0.997, "close": c,
                        "volume": 5000.0}, index=idx)
    frame = pd.concat([more, ext])
    dps = [DomainPredictor("forecast", fakes.momentum_forecast, ("forecast",))]

    positions = run_loop(frame, N, dps)
    assert positions == list(range(START, START + N))  # one bar per refresh
    with session_scope() as s:
        assert replay_position("SYN", "1d", session=s) == START + N - 2  # 0-based
        preds = s.query(PredictionRow).all()
        outs = s.query(Outcome).all()
        rep = monitoring_figures(session=s, window=10)
    # 2 naive + 2 forecast predictions per bar, logged once each
    assert len(preds) == 4 * N
    assert all(p.origin_ts <= frame.index[START + N - 2] for p in preds)
    # outcomes only where the target bar was visible: h=1 -> N-1 origins, h=5 -> N-5
    assert len(outs) == 2 * (N - 1) + 2 * (N - 5)
    assert max(o.realized_ts for o in outs) == frame.index[START + N - 2]

    # hand computation for naive h=1 and the forecast h=1
    close = frame["close"].to_numpy()
    lc = np.log(close)
    origins = np.arange(START - 1, START + N - 2)  # positions with a realised 1-bar target
    realised = lc[origins + 1] - lc[origins]
    half = np.array([Z80 * np.std(np.diff(lc[o - NAIVE_STD_WINDOW:o + 1]), ddof=1)
                     for o in origins])
    g = {(x.model_name, x.horizon): x for x in rep.groups}
    naive = g[("naive", 1)]
    assert naive.n == N and naive.n_realised == N - 1
    assert naive.mae == pytest.approx(np.mean(np.abs(realised)))
    assert naive.baseline_mae == pytest.approx(np.mean(np.abs(realised)))
    assert naive.coverage == pytest.approx(np.mean(np.abs(realised) <= half))
    assert naive.baseline_accuracy == pytest.approx(np.mean(realised > 0))
    fc = g[("forecast", 1)]
    r = np.diff(lc)
    pred = np.array([r[o - 5:o].mean() for o in origins])  # mean of last 5 returns up to o
    assert fc.mae == pytest.approx(np.mean(np.abs(pred - realised)))
    assert fc.directional_accuracy == pytest.approx(np.mean(np.sign(pred) == np.sign(realised)))
    # rolling series: last value = mean over the last 10 outcomes
    assert fc.series["mae"].iloc[-1] == pytest.approx(np.mean(np.abs(pred - realised)[-10:]))
    assert math.isclose(rep.ops["requests"], N)


def test_refresh_is_idempotent_on_the_same_bar(synthetic_frame):
    from core.store import session_scope

    with session_scope() as s:
        md = replay_tick("SYN", synthetic_frame, session=s, steps=0, start_bars=280)
        first = refresh_panel([md], session=s, predictors=[])
        second = refresh_panel([md], session=s, predictors=[])
        md2 = replay_tick("SYN", synthetic_frame, session=s, steps=1)
        third = refresh_panel([md2], session=s, predictors=[])
    assert (first.logged, second.logged, third.logged) == (2, 0, 2)
    assert third.outcomes == 1  # the h=1 prediction of bar 280 met bar 281
    assert len(md2.frame) == 281


def test_replay_stops_at_the_end(synthetic_frame):
    from core.store import session_scope

    with session_scope() as s:
        md = replay_tick("SYN", synthetic_frame, session=s, steps=5, start_bars=298)
    assert len(md.frame) == len(synthetic_frame)
    assert any("end of the history" in n for n in md.notes)


def test_cli_replay_logs_domain_predictions(synthetic_frame, fakes, monkeypatch):
    """`quantdesk replay` (run_replay) logs what the panel shows: its default predictors
    are the naive baseline and the panel's domain predictors."""
    from core.baseline.naive import naive_predictor
    from core.panel import predictors, replay
    from core.store import PredictionRow, session_scope

    monkeypatch.setattr(predictors, "DOMAIN_PREDICTORS", [
        DomainPredictor("forecast", fakes.momentum_forecast, ("forecast",)),
        DomainPredictor("patterns", fakes.pattern_detection, ("patterns-cnn",))])
    monkeypatch.setattr(replay, "DEFAULT_PREDICTORS", (naive_predictor,
                                                       predictors.domain_predictor))
    r = replay.run_replay("SYN", steps=3, start_bars=280, frame=synthetic_frame,
                          with_figures=False)
    assert r.errors == []
    with session_scope() as s:
        names = sorted({p.model_name for p in s.query(PredictionRow).all()})
    assert names == ["forecast", "naive"]  # the horizon-0 detection is not logged
    assert r.logged == 3 * 4
