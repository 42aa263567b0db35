"""Pattern CNN: shapes, no lookahead in windows, NotTrainedError, save/load round trip."""

import numpy as np
import pytest

from tests.conftest import synthetic_ohlcv
from core.errors import InsufficientDataError, NotTrainedError
from core.patterns.cnn import (CHANNELS, WINDOW, PatternCNN, bar_features, labels,
                               per_pattern_scores, windows)
from core.patterns.rules import PATTERNS


def _tiny_model():
    f = synthetic_ohlcv(200, seed=3)  # SYNTHETIC series
    X, _ = windows(f)
    Y = labels(f)
    return PatternCNN(epochs=1, batch_size=64, threads=1).fit(X, Y), X


def test_windows_shape_and_causality():
    f = synthetic_ohlcv(120, seed=1)
    X, idx = windows(f)
    assert X.shape == (120 - WINDOW + 1, len(CHANNELS), WINDOW) and X.dtype == np.float32
    assert idx[0] == f.index[WINDOW - 1] and idx[-1] == f.index[-1]
    # a window depends only on its own bars: changing a later bar leaves it unchanged
    g = f.copy()
    g.iloc[-1, g.columns.get_loc("close")] *= 1.05
    g.iloc[-1, g.columns.get_loc("high")] *= 1.05
    X2, _ = windows(g)
    np.testing.assert_array_equal(X[:-1], X2[:-1])


def test_channels_are_scale_free_and_encode_the_rule_geometry():
    f = synthetic_ohlcv(150, seed=2)  # SYNTHETIC series
    F = bar_features(f)
    g = f.copy()
    g[["open", "high", "low", "close"]] *= 37.0  # same candles at another price level
    np.testing.assert_allclose(bar_features(g), F, atol=1e-4)
    assert np.isfinite(F).all() and F.shape == (150, len(CHANNELS))
    # channel "abs_body" is |close-open| / mean range of the 10 bars before: doji <= 0.1
    k = CHANNELS.index("abs_body")
    i = 100
    rng = (f["high"] - f["low"]).iloc[i - 10:i].mean()
    assert F[i, k] == pytest.approx(abs(f["close"].iloc[i] - f["open"].iloc[i]) / rng, rel=1e-5)
    # the trend channel is the rules' trend strength
    from core.patterns.rules import trend_strength

    t = CHANNELS.index("trend")
    assert F[i, t] == pytest.approx(trend_strength(f).iloc[i], rel=1e-5)


def test_windows_too_short():
    with pytest.raises(InsufficientDataError):
        windows(synthetic_ohlcv(10))


def test_predict_before_fit_raises():
    with pytest.raises(NotTrainedError):
        PatternCNN().predict_proba(np.zeros((1, len(CHANNELS), WINDOW), dtype="float32"))


def test_save_load_roundtrip_identical(tmp_path):
    from core.registry import load_artifact, save_artifact

    model, X = _tiny_model()
    model.thresholds_[3] = 0.35
    art = save_artifact("patterns-cnn", model.to_files(), {"test": True}, models_dir=tmp_path)
    assert "weights.safetensors" in art.files
    back = PatternCNN.from_files(load_artifact("patterns-cnn", models_dir=tmp_path).files)
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(back.thresholds_, model.thresholds_)
    assert back.predict_proba(X).shape == (len(X), len(PATTERNS))


def test_per_pattern_scores_gate():
    Y = np.zeros((100, len(PATTERNS)), dtype=bool)
    Y[:40, 0] = True
    Y[:5, 1] = True
    Yhat = Y.copy()
    Yhat[:20, 0] = False  # recall 0.5 on pattern 0
    res = per_pattern_scores(Y, Yhat, min_cases=30)
    assert res["n_gated"] == 1
    assert res["macro_f1_gated"] == pytest.approx(2 * 20 / (2 * 20 + 20))
    assert res["patterns"][1]["f1"] == 1.0 and not res["patterns"][1]["gated"]


def test_committed_artifact_loads_and_scores():
    from core.patterns.cnn import load_cnn
    from core.data import load_ohlcv

    cnn, version = load_cnn()
    f = load_ohlcv("IBM").frame.tail(300)  # a held-out symbol
    X, _ = windows(f)
    P = cnn.predict_proba(X)
    assert P.shape == (len(X), 15) and np.isfinite(P).all()
    # the CNN agrees with the rules on most held-out doji calls
    Y = labels(f)[:, 0].astype(bool)
    yhat = P[:, 0] >= cnn.thresholds_[0]
    assert (Y == yhat).mean() > 0.8
