import numpy as np
import pandas as pd
import pytest

from core.errors import NotTrainedError
from core.registry import load_artifact, save_artifact
from core.evaluation import wilson_ci as wilson
from core.risk.signal_quality import (FEATURES, TRUSTED, SignalQualityScorer, panel,
                                      signal_features)


@pytest.fixture(scope="module")
def data(synth):
    """SYNTHETIC panel (tests only)."""
    return panel({"SYN1": synth(500, seed=21), "SYN2": synth(500, seed=22)})


def test_labels_and_features(data):
    assert set(data["y"].unique()) <= {0.0, 1.0}
    assert set(data["side"].unique()) <= {-1.0, 1.0}
    assert list(data.columns[: len(FEATURES)]) == list(FEATURES)


def test_features_are_causal(synth):
    f = synth(500, seed=23)
    pd.testing.assert_frame_equal(signal_features(f).iloc[:400], signal_features(f.iloc[:400]))


def test_skops_roundtrip_with_trusted_list(data, tmp_path):
    with pytest.raises(NotTrainedError):
        SignalQualityScorer().predict_proba(data)
    m = SignalQualityScorer(n_estimators=10).fit(data, data["y"])
    save_artifact("signal-quality", m.to_files(), {"base_rate": m.base_rate_},
                  models_dir=tmp_path)
    art = load_artifact("signal-quality", models_dir=tmp_path)
    again = SignalQualityScorer.from_files(art.files, art.metadata)
    np.testing.assert_array_equal(m.predict_proba(data), again.predict_proba(data))
    assert set(m.decide([0.61, 0.6, 0.2])) == {"EXECUTE", "SKIP"}
    assert list(m.decide([0.61, 0.6])) == ["EXECUTE", "SKIP"]
    assert "sklearn.ensemble._forest.RandomForestClassifier" in TRUSTED


def test_wilson_interval():
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
