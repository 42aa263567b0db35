"""Pooled (cross-symbol) forecast model: training, serving scope, as-of invariance and old
artifacts. All on SYNTHETIC random-walk frames (tests/conftest.py) with tiny models."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from core.cli import app
from core.data import MarketData
from core.errors import NotTrainedError
from core.forecasting.artifact import POOLED, Bundle, get_bundle
from core.forecasting.model import HorizonForecaster
from core.forecasting.serve import predict_latest
from core.forecasting.pooled import compare_scope, stacked_design
from core.forecasting.train import train
from core.registry import load_artifact, save_artifact
from tests.conftest import synthetic_ohlcv

TINY = {"xgboost": dict(n_estimators=8, max_depth=2, learning_rate=0.1, tree_method="hist",
                        n_jobs=1, random_state=0, verbosity=0),
        "lightgbm": dict(n_estimators=8, num_leaves=4, max_depth=2, learning_rate=0.1,
                         min_child_samples=20, n_jobs=1, random_state=0, verbose=-1),
        "random_forest": dict(n_estimators=4, max_depth=3, min_samples_leaf=20, n_jobs=1,
                              random_state=0)}
HORIZONS = (1, 5)


def _md(frame, symbol):
    return MarketData(frame, symbol, "1d", "csv", frame.index[-1])


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """A pooled artifact trained on three SYNTHETIC symbols, and an 'old' copy of it without
    the pooled model (what versions before the pooled model look like)."""
    root = tmp_path_factory.mktemp("models")
    frames = {"AAA": synthetic_ohlcv(700, seed=1), "BBB": synthetic_ohlcv(650, seed=2,
                                                                         start="2020-03-02"),
              "CCC": synthetic_ohlcv(700, seed=3)}
    art = train(frames=frames, horizons=HORIZONS, models_dir=root, params=TINY)
    old_files = {k: v for k, v in art.files.items() if not k.startswith("pooled_all_")}
    heads = json.loads(old_files["heads.json"])
    heads.pop(POOLED)
    old_files["heads.json"] = json.dumps(heads).encode()
    meta = {k: v for k, v in art.metadata.items()
            if k not in ("scope", "scope_validation", "pooled_key", "pooled_symbols",
                         "files", "version", "created_at", "family", "library_versions")}
    meta["pooled"] = False
    old = save_artifact("forecast", old_files, meta, models_dir=root / "old")
    return SimpleNamespace(root=root, art=load_artifact("forecast", art.version, models_dir=root),
                           old=load_artifact("forecast", old.version, models_dir=root / "old"))


def test_artifact_records_pooled_and_scope(models_dir):
    meta = models_dir.art.metadata
    assert meta["pooled"] is True and meta["pooled_symbols"] == ["AAA", "BBB", "CCC"]
    assert any(n.startswith("pooled_all_h1_") for n in models_dir.art.files)
    for sym in ("AAA", "BBB", "CCC"):
        for h in ("1", "5"):
            v = meta["scope_validation"][sym][h]
            assert meta["scope"][sym][h] == v["serve"]
            # the head serves only where it beat the pooled model on the same bars
            won = v["n"] >= 20 and v["symbol_rmse"] < v["pooled_rmse"]
            assert v["serve"] == ("symbol" if won else "pooled"), v
    b = get_bundle(models_dir.art)
    assert POOLED not in b.symbols and sorted(b.pooled) == [1, 5]


def test_unknown_symbol_is_served_by_the_pooled_model(models_dir):
    frame = synthetic_ohlcv(400, seed=9)
    preds = predict_latest(_md(frame, "BARS"), models_dir.art)
    assert [p.horizon for p in preds] == list(HORIZONS)
    b = get_bundle(models_dir.art)
    for p in preds:
        assert p.symbol == "BARS" and p.output["scope"] == "pooled"
        assert p.lower < p.upper
    # the value is the pooled model's forecast
    from core.forecasting.features import daily_sigma, feature_frame
    x = feature_frame(frame)[b.features].to_numpy()[-1:]
    sig = float(daily_sigma(frame).iloc[-1])
    want = b.pooled[1].predict(x, [sig]).iloc[0]["ensemble"]
    assert preds[0].value == pytest.approx(want, rel=1e-12)


def test_symbol_head_serves_only_where_it_won_validation(models_dir):
    b = Bundle(models_dir.art)
    b.scope = {"AAA": {1: "symbol", 5: "pooled"}}
    assert b.choose("AAA", 1) == (b.models[("AAA", 1)], "symbol")
    assert b.choose("AAA", 5) == (b.pooled[5], "pooled")
    assert b.choose("BBB", 1)[1] == "pooled"  # no recorded win: the pooled model serves
    assert b.choose("ZZZ", 5)[1] == "pooled"
    # serving follows the recorded scope of the trained artifact
    frame = synthetic_ohlcv(700, seed=1)
    for p in predict_latest(_md(frame, "AAA"), models_dir.art):
        assert p.output["scope"] == models_dir.art.metadata["scope"]["AAA"][str(p.horizon)]


def test_compare_scope_prefers_the_head_only_when_it_is_better():
    idx = pd.bdate_range("2021-01-01", periods=50, tz="UTC")
    y = np.linspace(-0.01, 0.01, 50)

    def fake(forecast, sym=None):
        m = SimpleNamespace(val_forecast_=forecast, val_y_=y, val_index_=idx)
        if sym is not None:
            m.val_symbol_ = np.array([sym] * 50, dtype=object)
        return m

    good, bad = y * 0.5, -y
    assert compare_scope(fake(good), fake(bad, "S"), "S")["serve"] == "symbol"
    r = compare_scope(fake(bad), fake(good, "S"), "S")
    assert r["serve"] == "pooled" and r["n"] == 50 and r["symbol_rmse"] > r["pooled_rmse"]
    assert compare_scope(fake(good), fake(bad, "T"), "S")["serve"] == "pooled"  # no overlap


def test_stacked_design_is_time_ordered_and_purged():
    frames = {"A": synthetic_ohlcv(400, seed=1), "B": synthetic_ohlcv(380, seed=2,
                                                                     start="2020-01-15")}
    X, y, sig, origin, end, sym, ts = stacked_design(frames, 5)
    assert np.all(np.diff(origin) >= 0) and set(sym) == {"A", "B"}
    assert len(X) == len(y) == len(origin) == len(ts)
    known = np.isfinite(y)
    assert np.all(end[known] > origin[known])
    cut = frames["A"].index[350]
    Xc, _, _, _, endc, _, tsc = stacked_design(frames, 5, cutoff=cut)
    assert len(Xc) < len(X) and np.all(endc < cut.value) and tsc.max() < cut


def test_purged_fit_never_trains_on_labels_overlapping_a_block():
    rng = np.random.default_rng(0)
    n = 600
    X, y = rng.normal(size=(n, 4)), rng.normal(scale=0.01, size=n)
    origin = np.repeat(np.arange(n // 2), 2).astype(np.int64)  # two symbols per bar
    m = HorizonForecaster(horizon=5, params=TINY).fit(X, y, np.full(n, 0.01), origin=origin,
                                                      target_end=origin + 5)
    assert len(m.val_rows_) == len(m.val_forecast_) == len(m.val_y_) > 0
    with pytest.raises(ValueError):
        HorizonForecaster(horizon=5).fit(X, y, np.full(n, 0.01), origin=origin)


def test_cli_as_of_for_any_symbol_ignores_later_bars(models_dir, tmp_path, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(models_dir.root))
    get_settings.cache_clear()
    frame = synthetic_ohlcv(500, seed=11)
    as_of = frame.index[399].date().isoformat()
    paths = {}
    for name, f in (("full", frame), ("cut", frame.iloc[:400])):
        paths[name] = tmp_path / name / "BARS.csv"
        paths[name].parent.mkdir()
        f.reset_index().rename(columns={"timestamp": "Date"}).to_csv(paths[name], index=False)
    r = CliRunner()
    out = {}
    for name, path in paths.items():
        res = r.invoke(app, ["predict", "forecast", "--csv", str(path), "--as-of", as_of,
                             "--json"])
        assert res.exit_code == 0, res.output
        out[name] = json.loads(res.output)
    assert out["full"] == out["cut"]
    assert [p["horizon"] for p in out["full"]] == list(HORIZONS)
    for p in out["full"]:
        assert p["symbol"] == "BARS" and p["output"]["scope"] == "pooled"
        assert p["origin_ts"].startswith(as_of)
        assert {"value", "lower", "upper", "confidence", "model_version"} <= set(p)


def test_old_artifact_without_pooled_keeps_the_old_behaviour(models_dir):
    frame = synthetic_ohlcv(400, seed=9)
    with pytest.raises(NotTrainedError, match=r"No forecast model for BARS; trained symbols: "
                                              r"AAA, BBB, CCC\. Train one with `quantdesk "
                                              r"train forecast --symbols BARS`"):
        predict_latest(_md(frame, "BARS"), models_dir.old)
    preds = predict_latest(_md(synthetic_ohlcv(700, seed=1), "AAA"), models_dir.old)
    b = get_bundle(models_dir.old)
    assert not b.pooled and all(p.output["scope"] == "symbol" for p in preds)


def test_leave_symbols_out_evaluation_on_synthetic_frames():
    from core.forecasting.pooled import default_folds, evaluate_leave_symbols_out

    frames = {s: synthetic_ohlcv(620, seed=i) for i, s in enumerate(["A", "B", "C", "D"])}
    assert default_folds(list(frames), 2) == [("A", "C"), ("B", "D")]
    res = evaluate_leave_symbols_out(frames, [1], folds=[("A", "B"), ("C", "D")], step=100,
                                     initial_train=250, params=TINY)
    assert [(r["fold"], r["symbol"]) for r in res] == [(0, "A"), (0, "B"), (1, "C"), (1, "D")]
    for r in res:
        assert r["train_symbols"] == (["C", "D"] if r["fold"] == 0 else ["A", "B"])
        assert {"ensemble", "rmse_ratio", "coverage_80", "dm_pvalue", "n_test", "symbol",
                "horizon", "fold", "per_symbol", "pooled_vs_symbol"} <= set(r)
        assert r["n_test"] > 50 and r["horizon"] == 1
        assert 0 <= r["coverage_80"] <= 1 and r["per_symbol"]["rmse_ratio"] > 0
    from core.forecasting.report import pooled_table
    table = pooled_table(res)
    assert table.count("\n") == 1 + len(res) and "| 0 | A | C, D | 1 |" in table
    with pytest.raises(ValueError):
        evaluate_leave_symbols_out(frames, [1], folds=[("A", "ZZ")])


def test_pooled_walk_forward_ignores_training_bars_after_the_cutoff():
    """No lookahead: changing the training symbols' bars whose targets end after a test
    block's start leaves that block's pooled forecasts unchanged."""
    from core.forecasting.pooled import _symbol_split_predictions

    frames = {s: synthetic_ohlcv(560, seed=i) for i, s in enumerate(["A", "B", "C"])}
    a = _symbol_split_predictions(frames, "A", ["B", "C"], 1, 400, 250, {"params": TINY})
    first = a[a["fold"] == 0]
    cut = first.index[0]
    changed = dict(frames)
    for s in ("B", "C"):
        f = frames[s].copy()
        late = f.index >= cut  # targets of rows >= cut - 1 bar end at or after the cutoff
        f.loc[late, ["open", "high", "low", "close"]] *= 1.5
        changed[s] = f
    b = _symbol_split_predictions(changed, "A", ["B", "C"], 1, 400, 250, {"params": TINY})
    pd.testing.assert_frame_equal(first, b[b["fold"] == 0])


def test_cli_evaluate_pooled_prints_the_cells_as_json(monkeypatch):
    from core.forecasting import commands, pooled

    seen = {}

    def fake(frames, horizons, **kw):
        seen.update(symbols=list(frames), horizons=list(horizons), **kw)
        return [{"symbol": "AAPL", "horizon": 1, "fold": 0, "rmse_ratio": 0.9997}]

    monkeypatch.setattr(commands, "evaluate_leave_symbols_out", fake)
    r = CliRunner().invoke(app, ["evaluate", "forecast", "--pooled", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)[0]["rmse_ratio"] == 0.9997
    assert seen["horizons"] == [1, 5, 20] and len(seen["symbols"]) == 6
    assert seen["step"] == pooled.POOLED_STEP and seen["n_jobs"] == 1
