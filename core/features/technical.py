"""Technical indicator features (provisional minimal set; extended in the features work)."""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURE_VERSION = "0"


def build_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Feature matrix aligned to ``frame.index`` (float64; NaN during warm-up).

    Args:
        frame: validated OHLCV frame (see :mod:`core.data.validate`).
    """
    c = frame["close"]
    out = pd.DataFrame(index=frame.index)
    out["log_return"] = np.log(c).diff()
    for n in (5, 20):
        out[f"sma_ratio_{n}"] = c / c.rolling(n).mean() - 1
    return out
