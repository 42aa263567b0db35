"""Design matrix for the forecaster: ``core.features.build_features`` columns (bars <= t),
the per-horizon volatility scale, and the target from ``core.targets`` (never a feature)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import ArtifactIntegrityError
from core.features import build_features
from core.market import ewma_variance, log_returns
from core.targets import forward_log_return


def feature_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """All feature columns for ``frame`` (validated OHLCV), float64, inf -> NaN."""
    f = build_features(frame).astype("float64")
    return f.replace([np.inf, -np.inf], np.nan)


def daily_sigma(frame: pd.DataFrame) -> pd.Series:
    """EWMA (lambda 0.94) volatility of one-bar log returns known at each bar [log-return
    units per bar, not annualised]; NaN during the 20-bar warm-up
    (:func:`core.market.ewma_variance`)."""
    return np.sqrt(ewma_variance(log_returns(frame["close"]))).rename("sigma")


def design_features(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """The feature part of :func:`design`: ``columns`` (default all) of :func:`feature_frame`.

    Raises:
        ArtifactIntegrityError: a requested column is no longer produced.
    """
    feats = feature_frame(frame)
    if columns is not None:
        missing = [c for c in columns if c not in feats.columns]
        if missing:
            raise ArtifactIntegrityError(
                f"The forecast model needs feature columns that build_features no longer "
                f"produces ({', '.join(missing[:5])}...). Retrain: `quantdesk train forecast`.")
        feats = feats[columns]
    return feats


def design_target(frame: pd.DataFrame, horizon: int) -> tuple[pd.Series, pd.Series]:
    """The target part of :func:`design`: (forward log return over ``horizon`` bars, NaN for
    the last ``horizon`` bars; sigma_h = daily_sigma * sqrt(horizon)). Kept apart from the
    features: the target is never a feature."""
    y = forward_log_return(frame["close"], horizon)
    sig = daily_sigma(frame) * np.sqrt(horizon)
    return y, sig


def design(frame: pd.DataFrame, horizon: int, columns: list[str] | None = None):
    """(X, y, sigma_h) aligned to ``frame.index``: X has ``columns`` (default all features),
    y the forward log return over ``horizon`` bars (NaN for the last ``horizon`` bars), and
    sigma_h = daily_sigma * sqrt(horizon)."""
    return (design_features(frame, columns), *design_target(frame, horizon))
