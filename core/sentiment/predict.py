"""Per-symbol sentiment from headlines -> ``SentimentScore`` and ``Prediction`` records."""

from __future__ import annotations

import time

import pandas as pd

from core.predictions import Prediction, hash_inputs
from core.sentiment.aggregate import DEFAULT_HALF_LIFE_HOURS, SentimentScore, aggregate
from core.sentiment.service import FAMILY, ScorerSet, load_scorers, score_texts


def score_news(news: pd.DataFrame, scorers: ScorerSet | None = None) -> pd.DataFrame:
    """Score a news frame (``core.news`` contract): the news columns plus the columns of
    :func:`core.sentiment.service.score_texts` (``text`` equals ``headline``)."""
    news = news.reset_index(drop=True)
    keep = news["headline"].astype(str).str.strip() != ""
    news = news[keep].reset_index(drop=True)
    scored = score_texts(news["headline"].tolist(), scorers)
    return pd.concat([news, scored.drop(columns=["text"])], axis=1)


def symbol_sentiment(symbol: str, news: pd.DataFrame, as_of: pd.Timestamp | None = None,
                     half_life_hours: float = DEFAULT_HALF_LIFE_HOURS,
                     scorers: ScorerSet | None = None) -> tuple[SentimentScore, pd.DataFrame]:
    """(SentimentScore, scored headlines) for ``symbol`` from a news frame."""
    scored = score_news(news, scorers)
    return aggregate(scored, symbol.upper(), as_of, half_life_hours), scored


def latest_predictions(symbol: str, news: pd.DataFrame, frame: pd.DataFrame,
                       interval: str = "1d", scorers: ScorerSet | None = None
                       ) -> list[Prediction]:
    """One ``Prediction`` for the latest bar of ``frame`` (OHLCV, UTC index).

    Sentiment is aggregated at the latest bar's timestamp from headlines published at or
    before it (no lookahead). ``kind="label"``: ``value`` is -1/0/1 (negative/neutral/
    positive, read against the sign of the next bar's return, ``horizon=1``); ``output`` has
    the continuous ``score`` in [-1, 1], ``impact``, ``news_count`` and ``topics``;
    ``confidence`` is the aggregate confidence in [0, 1].
    """
    scorers = scorers or load_scorers()
    origin = frame.index[-1]
    t0 = time.perf_counter()
    agg, scored = symbol_sentiment(symbol, news, as_of=origin, scorers=scorers)
    ms = (time.perf_counter() - t0) * 1000
    version = scorers.head_metadata.get("version", "lexicon-only")
    value = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}[agg.label]
    h = hash_inputs(scored[["headline"]].assign(
        published_at=scored["published_at"].astype(str)))
    return [Prediction(model_name="sentiment", model_version=version, symbol=symbol.upper(),
                       interval=interval, kind="label", horizon=1, origin_ts=origin,
                       value=value, confidence=agg.confidence, latency_ms=ms, inputs_hash=h,
                       output={"score": agg.overall, "impact": agg.impact,
                               "news_count": agg.news_count, "topics": agg.topics,
                               "family": FAMILY, "scorers": scorers.names})]
