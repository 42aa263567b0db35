"""Serving and CLI on the committed artifact and real bundled history (no retraining)."""

import json

from typer.testing import CliRunner

from core.cli import app
from core.data import load_ohlcv
from core.forecasting.serve import forecast_table, predict_latest


def _strip(preds):
    return [{k: v for k, v in p.to_dict().items() if k != "latency_ms"} for p in preds]


def test_as_of_ignores_later_bars():
    md = load_ohlcv("MSFT")
    full = predict_latest(md, as_of="2009-06-30")
    md.frame = md.frame[md.frame.index <= "2009-06-30 23:59:59+00:00"]
    cut = predict_latest(md)
    assert _strip(full) == _strip(cut)
    assert [p.horizon for p in full] == [1, 5, 20]
    assert str(full[0].origin_ts.date()) == "2009-06-30"
    for p in full:
        assert p.lower < p.value < p.upper and 0 <= p.confidence <= 1
        assert p.output["lo_95"] < p.lower and p.output["hi_95"] > p.upper
        assert set(p.output["members"]) == {"xgboost", "lightgbm", "random_forest"}
    t = forecast_table(full)
    assert len(t) == 12 and {"Price", "Return [%]", "ensemble-lo-80"} <= set(t.columns)


def test_cli_predict_as_of_identical_with_or_without_later_bars(tmp_path):
    md = load_ohlcv("IBM")
    cut = md.frame[md.frame.index <= "2008-03-31 23:59:59+00:00"]
    path = tmp_path / "IBM.csv"
    cut.reset_index().rename(columns={"timestamp": "Date"}).to_csv(path, index=False)
    r = CliRunner()
    a = r.invoke(app, ["predict", "forecast", "--symbol", "IBM", "--as-of", "2008-03-31",
                       "--json"])
    b = r.invoke(app, ["predict", "forecast", "--csv", str(path), "--as-of", "2008-03-31",
                       "--json"])
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    assert json.loads(a.output) == json.loads(b.output)


def test_unknown_symbol_is_served_by_the_pooled_model_and_bad_input_is_clear(tmp_path):
    md = load_ohlcv("MSFT")
    md.symbol = "ZZZZ"
    preds = predict_latest(md)  # the committed version has a pooled model: any symbol
    assert [p.output["scope"] for p in preds] == ["pooled"] * 3
    assert all(p.symbol == "ZZZZ" and p.lower < p.upper for p in preds)
    r = CliRunner().invoke(app, ["predict", "forecast", "--symbol", "MSFT", "--as-of", "1990-01-01"])
    assert r.exit_code == 2 and "No bars on or before" in r.output
    r = CliRunner().invoke(app, ["evaluate", "forecast"])
    assert r.exit_code == 2


def test_cli_predict_csv_of_any_symbol_ignores_bars_after_as_of(tmp_path):
    frame = load_ohlcv("IBM").frame
    r = CliRunner()
    out = []
    for name, f in (("full", frame), ("cut", frame[frame.index <= "2008-03-31 23:59:59+00:00"])):
        path = tmp_path / name / "BARS.csv"
        path.parent.mkdir()
        f.reset_index().rename(columns={"timestamp": "Date"}).to_csv(path, index=False)
        res = r.invoke(app, ["predict", "forecast", "--csv", str(path), "--as-of", "2008-03-31",
                             "--json"])
        assert res.exit_code == 0, res.output
        out.append(json.loads(res.output))
    assert out[0] == out[1]
    assert [p["symbol"] for p in out[0]] == ["BARS"] * 3
    assert {p["output"]["scope"] for p in out[0]} == {"pooled"}
    assert set(out[0][0]) >= {"model_name", "model_version", "symbol", "horizon", "origin_ts",
                              "value", "lower", "upper", "confidence", "output"}


def test_cli_train_says_which_data_it_trained_on(monkeypatch, tmp_path):
    """`train forecast` goes through the single-flight runner: the version it writes is
    registered as a candidate (never active), the run is recorded, and the lock is free."""
    from sqlmodel import select

    from core import registry
    from core.config import get_settings
    from core.forecasting import commands
    from core.store import Lock, ModelVersion, TrainingRun, session_scope

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    meta = {"train_seconds": 1.0, "data": {
        "NVDA": {"source": "yahoo", "bars": 500, "first": "2024-01-02T00:00:00+00:00",
                 "last": "2025-12-31T00:00:00+00:00"},
        "MSFT": {"source": "bundled", "bars": 3270, "first": "2000-03-01", "last": "2013-03-01"}}}

    def fake_train(progress=None, **kw):
        assert kw["symbols"] == ["NVDA", "MSFT"]
        progress(1.0, "done")
        return registry.save_artifact("forecast", {"w.json": b"{}"}, meta, version="v1")

    monkeypatch.setattr(commands, "train", fake_train)
    r = CliRunner().invoke(app, ["train", "forecast", "--symbols", "NVDA,MSFT"])
    assert r.exit_code == 0, r.output
    assert "saved candidate forecast/v1" in r.output
    assert "NVDA: 500 bars 2024-01-02 .. 2025-12-31 from yahoo" in r.output
    assert "MSFT: 3270 bars 2000-03-01 .. 2013-03-01 from bundled" in r.output
    with session_scope() as s:
        assert [(m.version, m.status) for m in s.exec(select(ModelVersion))] == [("v1", "candidate")]
        assert [(t.family, t.status, t.who) for t in s.exec(select(TrainingRun))] == [
            ("forecast", "COMPLETED", "cli")]
        assert s.exec(select(Lock)).all() == []


def test_cli_train_forecast_refused_while_another_retrain_holds_the_lock(monkeypatch):
    """Two concurrent `train forecast` runs: the second is refused by the lock, no traceback."""
    from core.forecasting import commands
    from core.store import session_scope
    from core.store.ops import acquire_lock
    from core.store.runs import TRAINING_LOCK

    def never(progress=None, **kw):
        raise AssertionError("must not train while the lock is held")

    monkeypatch.setattr(commands, "train", never)
    with session_scope() as s:  # a live holder: this process, fresh heartbeat
        assert acquire_lock(TRAINING_LOCK, "alice#1", "forecast", session=s) is not None
    r = CliRunner().invoke(app, ["train", "forecast", "--symbols", "MSFT"])
    assert r.exit_code == 2
    assert "A retrain of forecast started by alice" in r.output and "Traceback" not in r.output
