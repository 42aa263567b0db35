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


def test_every_committed_version_loads_with_todays_channels():
    """Rollback safety: versions trained on fewer input channels (the first 54, no wide
    layer) still load and score windows built with the current channel set."""
    from core.data import load_ohlcv
    from core.patterns.cnn import FAMILY, load_cnn
    from core.registry import list_versions

    versions = list_versions(FAMILY)
    assert len(versions) >= 2
    X, _ = windows(load_ohlcv("IBM").frame.tail(200))
    assert X.shape[1] == len(CHANNELS) == 58
    widths = set()
    for v in versions:
        cnn, got = load_cnn(v)
        assert got == v
        P = cnn.predict_proba(X)
        assert P.shape == (len(X), 15) and np.isfinite(P).all()
        widths.add(int(cnn.net_.in_norm.weight.shape[0]))
    assert widths >= {54, 58}


def test_saved_net_has_the_wide_layer_but_not_the_training_only_aux_head():
    from safetensors.torch import load

    model, _ = _tiny_model()
    sd = load(model.to_files()["weights.safetensors"])
    assert "wide.weight" in sd and sd["wide.weight"].shape == (15, 36 * 15 * 5)
    assert not any(k.startswith("aux") for k in sd)
    assert sd["head.2.weight"].shape == (15, 128)  # 15 sigmoid outputs


def test_resampled_bars_aggregate_real_bars():
    from core.patterns.cnn import resampled

    f = synthetic_ohlcv(11, seed=4)  # SYNTHETIC series
    g = resampled(f, 3, phase=2)  # bars 2-4, 5-7, 8-10
    assert len(g) == 3 and list(g.index) == [f.index[4], f.index[7], f.index[10]]
    assert g["open"].iloc[0] == f["open"].iloc[2] and g["close"].iloc[0] == f["close"].iloc[4]
    assert g["high"].iloc[1] == f["high"].iloc[5:8].max()
    assert g["low"].iloc[2] == f["low"].iloc[8:11].min()
    assert g["volume"].iloc[0] == f["volume"].iloc[2:5].sum()
    assert ((g["high"] >= g[["open", "close"]].max(axis=1))
            & (g["low"] <= g[["open", "close"]].min(axis=1))).all()
