"""Per-symbol sentiment from headlines -> ``SentimentScore`` and ``Prediction`` records."""

from __future__ import annotations

import time

import pandas as pd

from core.config import get_settings
from core.errors import QuantdeskError
from core.news import get_news
from core.predictions import Prediction, hash_inputs
from core.sentiment.aggregate import DEFAULT_HALF_LIFE_HOURS, SentimentScore, aggregate
from core.sentiment.scorers import FAMILY, ScorerSet, load_scorers, score_texts


def score_news(news: pd.DataFrame, scorers: ScorerSet | None = None) -> pd.DataFrame:
    """Score a news frame (``core.news`` contract): the news columns plus the columns of
    :func:`core.sentiment.scorers.score_texts` (``text`` equals ``headline``)."""
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


def predict_latest(md, *, news_fn=None, scorers: ScorerSet | None = None) -> list:
    """Live-panel entry point: the sentiment ``Prediction`` for the latest bar of ``md``.

    Fetches headlines for ``md.symbol`` with :func:`core.news.get_news` (Yahoo, 30-minute
    disk cache), keeps those published at or before the latest bar's timestamp (no
    lookahead; undated headlines are dropped, their time cannot be checked) and scores them
    with the offline scorers (lexicons + MiniLM head; FinBERT is not loaded here, it would
    cost seconds to minutes) through
    :func:`latest_predictions`.

    Args:
        md: ``core.data.MarketData`` (``.frame`` OHLCV with UTC index, ``.symbol``,
            ``.interval``).
        news_fn: ``symbol -> (news frame, notes)``; defaults to ``core.news.get_news``
            (injectable for tests).
        scorers: preloaded scorers (default: :func:`load_scorers` ``finbert=False``).
    Returns:
        ``[]`` when offline (``QUANTDESK_OFFLINE``; returns in well under a millisecond, no
        cache or network access), when the news source fails or has no headline up to the
        latest bar, or when ``md`` has no bars. Otherwise a one-element list (``kind
        "label"``, value -1/0/1, ``output["score"]`` in [-1, 1]). Headlines are never
        invented.
    Raises:
        QuantdeskError subclasses from loading the models (the panel reports them).
    """
    frame = getattr(md, "frame", None)
    if frame is None or len(frame) == 0 or get_settings().offline:
        return []
    if news_fn is None:
        news_fn = get_news
    try:
        news, _notes = news_fn(md.symbol)
    except QuantdeskError:
        return []
    if news is None or news.empty:
        return []
    origin = frame.index[-1]
    pub = pd.to_datetime(news["published_at"], utc=True, errors="coerce")
    news = news[pub.notna() & (pub <= origin)]
    if news.empty or not news["headline"].astype(str).str.strip().any():
        return []
    return latest_predictions(md.symbol, news, frame, interval=md.interval,
                              scorers=scorers or load_scorers(finbert=False))
