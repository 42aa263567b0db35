"""The pooled ML volatility model for symbols without their own parameters: scale-free
inputs, no lookahead, persistence, the serving path and its fallbacks (SYNTHETIC data)."""

import numpy as np
import pandas as pd
import pytest

from core.volatility import pooled
from core.volatility.evaluate import rolling_forecasts
from core.volatility.ml import ml_features

H = (1, 5)


def _scaled(frame: pd.DataFrame, k: float) -> pd.DataFrame:
    """Log prices times ``k``: every log return and range times ``k``, variances times k²."""
    return np.exp(np.log(frame[["open", "high", "low", "close"]]) * k).assign(
        volume=frame["volume"])


def _base(frame: pd.DataFrame, h: int) -> pd.DataFrame:
    from core.volatility.api import base_paths

    return base_paths(frame, h)


def test_pooled_features_are_scale_free_unlike_the_level_feature(synthetic_ohlcv):
    f = synthetic_ohlcv(700, seed=1)
    g = _scaled(f, 3.0)
    b = _base(f, 5)
    x1 = pooled.pooled_features(f, b, 5)
    x2 = pooled.pooled_features(g, b * 9.0, 5)  # same forecasts in the scaled units
    assert list(x1.columns) == pooled.POOL_FEATURES and "log_g" not in x1
    ok = x1.notna().all(axis=1)
    assert ok.sum() > 300
    np.testing.assert_allclose(x1[ok].to_numpy(), x2[ok].to_numpy(), rtol=1e-7, atol=1e-7)
    # the per-symbol model's level feature is not: it moves by log 9
    d = ml_features(g, b * 9.0, 5)["log_g"] - ml_features(f, b, 5)["log_g"]
    np.testing.assert_allclose(d.dropna(), np.log(9.0), rtol=1e-9)


def test_pooled_features_use_no_later_bars(synthetic_ohlcv):
    f = synthetic_ohlcv(700, seed=2)
    b = _base(f, 1)
    t = 500
    g = f.copy()
    g.iloc[t + 1:, :4] *= 1.7  # alter every later bar
    x1, x2 = pooled.pooled_features(f, b, 1), pooled.pooled_features(g, b, 1)
    pd.testing.assert_frame_equal(x1.iloc[:t + 1], x2.iloc[:t + 1])


@pytest.fixture(scope="module")
def tiny_pool():
    """Three SYNTHETIC symbols, their out-of-sample base forecasts and pooled models."""
    from tests.conftest import synthetic_ohlcv

    frames = {f"SYN{i}": synthetic_ohlcv(950, seed=10 + i, start="2010-01-01")
              for i in range(3)}
    bases = {s: rolling_forecasts(f, H, min_train=300, ml_start=650, ml_refit=10**9).bases
             for s, f in frames.items()}
    rows = {h: {s: pooled.training_rows(frames[s], bases[s][h], h) for s in frames}
            for h in H}
    fitted = {h: pooled.fit_pooled(rows[h], h) for h in H}
    return frames, bases, rows, {h: m for h, (m, _) in fitted.items()}, \
        {h: i for h, (_, i) in fitted.items()}


def test_fit_pooled_calibrates_on_held_out_symbols(tiny_pool):
    frames, _, rows, models, info = tiny_pool
    for h in H:
        assert info[h]["calibration"] == "held-out symbols"
        assert info[h]["n_calibration"] == sum(len(r) for r in rows[h].values())
        assert set(info[h]["rows"]) == set(frames)
        assert np.isfinite(models[h].adjust_)


def test_pooled_files_round_trip_and_serving_path(tiny_pool, synthetic_ohlcv):
    _, _, _, models, _ = tiny_pool
    files = pooled.to_files(models)
    assert all(name.startswith("pooled-h") for name in files)
    back = pooled.from_files(files, H)
    assert pooled.from_files(files, (1, 5, 21)) is None  # no model for h = 21
    other = synthetic_ohlcv(800, seed=99, start="2012-01-01")
    a = pooled.forecasts_pooled(other, models, H)
    b = pooled.forecasts_pooled(other, back, H)
    for h in H:
        assert set(a[h]) == {"gjr", "garch", "ewma", "har", "ml", "ml-lo-80", "ml-hi-80"}
        assert a[h]["ml"] == pytest.approx(b[h]["ml"], rel=1e-12)
        assert 0 < a[h]["ml-lo-80"] < a[h]["ml"] < a[h]["ml-hi-80"]
    # the same numbers as the on-the-fly path for the shared GARCH/HAR/EWMA fits
    from core.volatility.api import forecast_all

    fly = forecast_all(other, 5)
    for k in ("gjr", "garch", "ewma", "har"):
        assert a[5][k] == pytest.approx(fly[k], rel=1e-6)


