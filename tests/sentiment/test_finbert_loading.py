"""FinBERT loading path with a tiny BERT built here (random weights, 2 layers, tiny vocab)."""

import time

import numpy as np
import pytest

from core.errors import ModelUnavailableError
from core.sentiment import finbert as fb

WORDS = ["profit", "rose", "fell", "loss", "the", "company", "shares", "sales", "record"]


def _tiny_model(path, id2label):
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    vocab = path / "vocab.txt"
    path.mkdir(parents=True, exist_ok=True)
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n")
    cfg = BertConfig(vocab_size=5 + len(WORDS), hidden_size=16, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                     num_labels=3, id2label=id2label,
                     label2id={v: k for k, v in id2label.items()})
    BertForSequenceClassification(cfg).save_pretrained(path, safe_serialization=True)
    BertTokenizer(str(vocab)).save_pretrained(path)
    return path


@pytest.fixture(autouse=True)
def _fresh():
    fb.reset_finbert()
    yield
    fb.reset_finbert()


def test_tiny_bert_loads_and_scores_in_range(tmp_path):
    path = _tiny_model(tmp_path / "tiny", {0: "positive", 1: "negative", 2: "neutral"})
    scorer = fb.finbert(str(path))
    texts = ["profit rose", "the company sales fell to a record loss", "shares"] * 7
    p = scorer.predict_proba(texts)
    assert p.shape == (21, 3)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-6)
    s = scorer.score(texts)
    assert np.all((s >= -1) & (s <= 1))
    # columns are reordered to LABELS (negative, neutral, positive)
    raw = scorer.model(**scorer.tokenizer(["profit rose"], return_tensors="pt")).logits
    raw_p = raw.softmax(-1).detach().numpy()[0]
    np.testing.assert_allclose(scorer.predict_proba(["profit rose"])[0],
                               [raw_p[1], raw_p[2], raw_p[0]], atol=1e-5)
    assert fb.finbert(str(path)) is scorer  # cached per process


def test_wrong_label_names_are_refused(tmp_path):
    path = _tiny_model(tmp_path / "bad", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with pytest.raises(ModelUnavailableError, match="labels"):
        fb.FinBertScorer(str(path))


def test_offline_uncached_hub_id_is_unavailable_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    t0 = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="offline"):
        fb.finbert("ProsusAI/finbert")
    with pytest.raises(ModelUnavailableError):  # remembered: no second attempt
        fb.finbert("ProsusAI/finbert")
    assert time.perf_counter() - t0 < 1.0


def test_missing_local_folder_is_unavailable():
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        fb.resolve_finbert("./no/such/finbert")
