"""Volatility: realised estimators, forecasters (EWMA, GARCH family, HAR, ML), evaluation.

Stable API (used by risk sizing and other pages):
    forecast_variance(frame, horizon, model) -> float   # fraction², per horizon
    regime(frame) -> "low" | "normal" | "high"
    realized_vol(frame, window, estimator, periods_per_year) -> Series  # annualised
    predict_latest(md) -> list[Prediction]
"""

from core.market import ewma_variance
from core.volatility.api import forecast_all, forecast_variance, regime, regime_series
from core.volatility.estimators import (
    ESTIMATORS, all_estimators, realized_var, realized_vol, volatility_cone,
)
from core.volatility.serve import predict_latest

__all__ = ["ESTIMATORS", "all_estimators", "ewma_variance", "forecast_all", "forecast_variance",
           "predict_latest", "realized_var", "realized_vol", "regime", "regime_series",
           "volatility_cone"]

