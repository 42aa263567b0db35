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
