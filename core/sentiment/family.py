"""The ``sentiment-head`` family: declared once for the registry, CLI, panel and Admin."""

from __future__ import annotations

from core.family import ModelFamily
from core.sentiment import commands
from core.sentiment.serve import predict_latest
from core.sentiment.scorers import FAMILY
from core.sentiment.train import train

SENTIMENT_HEAD = ModelFamily(
    name=FAMILY, domain="sentiment", title="News sentiment (MiniLM head + lexicons)",
    kind="label", train=train, predict_latest=predict_latest, commands=commands)
