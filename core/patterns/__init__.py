"""Candlestick patterns (rules + CNN), their edge, and support/resistance breakouts.

Entry points: :func:`core.patterns.rules.detect` (15 rule detectors with trend context),
:mod:`core.patterns.cnn` (pattern CNN), :func:`core.patterns.edge.edge_table`,
:mod:`core.patterns.breakouts` (pivot levels, breakout features), and
:func:`predict_latest` (the live panel's :class:`core.predictions.Prediction` records).
torch and scikit-learn are imported only when a model is loaded or trained.
"""

from core.patterns.rules import DIRECTION, PATTERNS, detect
from core.patterns.serve import predict_latest

__all__ = ["DIRECTION", "PATTERNS", "detect", "predict_latest"]