def test_heldout_symbol_walk_forward_and_scores(tiny_pool):
    frames, _, rows, _, _ = tiny_pool
    fc = pooled.heldout_symbol("SYN0", frames, rows, H, start=800, step=21, refit=63)
    for h in H:
        d = fc[h]
        assert len(d) >= 5 and d.index.is_monotonic_increasing
        assert {"y", "ml_onthefly", "ml_pooled", "ml_pooled-lo", "ewma"} <= set(d.columns)
        s = pooled.score_heldout(d, h)
        assert s["models"]["garch"]["qlike_ratio"] == 1.0
        assert 0 <= s["models"]["ml_pooled"]["coverage80"] <= 1
        assert "dm_ml_pooled_vs_ml_onthefly" in s


def _artifact(tmp_path, models, serve=True, train_end="2013-09-01"):
    from core.registry import save_artifact

    meta = {"pooled": {"serve": serve, "symbols": ["SYN0", "SYN1", "SYN2"],
                       "train_end": train_end, "best": {"1": "ml", "5": "ml"}},
            "evaluation": {}, "best_overall": {"1": "gjr", "5": "gjr"}}
    files = {"params.json": b"{}", **pooled.to_files(models)}
    return save_artifact("volatility", files, meta, models_dir=tmp_path)


def _md(frame, symbol="NEWSYM"):
    from core.data import MarketData

    return MarketData(frame, symbol, "1d", "csv", frame.index[-1])


def test_predict_latest_serves_the_pooled_model_to_unseen_symbols(tmp_path, tiny_pool,
                                                                   synthetic_ohlcv):
    from core.volatility.serve import HOW_ONTHEFLY, HOW_POOLED, predict_latest

    _, _, _, models, _ = tiny_pool
    art = _artifact(tmp_path, models)
    frame = synthetic_ohlcv(800, seed=5, start="2012-01-01")  # ends 2015, after train_end
    preds = predict_latest(_md(frame), horizons=H, models_dir=tmp_path)
    for p in preds:
        assert p.output["how"] == HOW_POOLED and p.model_version == art.version
        assert p.output["best_model"] == "ml" and p.output["interval_model"] == "ml-pooled"
        assert p.lower < p.value < p.upper
        assert p.output["skill"] is None  # judged on other symbols only
    # a history ending before the pooled training data: its parameters would look ahead
    early = synthetic_ohlcv(800, seed=5, start="2005-01-01")
    assert predict_latest(_md(early), horizons=(1,), models_dir=tmp_path)[0].output["how"] \
        == HOW_ONTHEFLY
    # a symbol the pooled model was trained on is never served by it
    assert predict_latest(_md(frame, "SYN1"), horizons=(1,), models_dir=tmp_path)[0] \
        .model_version == "onthefly"


def test_pooled_model_not_served_when_its_evaluation_said_no(tmp_path, tiny_pool,
                                                              synthetic_ohlcv):
    from core.volatility.serve import predict_latest

    _, _, _, models, _ = tiny_pool
    _artifact(tmp_path, models, serve=False)
    frame = synthetic_ohlcv(800, seed=6, start="2012-01-01")
    p = predict_latest(_md(frame), horizons=(1,), models_dir=tmp_path)[0]
    assert p.model_version == "onthefly" and p.output["how"].startswith("fitted on the fly")


def test_build_records_the_heldout_evaluation_and_the_decision(tiny_pool):
    frames, bases, _, _, _ = tiny_pool
    rows = {h: {s: pooled.training_rows(frames[s], bases[s][h], h) for s in frames} for h in H}
    heldout = {s: pooled.heldout_symbol(s, frames, rows, H, start=800, step=21, refit=63)
               for s in frames}
    files, meta = pooled.build(frames, bases, H, heldout=heldout)
    assert pooled.from_files(files, H) is not None
    assert set(meta["heldout"]) == set(frames) and meta["symbols"] == list(frames)
    assert meta["serve"] == (not meta["reasons"])
    for h in H:
        s = meta["summary"][str(h)]
        assert s["n_test"] == sum(meta["heldout"][k][str(h)]["n_test"] for k in frames)
        assert "dm_pooled_vs_onthefly_all" in s and 0 <= s["coverage80_ml_pooled"] <= 1
        assert meta["best"][str(h)] in {"garch", "gjr", "ewma", "har", "ml"}
    assert meta["train_end"] == str(max(f.index[-1] for f in frames.values()))


def test_decision_rule_refuses_a_worse_model():
    rng = np.random.default_rng(0)
    fly = {1: rng.uniform(0.5, 1.5, 800)}
    worse = {1: fly[1] + rng.uniform(0.1, 0.3, 800)}
    summary = {"1": {"n_test": 800, "coverage80_ml_pooled": 0.80,
                     "coverage80_ml_onthefly": 0.80}}
    serve, reasons = pooled.decide(worse, fly, summary)
    assert not serve and "QLIKE worse" in reasons[0]
    summary = {"1": {"n_test": 800, "coverage80_ml_pooled": 0.70,
                     "coverage80_ml_onthefly": 0.79}}
    serve, reasons = pooled.decide(fly, fly, summary)
    assert not serve and "coverage" in reasons[0]
    summary = {"1": {"n_test": 800, "coverage80_ml_pooled": 0.79,
                     "coverage80_ml_onthefly": 0.80}}
    assert pooled.decide(fly, fly, summary) == (True, [])
