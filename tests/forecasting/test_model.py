"""HorizonForecaster on SYNTHETIC data with known Gaussian noise (tests only)."""

import numpy as np
import pytest
import skops.io as sio

from core.errors import NotTrainedError
from core.forecasting.artifact import SKOPS_TRUSTED, head_record, model_files, restore
from core.forecasting.model import HorizonForecaster, validated_shrink
from core.registry import load_artifact, save_artifact


def synthetic_xy(n, signal, noise=0.01, seed=0):
    """SYNTHETIC features and targets: y = signal * x0 + N(0, noise^2)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = signal * noise * X[:, 0] + rng.normal(scale=noise, size=n)
    return X, y, np.full(n, noise)


@pytest.fixture(scope="module")
def fitted_noise():
    X, y, s = synthetic_xy(3000, signal=0.0)
    m = HorizonForecaster(horizon=1, inner_frac=0.6).fit(X[:1500], y[:1500], s[:1500])
    return m, (X, y, s)


def test_predict_before_fit():
    with pytest.raises(NotTrainedError):
        HorizonForecaster(horizon=1).predict(np.zeros((1, 3)), [0.01])


def test_conformal_coverage_on_synthetic_gaussian_noise(fitted_noise):
    model, (X, y, s) = fitted_noise
    pred = model.predict(X[1500:], s[1500:])
    yt = y[1500:]
    c80 = np.mean((yt >= pred["ensemble-lo-80"]) & (yt <= pred["ensemble-hi-80"]))
    c95 = np.mean((yt >= pred["ensemble-lo-95"]) & (yt <= pred["ensemble-hi-95"]))
    assert abs(c80 - 0.80) < 0.04, c80
    assert abs(c95 - 0.95) < 0.025, c95
    # width matches the known noise: 80% half-width ~ 1.2816 sigma
    assert model.q_[80] == pytest.approx(1.2816, rel=0.15)


def test_no_skill_shrinks_to_the_random_walk(fitted_noise):
    model, (X, y, s) = fitted_noise
    assert model.shrink_ == pytest.approx(1e-4)  # the floor: pure noise has no validated skill
    pred = model.predict(X[1500:], s[1500:])
    yt = y[1500:]
    raw = np.sqrt(np.mean((yt - pred["ensemble_raw"]) ** 2))
    ens = np.sqrt(np.mean((yt - pred["ensemble"]) ** 2))
    naive = np.sqrt(np.mean(yt ** 2))
    assert ens / naive <= 1.0001 < 1.001 < raw / naive
    # the floor keeps the raw ensemble's ranking (hence IC and direction)
    assert np.array_equal(np.sign(pred["ensemble"]), np.sign(pred["ensemble_raw"]))


def test_real_signal_is_kept():
    X, y, s = synthetic_xy(1200, signal=1.0, seed=3)
    m = HorizonForecaster(horizon=1).fit(X, y, s)
    assert m.shrink_ == pytest.approx(0.5)  # capped, clearly significant
    neg = np.tile([1.0, -1.0], 50)
    assert validated_shrink(neg, -neg, 1) == pytest.approx(1e-4)  # negative slope: floor
    assert validated_shrink(neg, -neg, 1, floor=0.0) == 0.0


def synthetic_break(n=2000, seed=7):
    """SYNTHETIC validation pairs: y = 2 e + noise in the first half, pure noise in the
    second (the relation breaks down); the full-sample slope is still clearly positive."""
    rng = np.random.default_rng(seed)
    e = rng.normal(scale=0.01, size=n)
    y = rng.normal(scale=0.01, size=n)
    y[: n // 2] += 2 * e[: n // 2]
    return y, e


def test_shrink_rule_must_validate_forward():
    y, e = synthetic_break()
    assert (y @ e) / (e @ e) > 0.8  # a full-sample fit would keep the signal (capped at 0.5)
    assert validated_shrink(y, e, 1) == pytest.approx(1e-4)
    # the same relation holding in both halves passes the nested check
    y2 = y.copy()
    y2[len(y) // 2:] += 2 * e[len(y) // 2:]
    assert validated_shrink(y2, e, 1) == pytest.approx(0.5)


def test_multi_bar_horizons_ship_the_floor_unless_allowed():
    rng = np.random.default_rng(1)
    e = rng.normal(scale=0.01, size=3000)
    y = e + rng.normal(scale=0.01, size=3000)
    assert validated_shrink(y, e, 5) == pytest.approx(1e-4)
    assert validated_shrink(y, e, 5, max_horizon=None) == pytest.approx(0.5)


def test_registry_round_trip_identical(tmp_path):
    X, y, s = synthetic_xy(900, signal=0.5, seed=5)
    m = HorizonForecaster(horizon=5).fit(X[:700], y[:700], s[:700])
    files = model_files("^TEST", 5, m)
    assert set(sio.get_untrusted_types(data=files["test_h5_random_forest.skops"])) <= set(
        SKOPS_TRUSTED)
    files["heads.json"] = b"{}"
    save_artifact("forecast", files, {"head": head_record(m)}, models_dir=tmp_path)
    art = load_artifact("forecast", models_dir=tmp_path)
    m2 = restore(art.files, "^TEST", 5, art.metadata["head"])
    a = m.predict(X[700:], s[700:])
    b = m2.predict(X[700:], s[700:])
    assert a.equals(b)  # bit-identical after save/load
