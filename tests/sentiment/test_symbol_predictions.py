import pandas as pd

from core.sentiment.serve import latest_predictions, symbol_sentiment
from core.sentiment.scorers import load_scorers


def _news(last_bar):
    return pd.DataFrame({
        "published_at": [last_bar - pd.Timedelta(hours=11), last_bar + pd.Timedelta(hours=9),
                         last_bar + pd.Timedelta(days=400)],
        "headline": ["Profit surged to a record, shares soar",
                     "Strong gains and an excellent outlook, analysts say",
                     "Company collapses into bankruptcy after fraud"],
        "symbol": "SYN", "source": "test", "url": ""})


def test_latest_prediction_uses_only_news_up_to_the_last_bar(synthetic_frame, tmp_path):
    frame = synthetic_frame.iloc[:46]  # SYNTHETIC bars (tests only)
    sc = load_scorers(finbert=False, models_dir=tmp_path / "no-models")  # lexicons only
    preds = latest_predictions("syn", _news(frame.index[-1]), frame, scorers=sc)
    assert len(preds) == 1
    p = preds[0]
    assert p.symbol == "SYN" and p.model_name == "sentiment" and p.kind == "label"
    assert p.origin_ts == frame.index[-1] and p.horizon == 1
    assert p.output["news_count"] == 1  # the two later headlines are not visible yet
    assert p.value == 1.0 and p.output["score"] > 0
    assert p.model_version == "lexicon-only" and 0 <= p.confidence <= 1


def test_symbol_sentiment_returns_scored_headlines(synthetic_frame, tmp_path):
    sc = load_scorers(finbert=False, models_dir=tmp_path / "no-models")
    last = synthetic_frame.index[-1]
    agg, scored = symbol_sentiment("SYN", _news(last), last + pd.Timedelta(days=500),
                                   scorers=sc)
    assert len(scored) == 3 and {"vader", "lm", "ensemble", "label"} <= set(scored.columns)
    assert agg.news_count == 3 and -1 <= agg.overall <= 1
