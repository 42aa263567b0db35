"""Headline clean-up shared by training and scoring of the MiniLM sentiment head.

The head is trained on financial-news *tweets* (URLs, ``$TICKER -`` prefixes, hashtags,
"…" truncation marks) but scores news *headlines* and sentences (yfinance, RSS, uploads).
:func:`clean_headline` strips the tweet-only markup so that both look alike to the encoder;
the same function runs when the head is trained and when it scores, so there is one
definition of the model's input. Lexicon scorers (VADER, LM) read the raw text.
"""

from __future__ import annotations

import re

_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
#: "$AAPL - ", "$NVO $NONOF - ", "$FCX: " at the start of a tweet
_TICKER_PREFIX = re.compile(r"^\s*(\$[A-Za-z][A-Za-z.\-]*\s*)+([-:–—]\s*|$)")
#: "$LYFT" inside the text -> "LYFT" (dollar amounts such as "$1.2" are left alone)
_CASHTAG = re.compile(r"\$([A-Za-z][A-Za-z.]*)")
#: trailing hashtag block: "... results #finance #investing"
_TRAILING_TAGS = re.compile(r"(\s+#\w+)+\s*$")
_ELLIPSIS = re.compile(r"(…|\.\.\.+)\s*$")
_HASH = re.compile(r"#(\w)")
_SPACE = re.compile(r"\s+")


def clean_headline(text: str) -> str:
    """Return ``text`` without tweet markup: URLs, a leading cashtag prefix (``"$AAPL - "``),
    the ``$`` of inline cashtags, a trailing block of hashtags, the ``#`` of inline hashtags,
    a trailing ellipsis, and repeated white space (incl. non-breaking spaces).

    Plain headlines pass through unchanged apart from white space; a text that would become
    empty keeps its tickers (``"$MDCO https://t.co/x"`` -> ``"MDCO"``). Example:
    ``"$CX - Cemex cut at Credit Suisse https://t.co/x"`` -> ``"Cemex cut at Credit Suisse"``.
    """
    raw = _SPACE.sub(" ", str(text)).strip()
    out = _URL.sub(" ", raw)
    out = _TICKER_PREFIX.sub("", out)
    out = _CASHTAG.sub(r"\1", out)
    out = _SPACE.sub(" ", out).strip()
    out = _TRAILING_TAGS.sub("", out)
    out = _ELLIPSIS.sub("", out)
    out = _HASH.sub(r"\1", out)
    out = _SPACE.sub(" ", out).strip()
    if not out:  # nothing but a cashtag and a link: keep the ticker
        out = _SPACE.sub(" ", _CASHTAG.sub(r"\1", _URL.sub(" ", raw))).strip()
    return out or raw


def clean_headlines(texts) -> list[str]:
    """:func:`clean_headline` over an iterable of texts -> list[str] of the same length."""
    return [clean_headline(t) for t in texts]
