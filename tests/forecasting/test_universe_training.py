"""Universe-wide retraining of the pooled forecast model (`quantdesk train forecast
--universe NAME`): the per-symbol task is pure and gives identical rows serially and on Ray,
a failing symbol is reported while the rest train, and the CLI refuses plainly what it
cannot do. Real bundled history (offline), small models."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from core.cli import app
from core.data import BUNDLED_SYMBOLS, MarketData, load_ohlcv
from core.errors import InsufficientDataError
from core.forecasting import commands, universe
from core.forecasting.artifact import POOLED, get_bundle
from core.forecasting.pooled import stack_designs, stacked_design, symbol_design
from core.forecasting.serve import predict_latest
from core.forecasting.universe import SymbolJob, symbol_task, train_universe
from core.registry import load_artifact
from core.batch import run_batch

#: small, fast members (the method is the shipped one; only the sizes differ)
FAST = {"xgboost": dict(n_estimators=4, max_depth=2, learning_rate=0.1, tree_method="hist",
                        max_bin=16, n_jobs=1, random_state=0, verbosity=0),
        "lightgbm": dict(n_estimators=4, num_leaves=4, max_depth=2, learning_rate=0.1,
                         min_child_samples=20, max_bin=15, n_jobs=1, random_state=0,
                         verbose=-1),
        "random_forest": dict(n_estimators=2, max_depth=3, min_samples_leaf=20,
                              max_features=0.1, max_samples=0.3, n_jobs=1, random_state=0)}
HORIZONS = (1, 5)


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance for the Ray test of this module (2 CPUs), shut down at the end.
    Only functions from ``core`` are shipped to it (this module is not importable there)."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """Artifacts of this test go to a temporary models directory."""
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    return tmp_path / "models"


def _same_design(a, b) -> None:
    assert a.symbol == b.symbol
    pd.testing.assert_frame_equal(a.X, b.X, check_exact=True)
    np.testing.assert_array_equal(a.origin, b.origin)
    assert sorted(a.targets) == sorted(b.targets)
    for h in a.targets:
        for x, y in zip(a.targets[h], b.targets[h]):
            np.testing.assert_array_equal(x, y)  # NaN == NaN here


def test_symbol_task_is_pure_and_identical_on_serial_and_ray(ray_instance):
    jobs = [SymbolJob(s) for s in (*BUNDLED_SYMBOLS, "NOPE")]
    serial = run_batch(symbol_task, jobs, HORIZONS, 500, 1200, engine="serial")
    on_ray = run_batch(symbol_task, jobs, HORIZONS, 500, 1200, engine="ray")
    again = run_batch(symbol_task, jobs, HORIZONS, 500, 1200, engine="serial")
    assert [r["symbol"] for r in serial] == [r["symbol"] for r in on_ray] == [
        *BUNDLED_SYMBOLS, "NOPE"]
    for a, b, c in zip(serial, on_ray, again):
        assert a["error"] == b["error"] == c["error"]
        if a["error"]:
            assert "not bundled" in a["error"]
            continue
        assert {k: a[k] for k in ("source", "bars", "first", "last", "sha256")} == {
            k: b[k] for k in ("source", "bars", "first", "last", "sha256")}
        pd.testing.assert_frame_equal(a["frame"], b["frame"], check_exact=True)
        _same_design(a["design"], b["design"])
        _same_design(a["design"], c["design"])  # pure: the same call gives the same rows
    # the rows the trainer stacks from the tasks are those of the in-process pooled design
    frames = {r["symbol"]: r["frame"] for r in serial if not r["error"]}
    designs = [r["design"] for r in on_ray if not r["error"]]
    for h in HORIZONS:
        for x, y in zip(stack_designs(designs, h), stacked_design(frames, h)):
            if isinstance(x, pd.DataFrame):
                pd.testing.assert_frame_equal(x, y, check_exact=True)
            elif isinstance(x, pd.DatetimeIndex):
                assert x.equals(y)
            else:
                np.testing.assert_array_equal(x, y)


def test_symbol_design_features_use_bars_up_to_t_and_targets_stay_apart():
    frame = load_ohlcv("IBM").frame.iloc[-900:]
    full = symbol_design("IBM", frame, HORIZONS)
    cut = symbol_design("IBM", frame.iloc[:700], HORIZONS)
    # features at bar t are the same with every later bar removed
    pd.testing.assert_frame_equal(cut.X, full.X.loc[cut.X.index], check_exact=True)
    assert not any(c.startswith("__") or "target" in c for c in full.columns)
    y1 = full.targets[1][0]
    assert np.isnan(y1[-1]) and np.isfinite(y1[:-1]).all()  # the last target is not known


def test_a_failing_symbol_is_reported_and_the_rest_train(monkeypatch, models_dir):
    real = universe.load_ohlcv

    def load(symbol, interval="1d", **kw):  # SHRT: real bars, but only 300 of them
        if symbol == "SHRT":
            frame = real("MSFT", interval).frame.iloc[:300]
            return MarketData(frame, "SHRT", interval, "csv", frame.index[-1])
        return real(symbol, interval, **kw)

    monkeypatch.setattr(universe, "load_ohlcv", load)
    syms = ["AAPL", "NOPE", "MSFT", "IBM", "SHRT", "GOOG"]
    art = train_universe(syms, universe="test", engine="serial", horizons=HORIZONS,
                         max_bars=1000, eval_symbols=2, params=FAST)
    info = art.metadata["universe"]
    assert info["used"] == ["AAPL", "MSFT", "IBM", "GOOG"]
    reasons = {s["symbol"]: s["reason"] for s in info["skipped"]}
    assert list(reasons) == ["NOPE", "SHRT"]
    assert "not bundled" in reasons["NOPE"]
    assert reasons["SHRT"] == "SHRT: 300 bars; training needs at least 500."
    assert info["engine"] == "serial" and info["symbols_total"] == 6
    assert set(info["seconds"]) == {"tasks", "fit", "evaluation", "total"}
    # a pooled-only version: every symbol, trained or not, is served by the pooled model
    meta = art.metadata
    assert meta["symbols"] == [] and meta["pooled_symbols"] == info["used"]
    assert set(json.loads(art.files["heads.json"])) == {POOLED}
    assert meta["data"]["AAPL"]["bars"] == 1000
    # judged on held-out symbols, beside the random walk
    lso = meta["leave_symbols_out"]
    assert {r["symbol"] for r in lso} == set(info["evaluation"]["held_out"])
    assert len(info["evaluation"]["held_out"]) == 2
    for r in lso:
        assert r["symbol"] not in r["train_symbols"] and r["random_walk"]["rmse"] > 0
        cell = meta["record"][r["symbol"]][str(r["horizon"])]
        assert cell["baseline"] == r["random_walk"]["rmse"] and cell["metric"] == "rmse"
        assert isinstance(cell["skill"], bool)
    loaded = load_artifact("forecast", art.version)
    preds = predict_latest(load_ohlcv("^GSPC"), loaded)
    assert [p.horizon for p in preds] == list(HORIZONS)
    assert {p.output["scope"] for p in preds} == {"pooled"}
    assert get_bundle(loaded).symbols == []


def test_too_few_symbols_with_bars_is_refused_before_any_fit(models_dir):
    with pytest.raises(InsufficientDataError, match=r"Only 2 of 3 symbols .* at least 4"):
        train_universe(["AAPL", "NOPE", "MSFT"], engine="serial", horizons=(1,),
                       max_bars=600, params=FAST)
    assert not (models_dir / "forecast").exists()


def _runs():
    from sqlmodel import select

    from core.store import ModelVersion, TrainingRun, session_scope

    with session_scope() as s:
        return ([(m.version, m.status) for m in s.exec(select(ModelVersion))],
                [(t.status, t.who) for t in s.exec(select(TrainingRun))])


def test_cli_universe_bundled_serial_json(monkeypatch, models_dir):
    monkeypatch.setattr(commands, "train_universe",
                        partial(train_universe, horizons=HORIZONS, params=FAST))
    r = CliRunner().invoke(app, ["train", "forecast", "--universe", "bundled", "--engine",
                                 "serial", "--max-bars", "1000", "--eval-symbols", "4",
                                 "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["universe"] == "bundled" and out["engine"] == "serial"
    assert out["used"] == list(BUNDLED_SYMBOLS) and out["skipped"] == []
    assert out["status"] == "candidate" and out["horizons"] == list(HORIZONS)
    assert out["seconds"]["total"] > 0
    ev = out["evaluation"]
    assert len(ev["held_out"]) == 4 and ev["skipped"] is None and ev["summary"]
    assert len(ev["cells"]) == 4 * len(HORIZONS)
    for c in ev["cells"]:
        assert c["random_walk_rmse"] > 0 and c["rmse_ratio"] > 0 and c["verdict"]
    # through the single-flight runner: a candidate, never promoted; the run recorded
    versions, runs = _runs()
    assert versions == [(out["version"], "candidate")] and runs == [("COMPLETED", "cli")]


def test_cli_unknown_universe_bad_engine_and_too_few_symbols_are_plain_errors(models_dir):
    r = CliRunner().invoke(app, ["train", "forecast", "--universe", "nope"])
    assert r.exit_code == 2 and "Unknown universe 'nope'" in r.output
    r = CliRunner().invoke(app, ["train", "forecast", "--universe", "bundled", "--engine",
                                 "warp"])
    assert r.exit_code == 2 and "Unknown engine 'warp'" in r.output
    assert _runs() == ([], [])  # refused before the training lock: no run recorded
    # offline, an index universe has bars only for its bundled members
    r = CliRunner().invoke(app, ["train", "forecast", "--universe", "dow30", "--engine",
                                 "serial"])
    assert r.exit_code == 2, r.output
    # (its bundled members AAPL, MSFT, IBM have bars: 3 are too few for a pooled model)
    assert "error: Only 3 of 30 symbols of universe 'dow30'" in r.output
    assert "needs at least 4. Not trained. 27 skipped: " in r.output
    assert "Offline mode" in r.output
    r2 = CliRunner().invoke(app, ["train", "forecast", "--universe", "bundled", "--symbols",
                                  "MSFT"])
    assert r2.exit_code == 2 and "--universe" in r2.output
    for res in (r, r2):
        assert "Traceback" not in res.output
    versions, runs = _runs()
    assert versions == [] and runs == [("FAILED", "cli")]
