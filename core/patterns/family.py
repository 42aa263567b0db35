"""The ``patterns-cnn`` and ``breakout`` families (one panel domain, ``patterns``)."""

from __future__ import annotations

from core.family import ModelFamily
from core.patterns import commands
from core.patterns.cnn import FAMILY as CNN_FAMILY
from core.patterns.serve import BREAKOUT_FAMILY, predict_latest
from core.patterns.train import train_breakout, train_patterns

PATTERNS_CNN = ModelFamily(
    name=CNN_FAMILY, domain="patterns", title="Candlestick pattern CNN", kind="probability",
    train=train_patterns, predict_latest=predict_latest, commands=commands)

BREAKOUT = ModelFamily(
    name=BREAKOUT_FAMILY, domain="patterns", title="Breakout filter (MLP + SVM)",
    kind="probability", train=train_breakout, commands=commands)
