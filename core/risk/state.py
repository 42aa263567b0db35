"""Risk state per bar (inputs of the sizing policies and the signal-quality scorer).

Every column at bar t uses bars <= t only. Volatility is the RiskMetrics EWMA(0.94) from
:mod:`core.volatility` (kept fixed so the trained artifacts see the same inputs they were
trained on).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.market import log_returns, periods_per_year
from core.risk.inputs import ewma_sigma2

STATE_COLUMNS = ("log_vol", "vol_regime", "drawdown", "mom_5", "mom_20")
REGIME_WINDOW = 252
WARMUP = REGIME_WINDOW + 21


def risk_state(frame: pd.DataFrame, interval: str = "1d") -> pd.DataFrame:
    """Per-bar state (float64, NaN during the ~273-bar warm-up).

    Columns:
        vol_ann: EWMA volatility forecast, annualised [fraction] (not a model input).
        log_vol: ``log(vol_ann / 0.20)``.
        vol_regime: percentile rank of ``vol_ann`` among its last 252 values, in [0, 1]
            (high = a high-volatility regime relative to the past year).
        drawdown: ``close / max(close over 252 bars) - 1`` [fraction, <= 0].
        mom_5, mom_20: ``log(close_t / close_{t-n}) / (sigma * sqrt(n))`` clipped to [-5, 5]
            (recent signal in volatility units).
    """
    ppy = periods_per_year(interval)
    s2 = ewma_sigma2(frame)
    sigma = np.sqrt(s2)
    out = pd.DataFrame(index=frame.index)
    out["vol_ann"] = sigma * np.sqrt(ppy)
    out["log_vol"] = np.log(out["vol_ann"] / 0.20)
    out["vol_regime"] = out["vol_ann"].rolling(REGIME_WINDOW, min_periods=REGIME_WINDOW).rank(pct=True)
    c = frame["close"].astype("float64")
    out["drawdown"] = c / c.rolling(REGIME_WINDOW, min_periods=1).max() - 1
    lc = np.log(c)
    for n in (5, 20):
        out[f"mom_{n}"] = ((lc - lc.shift(n)) / (sigma * np.sqrt(n))).clip(-5, 5)
    out["log_return"] = log_returns(c)
    return out
