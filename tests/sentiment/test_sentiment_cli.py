import json

from typer.testing import CliRunner

from core.cli import app

runner = CliRunner()


def test_score_texts_json():
    res = runner.invoke(app, ["sentiment", "score", "Shares soar after record profit",
                              "Shares plunge after profit warning", "--json", "--no-finbert"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [r["label"] for r in out["results"]] == ["positive", "negative"]
    assert all(-1 <= r["ensemble"] <= 1 for r in out["results"])
    assert {m["model"] for m in out["models"]} == {"minilm", "finbert", "vader", "lm"}


def test_score_csv_and_errors(tmp_path):
    p = tmp_path / "news.csv"
    p.write_text("published_at,headline\n2024-01-02,Profit rose strongly\n")
    res = runner.invoke(app, ["sentiment", "score", "--csv", str(p), "--no-finbert"])
    assert res.exit_code == 0 and "Profit rose strongly" in res.output
    res = runner.invoke(app, ["sentiment", "score", "--no-finbert"])
    assert res.exit_code == 2 and "No text to score" in res.output


def test_evaluate_phrasebank_format_with_baseline(tmp_path):
    p = tmp_path / "Sentences_tiny.txt"
    p.write_bytes("Operating profit rose to EUR 9 mn .@positive\r\n"
                  "Net sales fell and the loss widened .@negative\r\n"
                  "The company is based in Espoo .@neutral\r\n"
                  "The plant employs 50 people .@neutral\r\n".encode("latin-1"))
    res = runner.invoke(app, ["evaluate", "sentiment", "--dataset", str(p), "--json",
                              "--no-finbert"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    rows = {r["model"]: r for r in out["rows"]}
    assert out["n"] == 4 and {"vader", "lm", "ensemble", "majority"} <= set(rows)
    assert rows["majority"]["accuracy"] == 0.5
    assert sum(map(sum, rows["ensemble"]["confusion"])) == 4
    res = runner.invoke(app, ["evaluate", "sentiment", "--dataset", str(tmp_path / "no.txt")])
    assert res.exit_code == 2 and "No such file" in res.output


def test_train_sentiment_goes_through_single_flight(monkeypatch, tmp_path):
    """`train sentiment` takes the training lock, records the run and registers a candidate
    (never active); while another retrain holds the lock it is refused with a message."""
    from sqlmodel import select

    from core import registry
    from core.config import get_settings
    from core.sentiment import commands
    from core.store import Lock, ModelVersion, TrainingRun, session_scope
    from core.store.ops import acquire_lock

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    meta = {"metrics": {"valid": {"rows": []}}}

    def fake_train(progress=None, **kw):
        progress(1.0, "done")
        return registry.save_artifact("sentiment-head", {"w.json": b"{}"}, meta, version="s1")

    monkeypatch.setattr(commands, "train", fake_train)
    r = CliRunner().invoke(app, ["train", "sentiment", "--method", "logreg"])
    assert r.exit_code == 0, r.output
    assert "saved candidate sentiment-head/s1" in r.output
    with session_scope() as s:
        assert [(m.family, m.status) for m in s.exec(select(ModelVersion))] == [
            ("sentiment-head", "candidate")]
        assert [t.status for t in s.exec(select(TrainingRun))] == ["COMPLETED"]
        assert s.exec(select(Lock)).all() == []
        assert acquire_lock("training", "bob#1", "forecast", session=s) is not None
    r = CliRunner().invoke(app, ["train", "sentiment", "--method", "logreg"])
    assert r.exit_code == 2 and "A retrain of forecast started by bob" in r.output
