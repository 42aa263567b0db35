"""MiniLM head: LoRA fit on a few hand-written texts, adapter merge = peft's, save/load round
trip, trainer on a CSV, logistic-regression head = scikit-learn."""

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
    cfg = HeadConfig(method="lora", epochs=10, batch_size=8, lr=3e-3, lora_r=4, lora_alpha=8,
                     seed=1)
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
    from safetensors.torch import load

    files = fitted.to_files()
    assert set(files) == {"head.safetensors", "head_config.json"}
    tensors = load(files["head.safetensors"])
    # only the adapters and the classifier ship, never the encoder's own weights
    assert sum(k.startswith("lora.") for k in tensors) == 6 * 6 * 2
    assert all(k.startswith("lora.") or k.startswith("classifier.") for k in tensors)
    back = SentimentHead.from_files(files)
    np.testing.assert_allclose(back.predict_proba(TEXTS), fitted.predict_proba(TEXTS), atol=1e-6)
    assert list(back.predict(TEXTS)) == list(fitted.predict(TEXTS))
    # the fine-tune changed the encoder: the served copy differs from the package's weights
    from core.sentiment.encoder import minilm

    q = "encoder.layer.0.attention.self.query.weight"
    assert not np.allclose(dict(back.encoder_.named_parameters())[q].float().numpy(),
                           dict(minilm().model.named_parameters())[q].numpy())
    cfg = json.loads(files["head_config.json"])
    cfg["base_sha256"] = "0" * 64
    with pytest.raises(ArtifactIntegrityError, match="different MiniLM"):
        SentimentHead.from_files({**files, "head_config.json": json.dumps(cfg).encode()})
    with pytest.raises(ArtifactIntegrityError):
        SentimentHead.from_files({"head_config.json": files["head_config.json"]})
    old = json.loads(files["head_config.json"])  # a removed method (top-layer fine-tune)
    old.update({"method": "finetune", "split": 4})
    with pytest.raises(ArtifactIntegrityError, match="unsupported method"):
        SentimentHead.from_files({**files, "head_config.json": json.dumps(old).encode()})


def test_lora_merge_equals_peft_merge_and_unload():
    import copy

    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict

    from core.sentiment.encoder import minilm
    from core.sentiment.head import LORA_TARGETS, _lora_key, merge_lora

    torch.manual_seed(0)
    pm = get_peft_model(copy.deepcopy(minilm().model),
                        LoraConfig(r=4, lora_alpha=8, target_modules=LORA_TARGETS))
    with torch.no_grad():  # B starts at zero: give the adapters real values
        for n, p in pm.named_parameters():
            if "lora_" in n:
                p.normal_(0, 0.05)
    lora = {_lora_key(k)[len("lora."):]: v.detach().clone()
            for k, v in get_peft_model_state_dict(pm).items()}
    ours = merge_lora(copy.deepcopy(minilm().model), lora, 8 / 4)
    theirs = pm.merge_and_unload()
    for (n, a), (m, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert n == m
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    assert not torch.equal(ours.state_dict()["encoder.layer.0.attention.self.query.weight"],
                           minilm().model.state_dict()["encoder.layer.0.attention.self.query.weight"])


def test_trainer_on_a_labelled_csv_writes_a_loadable_version(tmp_path):
    from core.sentiment.scorers import load_scorers, score_texts
    from core.sentiment.train import train

    csv = tmp_path / "labelled.csv"
    rows = ["text,label"] + [f'"{t} ({i})",{lab}' for i in range(3)
                             for t, lab in zip(TEXTS, LABELS)]
    csv.write_text("\n".join(rows) + "\n")
    seen = []
    art = train(lambda f, m: seen.append(f), csv=csv, models_dir=tmp_path / "models",
                config=HeadConfig(method="logreg"),
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

    from core.sentiment.encoder import encode

    head = SentimentHead(HeadConfig(method="logreg")).fit(
        TEXTS, LABELS, valid=(POS + NEG + NEU, LABELS[:15]))
    cfg = head.config
    assert cfg.normalize and cfg.C in (0.0625, 0.125, 0.25, 0.5, 2.0, 8.0, 32.0)
    assert [r["C"] for r in head.history_] == [0.0625, 0.125, 0.25, 0.5, 2.0, 8.0, 32.0]
    X = encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    y = [["negative", "neutral", "positive"].index(v) for v in LABELS]
    want = LogisticRegression(C=cfg.C, max_iter=3000).fit(X, y).predict_proba(X)
    got = head.predict_proba(TEXTS)
    np.testing.assert_allclose(got, want, atol=1e-4)
    back = SentimentHead.from_files(head.to_files())  # float32 weights: same numbers
    np.testing.assert_allclose(back.predict_proba(TEXTS), got, atol=1e-6)
    assert np.mean(head.predict(TEXTS) == np.array(LABELS)) >= 0.9


def test_head_cleans_tweet_markup_and_old_heads_score_raw_text(fitted):
    assert fitted.config.text_prep == "clean_headline"
    tweet = "$XYZ - Profit plunges as costs soar https://t.co/AbCdEf #stocks"
    np.testing.assert_allclose(fitted.predict_proba([tweet]),
                               fitted.predict_proba(["Profit plunges as costs soar"]), atol=1e-6)
    files = fitted.to_files()
    old = json.loads(files["head_config.json"])  # saved before text_prep existed
    del old["text_prep"]
    back = SentimentHead.from_files({**files, "head_config.json": json.dumps(old).encode()})
    assert back.config.text_prep == "none"
    assert not np.allclose(back.predict_proba([tweet]), fitted.predict_proba([tweet]), atol=1e-4)
    bad = {**old, "text_prep": "lowercase"}
    with pytest.raises(ArtifactIntegrityError, match="unsupported"):
        SentimentHead.from_files({**files, "head_config.json": json.dumps(bad).encode()})
    with pytest.raises(DataValidationError, match="text_prep"):
        SentimentHead(HeadConfig(text_prep="lowercase")).fit(TEXTS, LABELS)
