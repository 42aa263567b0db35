"""Sentiment labels and the mapping of dataset-specific labels onto them.

Three classes, in this fixed order everywhere (arrays, probabilities, confusion matrices):
``negative``, ``neutral``, ``positive``. A score in [-1, 1] maps to a label with a symmetric
dead band: ``score < -t`` -> negative, ``score > t`` -> positive, else neutral.
"""

from __future__ import annotations

import numpy as np

from core.errors import DataValidationError

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}

# Twitter Financial News Sentiment (zeroshot, MIT): 0 Bearish, 1 Bullish, 2 Neutral.
TWITTER_LABELS = {0: "negative", 1: "positive", 2: "neutral"}

_ALIASES = {
    "negative": "negative", "neg": "negative", "bearish": "negative", "-1": "negative",
    "neutral": "neutral", "neu": "neutral", "0": "neutral",
    "positive": "positive", "pos": "positive", "bullish": "positive", "1": "positive",
}


def normalise_label(value, *, twitter_codes: bool = False) -> str:
    """One label -> ``negative``/``neutral``/``positive``.

    Accepts the names (any case), ``bearish``/``bullish``, and numbers: with
    ``twitter_codes=True`` the Twitter set's 0/1/2 (Bearish/Bullish/Neutral), otherwise
    -1/0/1 (negative/neutral/positive).

    Raises:
        DataValidationError: the value is not a recognised label.
    """
    if twitter_codes:
        try:
            return TWITTER_LABELS[int(value)]
        except (KeyError, TypeError, ValueError):
            pass
    key = str(value).strip().lower()
    if key.endswith(".0"):
        key = key[:-2]
    if key in _ALIASES:
        return _ALIASES[key]
    raise DataValidationError(
        f"Unknown sentiment label {value!r}. Use negative/neutral/positive, bearish/bullish, "
        "-1/0/1, or the Twitter set's codes 0 Bearish / 1 Bullish / 2 Neutral."
    )


def label_from_score(score, threshold: float) -> np.ndarray:
    """Scores in [-1, 1] -> label strings with the dead band ``|score| <= threshold``.

    Args:
        score: array-like of float, shape (n,). threshold: dead-band half-width in [0, 1).
    Returns:
        ndarray of str, shape (n,).
    """
    s = np.asarray(score, dtype="float64")
    out = np.full(s.shape, "neutral", dtype=object)
    out[s > threshold] = "positive"
    out[s < -threshold] = "negative"
    return out
