"""The ``forecast`` family: declared once for the registry, CLI, panel, replay and Admin."""

from __future__ import annotations

from core.family import ModelFamily
from core.forecasting import commands
from core.forecasting.artifact import FAMILY
from core.forecasting.evaluate import evaluation_record
from core.forecasting.serve import predict_latest
from core.forecasting.train import train


FORECAST = ModelFamily(
    name=FAMILY, domain="forecast", title="Price forecast (tree ensemble)", kind="log_return",
    train=train, predict_latest=predict_latest, accepts_artifact=True, min_bars=300,
    commands=commands, legacy_record=evaluation_record)
