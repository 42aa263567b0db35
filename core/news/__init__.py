"""News headlines for per-symbol sentiment: Yahoo (yfinance ``Ticker.news``), RSS feeds
(feedparser), CSV upload and pasted text. Every source returns the same frame contract
(:data:`NEWS_COLUMNS`); nothing here invents a headline.
"""

from core.news.frame import NEWS_COLUMNS, normalise_news
from core.news.policy import cache_only
from core.news.sources import (
    NEWS_TTL_S, cached_news, fetch_rss, fetch_yahoo_news, get_news, parse_news_csv,
    parse_pasted,
)

__all__ = ["NEWS_COLUMNS", "NEWS_TTL_S", "cache_only", "cached_news", "fetch_rss", "fetch_yahoo_news",
           "get_news", "normalise_news", "parse_news_csv", "parse_pasted"]
