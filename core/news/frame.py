"""The news frame contract shared by every source."""

from __future__ import annotations

import pandas as pd

from core.errors import DataValidationError

#: published_at: UTC timestamp (NaT when the source gives none); headline: str;
#: symbol: upper-case ticker or ""; source: publisher/feed name; url: link or "".
NEWS_COLUMNS = ["published_at", "headline", "symbol", "source", "url"]
#: longest headline scored, in characters: the page, the CLI, the API and every other entry
#: cut (or refuse) longer text at this limit (VADER's time grows quadratically with length)
MAX_HEADLINE_CHARS = 1000
#: most headlines scored in one call (one ``score_texts``; the HTTP API allows fewer)
MAX_HEADLINES = 1000


def normalise_news(df: pd.DataFrame, default_source: str = "", symbol: str = "") -> pd.DataFrame:
    """Coerce to NEWS_COLUMNS: UTC ``published_at`` (unparseable -> NaT), stripped non-empty
    headlines (cut at 1,000 characters), duplicates (same headline + time) dropped, newest
    first.

    Raises:
        DataValidationError: no ``headline`` column.
    """
    if "headline" not in df.columns:
        raise DataValidationError("News needs a 'headline' column.")
    out = pd.DataFrame(index=df.index)
    pub = df["published_at"] if "published_at" in df.columns else pd.Series(None, index=df.index)
    out["published_at"] = pd.to_datetime(pub, utc=True, errors="coerce", format="mixed")
    out["headline"] = df["headline"].astype("string").fillna("").str.strip() \
        .str.slice(0, MAX_HEADLINE_CHARS)
    sym = df["symbol"] if "symbol" in df.columns else pd.Series(symbol, index=df.index)
    out["symbol"] = sym.astype("string").fillna(symbol).str.strip().str.upper()
    src = df["source"] if "source" in df.columns else pd.Series(default_source, index=df.index)
    out["source"] = src.astype("string").fillna(default_source).str.strip()
    url = df["url"] if "url" in df.columns else pd.Series("", index=df.index)
    out["url"] = url.astype("string").fillna("").str.strip()
    out = out[out["headline"] != ""]
    out = out.drop_duplicates(subset=["headline", "published_at"])
    out = out.sort_values("published_at", ascending=False, na_position="last")
    return out.reset_index(drop=True).astype({"headline": str, "symbol": str, "source": str,
                                              "url": str})


def for_symbol(news: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """The rows about ``symbol`` of a news frame that names symbols: its rows and those with
    no symbol (``""``). The frame unchanged when no row names a symbol or none names this one
    (e.g. an upload about one company without a symbol column)."""
    if (news["symbol"] != "").any() and (news["symbol"] == symbol).any():
        return news[news["symbol"].isin([symbol, ""])]
    return news


def combine_news(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """News frames of several sources stacked (index 0..n-1); an empty frame for none."""
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def feed_urls(text: str) -> tuple[str, ...]:
    """RSS feed URLs from comma-separated text, stripped, blanks dropped."""
    return tuple(u.strip() for u in text.split(",") if u.strip())
