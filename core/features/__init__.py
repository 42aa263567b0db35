"""Technical features per bar. No targets here: a feature at bar t uses bars <= t only.

``build_features(frame)`` is the single entry point every model uses; ``FEATURE_COLUMNS`` /
``feature_names()`` list its columns and ``FEATURE_VERSION`` changes whenever they change
(record it in model metadata). Definitions and units: ``docs/features.md``.
"""

from core.features.technical import (
    BARS_PER_YEAR,
    FEATURE_COLUMNS,
    FEATURE_VERSION,
    WARMUP_BARS,
    atr,
    build_features,
    feature_names,
)

__all__ = [
    "BARS_PER_YEAR", "FEATURE_COLUMNS", "FEATURE_VERSION", "WARMUP_BARS", "atr",
    "build_features", "feature_names",
]
