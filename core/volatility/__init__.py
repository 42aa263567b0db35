"""Volatility: realised estimators, forecasters (EWMA, GARCH family, HAR, ML), evaluation."""

from core.volatility.ewma import ewma_variance

__all__ = ["ewma_variance"]
