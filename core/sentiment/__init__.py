"""News sentiment: lexicons (VADER, Loughran-McDonald), FinBERT (optional), an offline
MiniLM transformer head, a fitted ensemble, evaluation and per-symbol aggregation.

Importing this package is light; models load on first use (:func:`load_scorers`).
"""

from core.sentiment.labels import LABELS

__all__ = ["LABELS"]
