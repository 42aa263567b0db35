"""The ``volatility`` family: declared once for the registry, CLI, panel, replay and Admin."""

from __future__ import annotations

from core.family import ModelFamily
from core.volatility import commands
from core.volatility.evaluate import evaluation_record
from core.volatility.serve import predict_latest
from core.volatility.train import FAMILY, train


VOLATILITY = ModelFamily(
    name=FAMILY, domain="volatility", title="Volatility (GARCH family, HAR, ML)",
    kind="variance", train=train, predict_latest=predict_latest, min_bars=300,
    commands=commands, legacy_record=evaluation_record)
