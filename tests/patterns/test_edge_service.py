"""Edge table verdicts on SYNTHETIC data and the live-panel predictions."""

import numpy as np
import pandas as pd

from tests.conftest import synthetic_ohlcv
from core.patterns.edge import edge_display, edge_table
from core.patterns.rules import PATTERNS, Detections


def _det(frame, hit_rows, pattern="hammer", direction=1):
    hits = pd.DataFrame(False, index=frame.index, columns=list(PATTERNS))
    hits.iloc[hit_rows, hits.columns.get_loc(pattern)] = True
    dirs = pd.DataFrame(0, index=frame.index, columns=list(PATTERNS), dtype="int8")
    dirs[pattern] = np.where(hits[pattern], direction, 0).astype("int8")
    return Detections(hits, dirs, hits.astype(float))


def test_edge_detected_when_returns_follow_the_pattern():
    f = synthetic_ohlcv(800, seed=5)
    fwd5 = np.log(f["close"]).shift(-5) - np.log(f["close"])
    rows = np.flatnonzero((fwd5 > 0.02).to_numpy())[:60]  # hits placed with hindsight
    t = edge_table(f, _det(f, rows), n_boot=500)
    assert t.loc["hammer", "edge_5"]
    assert t.loc["hammer", "verdict"].startswith("better than base")
    assert t.loc["hammer", "ret_lo_5"] > t.loc["hammer", "base_ret_5"]


def test_no_measurable_edge_for_random_hits():
    f = synthetic_ohlcv(1500, seed=7)
    rows = np.random.default_rng(1).choice(np.arange(30, 1400), 80, replace=False)
    t = edge_table(f, _det(f, rows), n_boot=500)
    assert t.loc["hammer", "verdict"] == "no measurable edge"
    assert t.loc["doji", "verdict"] == "too few cases"
    shown = edge_display(t)
    assert shown.loc["hammer", "Verdict"] == "no measurable edge"
    assert "Return 5b [%]" in shown.columns


def test_bearish_pattern_counts_a_fall_as_success():
    f = synthetic_ohlcv(800, seed=5)
    fwd1 = np.log(f["close"]).shift(-1) - np.log(f["close"])
    rows = np.flatnonzero((fwd1 < -0.01).to_numpy())[:40]
    t = edge_table(f, _det(f, rows, "shooting_star", -1), n_boot=300)
    assert t.loc["shooting_star", "hit_1"] == 1.0
    assert t.loc["shooting_star", "ret_1"] > 0


def test_predict_latest_uses_committed_models():
    from core.data import load_ohlcv
    from core.patterns.serve import predict_latest

    md = load_ohlcv("MSFT")
    md.frame = md.frame.tail(400)
    preds = predict_latest(md)
    names = [p.model_name for p in preds]
    assert "patterns-cnn" in names
    p = preds[names.index("patterns-cnn")]
    assert p.kind == "probability" and 0 <= p.value <= 1
    assert p.output["event"] in PATTERNS and p.origin_ts == md.frame.index[-1]


def test_breakout_prediction_on_a_breakout_bar():
    """Cut the series at a real breakout bar: the prediction carries the full output."""
    from core.data import load_ohlcv
    from core.patterns.breakouts import find_levels
    from core.patterns.serve import breakout_prediction, load_breakout_model

    md = load_ohlcv("IBM")
    f = md.frame.tail(600)
    ev = find_levels(f).events
    cut = ev.index[ev.to_numpy() != 0][-1]
    md.frame = f.loc[:cut]
    bm = load_breakout_model()
    p = breakout_prediction(md, bm)
    assert p is not None and p.model_name == "breakout" and 0 <= p.value <= 1
    assert p.output["direction"] in ("UP", "DOWN")
    for key in ("target_price", "stop_price", "risk_score", "level", "skill"):
        assert key in p.output
    if not bm.skill:
        assert p.confidence is None  # no confidence is claimed for an unskilled filter
