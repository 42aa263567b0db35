"""The news frame contract shared by every source."""

from __future__ import annotations

import pandas as pd

from core.errors import DataValidationError

#: published_at: UTC timestamp (NaT when the source gives none); headline: str;
#: symbol: upper-case ticker or ""; source: publisher/feed name; url: link or "".
NEWS_COLUMNS = ["published_at", "headline", "symbol", "source", "url"]
MAX_HEADLINE_CHARS = 1000


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
