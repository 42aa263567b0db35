"""Technical features per bar. No targets here: a feature at bar t uses bars <= t only.

``build_features(frame)`` is the single entry point every model uses.
"""

from core.features.technical import FEATURE_VERSION, build_features

__all__ = ["FEATURE_VERSION", "build_features"]
