"""MiniLM head: fit on a few hand-written texts, save/load round trip, trainer on a CSV."""

import json

import numpy as np
import pytest

from core.errors import ArtifactIntegrityError, DataValidationError, NotTrainedError
from core.sentiment.encoder import MINILM_SHA256, file_sha256, minilm_dir
from core.sentiment.head import HeadConfig, SentimentHead

POS = ["Profit jumps to a record high", "Shares surge after strong earnings beat",
       "Analysts upgrade the stock on robust growth", "Sales rise sharply this quarter",
       "Company raises full-year guidance"]
NEG = ["Profit plunges as costs soar", "Shares slump after earnings miss",
       "Analysts downgrade the stock on weak demand", "Sales fall sharply this quarter",
       "Company cuts full-year guidance"]
NEU = ["Company to hold annual meeting on Tuesday", "Board appoints a new secretary",
       "The firm is based in Helsinki", "Quarterly report due next week",
       "The company operates in 12 countries"]
TEXTS = (POS + NEG + NEU) * 2
LABELS = (["positive"] * 5 + ["negative"] * 5 + ["neutral"] * 5) * 2


def test_bundled_minilm_checksum_is_the_recorded_one():
    assert file_sha256(minilm_dir() / "model.safetensors") == MINILM_SHA256


@pytest.fixture(scope="module")
def fitted():
    cfg = HeadConfig(split=5, epochs=8, batch_size=8, lr_head=5e-3, seed=1)
    return SentimentHead(cfg).fit(TEXTS, LABELS)


def test_predict_before_fit_raises():
    with pytest.raises(NotTrainedError):
        SentimentHead().predict_proba(["x"])


def test_bad_training_data_is_refused():
    with pytest.raises(DataValidationError):
        SentimentHead().fit(["a"] * 12, ["great"] * 12)


def test_fit_learns_the_training_texts(fitted):
    p = fitted.predict_proba(TEXTS)
    assert p.shape == (30, 3)
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-6)
    assert np.mean(fitted.predict(TEXTS) == np.array(LABELS)) >= 0.9
    s = fitted.score(TEXTS)
    assert np.all((s >= -1) & (s <= 1))


def test_save_load_round_trip_and_integrity(fitted):
    files = fitted.to_files()
    assert set(files) == {"head.safetensors", "head_config.json"}
    back = SentimentHead.from_files(files)
    np.testing.assert_allclose(back.predict_proba(POS), fitted.predict_proba(POS), atol=2e-2)
    assert list(back.predict(TEXTS)) == list(fitted.predict(TEXTS))
    cfg = json.loads(files["head_config.json"])
    cfg["base_sha256"] = "0" * 64
    with pytest.raises(ArtifactIntegrityError, match="different MiniLM"):
        SentimentHead.from_files({**files, "head_config.json": json.dumps(cfg).encode()})
    with pytest.raises(ArtifactIntegrityError):
        SentimentHead.from_files({"head_config.json": files["head_config.json"]})


def test_trainer_on_a_labelled_csv_writes_a_loadable_version(tmp_path):
    from core.sentiment.service import load_scorers, score_texts
    from core.sentiment.train import train

    csv = tmp_path / "labelled.csv"
    rows = ["text,label"] + [f'"{t} ({i})",{lab}' for i in range(3)
                             for t, lab in zip(TEXTS, LABELS)]
    csv.write_text("\n".join(rows) + "\n")
    seen = []
    art = train(lambda f, m: seen.append(f), csv=csv, models_dir=tmp_path / "models",
                config=HeadConfig(split=6, epochs=2, batch_size=16),
                evaluate_phrasebank=False)
    assert seen[-1] == 1.0
    meta = art.metadata
    assert meta["training_data"]["source"] == "user CSV labelled.csv"
    assert meta["base_model"]["model_safetensors_sha256"] == MINILM_SHA256
    assert {r["model"] for r in meta["metrics"]["valid"]["rows"]} >= {"minilm", "ensemble",
                                                                      "majority"}
    sc = load_scorers(finbert=False, models_dir=tmp_path / "models")
    assert sc.names == ["minilm", "vader", "lm"] and sc.ensemble.fitted
    df = score_texts(["Profit jumps to a record high"], sc)
    assert -1 <= df["ensemble"].iloc[0] <= 1


def test_logreg_head_equals_sklearn_on_the_sentence_embeddings(tmp_path):
    from sklearn.linear_model import LogisticRegression

    from core.sentiment.encoder import embed

    head = SentimentHead(HeadConfig(method="logreg")).fit(
        TEXTS, LABELS, valid=(POS + NEG + NEU, LABELS[:15]))
    cfg = head.config
    assert cfg.split == 6 and cfg.normalize and cfg.C in (0.0625, 0.125, 0.25, 0.5, 2.0, 8.0, 32.0)
    assert [r["C"] for r in head.history_] == [0.0625, 0.125, 0.25, 0.5, 2.0, 8.0, 32.0]
    X = embed(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    y = [["negative", "neutral", "positive"].index(v) for v in LABELS]
    want = LogisticRegression(C=cfg.C, max_iter=3000).fit(X, y).predict_proba(X)
    got = head.predict_proba(TEXTS)
    np.testing.assert_allclose(got, want, atol=1e-4)
    back = SentimentHead.from_files(head.to_files())  # float32 weights: same numbers
    np.testing.assert_allclose(back.predict_proba(TEXTS), got, atol=1e-6)
    assert np.mean(head.predict(TEXTS) == np.array(LABELS)) >= 0.9
