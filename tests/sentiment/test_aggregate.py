import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.sentiment.aggregate import aggregate, daily_sentiment, decay_weights, topics_of

NOW = pd.Timestamp("2024-05-03 12:00", tz="UTC")


def test_topics_keyword_rules():
    assert topics_of("Apple beats Q2 earnings estimates") == ["earnings"]
    assert topics_of("Morgan Stanley upgrades Tesla, raises price target") == ["analyst"]
    assert topics_of("SEC probes accounting; shares slide") == ["regulatory", "market"]
    assert topics_of("Apple unveils new iPhone") == ["product"]
    assert topics_of("CEO to speak at conference") == []


def test_decay_half_life_and_no_future():
    pub = pd.Series(pd.to_datetime(["2024-05-03 12:00", "2024-05-02 12:00",
                                    "2024-05-04 00:00", None], utc=True))
    w = decay_weights(pub, NOW, half_life_hours=24)
    np.testing.assert_allclose(w, [1.0, 0.5, 0.0, 1.0])
    with pytest.raises(DataValidationError):
        decay_weights(pub, NOW, half_life_hours=0)


def _scored(scores, hours_ago, texts=None):
    n = len(scores)
    return pd.DataFrame({
        "headline": texts or [f"Company earnings item {i}" for i in range(n)],
        "published_at": [NOW - pd.Timedelta(hours=h) for h in hours_ago],
        "ensemble": scores, "confidence": [0.9] * n})


def test_aggregate_weights_recent_news_more_and_stays_in_range():
    agg = aggregate(_scored([0.8, -0.8], [0, 48]), "aapl", NOW)
    assert agg.overall == pytest.approx((0.8 - 0.25 * 0.8) / 1.25)
    assert agg.news_count == 2 and agg.label == "positive"
    assert 0 <= agg.confidence <= 1 and 0 <= agg.impact <= 1
    assert agg.topics["earnings"] == pytest.approx(agg.overall)
    assert agg.topics["analyst"] is None and agg.topic_counts["earnings"] == 2


def test_more_strong_news_means_more_impact_and_confidence():
    few = aggregate(_scored([0.9], [1]), "X", NOW)
    many = aggregate(_scored([0.9] * 10, [1] * 10), "X", NOW)
    assert many.impact > few.impact and many.confidence > few.confidence


def test_empty_or_future_only_news_is_neutral_zero():
    agg = aggregate(_scored([0.9], [-5]), "X", NOW)  # published after as_of
    assert agg.news_count == 0 and agg.overall == 0 and agg.impact == 0


def test_daily_sentiment_groups_by_utc_day():
    d = daily_sentiment(_scored([1.0, 0.0, -1.0], [0, 1, 30]))
    assert list(d["count"]) == [1, 2] and d["score"].iloc[1] == pytest.approx(0.5)
