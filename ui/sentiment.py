"""Cached wrappers for the Sentiment page (scorers: resource; news 30 min; scores 15 min)."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from core.news import get_news
from core.sentiment.serve import symbol_sentiment
from core.sentiment.scorers import FAMILY, load_scorers
from ui.models import serving_key

NEWS_TTL_S = 30 * 60
SENTIMENT_TTL_S = 15 * 60
#: entries per cache (every cache is bounded in time and in entries, issue 18): a news entry
#: is one symbol's headlines (about 100 rows); a scores entry holds one scored headline frame
#: per (symbol, headlines, half-life): a few dozen users' recent choices fit, an old one goes
NEWS_MAX_ENTRIES = 64
SENTIMENT_MAX_ENTRIES = 32


# keyed by the head's serving version: bounded by entries; no TTL, which would only reload the
# same weights (a promote or rollback changes the key)
@st.cache_resource(max_entries=4, show_spinner="Loading sentiment models…")
def _scorers(finbert_download: bool, key: tuple):
    return load_scorers(finbert=True, finbert_download=finbert_download)


def scorers(finbert_download: bool = False):
    """Scorer set (lexicons, MiniLM head, FinBERT when local/cached or download allowed),
    cached per serving version of the sentiment head (:func:`ui.models.serving_key`)."""
    return _scorers(finbert_download, serving_key(FAMILY))


@st.cache_data(ttl=NEWS_TTL_S, max_entries=NEWS_MAX_ENTRIES, show_spinner="Fetching news…")
def cached_news(symbol: str, feeds: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """Yahoo + RSS headlines, 30 minutes, the last 64 (symbol, feeds)."""
    return get_news(symbol, list(feeds))


@st.cache_data(ttl=SENTIMENT_TTL_S, max_entries=SENTIMENT_MAX_ENTRIES,
               show_spinner="Scoring headlines…")
def cached_sentiment(symbol: str, news_json: str, half_life: float, finbert_download: bool,
                     head_key: tuple = ()):
    """(SentimentScore as dict, scored frame) for the headlines, 15 minutes, the last 32
    choices; ``head_key``
    (the head's serving key) re-scores after a promote or rollback."""
    news = pd.read_json(io.StringIO(news_json), orient="records", convert_dates=["published_at"])
    if "published_at" in news:
        news["published_at"] = pd.to_datetime(news["published_at"], utc=True)
    for c in ("symbol", "source", "url"):
        news[c] = news.get(c, "").fillna("").astype(str) if c in news else ""
    agg, scored = symbol_sentiment(symbol, news, None, half_life, scorers(finbert_download))
    return agg.to_dict(), scored


def news_to_json(news: pd.DataFrame) -> str:
    """News frame as JSON records (ISO dates): the hashable form :func:`cached_sentiment`
    takes."""
    return news.to_json(orient="records", date_format="iso")
