"""PhraseBank evaluation of the committed model (needs ../shared; evaluation only)."""

import pytest

from core.sentiment.train import PHRASEBANK_DIR  # ../shared, or QUANTDESK_SHARED_DIR

FPB = PHRASEBANK_DIR / "Sentences_AllAgree.txt"

# Reported in docs/sentiment.md for the committed sentiment-head version (no FinBERT).
REPORTED_ALLAGREE = {"ensemble": 0.769, "minilm": 0.807, "vader": 0.57, "lm": 0.60,
                     "majority": 0.614}


@pytest.mark.shared
def test_phrasebank_allagree_reaches_reported_numbers():
    if not FPB.is_file():
        pytest.skip(f"{FPB} is absent: ../shared (Financial PhraseBank) is only on developer "
                    "machines and CI")
    from core.sentiment.datasets import parse_phrasebank
    from core.sentiment.evaluate import evaluate
    from core.sentiment.service import load_scorers

    res = evaluate(parse_phrasebank(FPB), load_scorers(finbert=False))
    acc = {r["model"]: r["accuracy"] for r in res["rows"]}
    assert res["n"] == 2264
    for model, want in REPORTED_ALLAGREE.items():
        if want is not None:
            assert acc[model] >= want - 0.005, (model, acc[model], want)
