"""Indicators: parity with TA-Lib, hand-checked VWAP and volume profile, no lookahead
(real bundled MSFT)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from core.data.bundled import load_bundled
from core.strategy import indicators as ind


@pytest.fixture(scope="module")
def msft() -> pd.DataFrame:
    return load_bundled("MSFT")


def _a(frame, col):
    return frame[col].to_numpy(dtype="float64")


def test_parity_with_talib(msft):
    h, l, c, v = (_a(msft, k) for k in ("high", "low", "close", "volume"))
    same = np.testing.assert_allclose
    same(ind.sma(msft, 50)["sma_50"], talib.SMA(c, 50), equal_nan=True)
    same(ind.ema(msft, 20)["ema_20"], talib.EMA(c, 20), equal_nan=True)
    up, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    bb = ind.bollinger(msft, 20, 2.0)
    same(bb["bb_upper"], up, equal_nan=True)
    same(bb["bb_mid"], mid, equal_nan=True)
    same(bb["bb_lower"], lo, equal_nan=True)
    same(bb["bb_pctb"], (c - lo) / (up - lo), equal_nan=True)
    same(ind.rsi(msft, 14)["rsi_14"], talib.RSI(c, 14), equal_nan=True)
    m, s, hist = talib.MACD(c, 12, 26, 9)
    mm = ind.macd(msft)
    same(mm["macd"], m, equal_nan=True)
    same(mm["macd_signal"], s, equal_nan=True)
    same(mm["macd_hist"], hist, equal_nan=True)
    k, d = talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
    st = ind.stochastic(msft)
    same(st["stoch_k"], k, equal_nan=True)
    same(st["stoch_d"], d, equal_nan=True)
    same(ind.atr(msft, 14)["atr_14"], talib.ATR(h, l, c, 14), equal_nan=True)
    same(ind.obv(msft)["obv"], talib.OBV(c, v), equal_nan=True)
    rsi = ind.rsi(msft)["rsi_14"].dropna()
    assert rsi.between(0, 100).all() and len(rsi) == len(msft) - 14


def test_vwap_by_hand_resets_each_session():
    idx = pd.DatetimeIndex(["2024-03-04 14:30", "2024-03-04 15:30", "2024-03-05 14:30"],
                           tz="UTC", name="timestamp")
    f = pd.DataFrame({"open": [10, 11, 20], "high": [12, 13, 21], "low": [9, 10, 19],
                      "close": [11, 12, 20], "volume": [100, 300, 50]}, index=idx, dtype=float)
    tp = [(12 + 9 + 11) / 3, (13 + 10 + 12) / 3, (21 + 19 + 20) / 3]
    v = ind.vwap(f)["vwap"].to_numpy()
    assert v[0] == pytest.approx(tp[0])
    assert v[1] == pytest.approx((tp[0] * 100 + tp[1] * 300) / 400)
    assert v[2] == pytest.approx(tp[2])  # a new New York session starts over


def test_volume_profile_by_hand():
    idx = pd.date_range("2024-01-01", periods=2, tz="UTC", name="timestamp")
    f = pd.DataFrame({"open": [1, 3], "high": [2, 4], "low": [0, 2], "close": [1, 3],
                      "volume": [100, 40]}, index=idx, dtype=float)
    p = ind.volume_profile(f, bins=4)  # bins [0,1) [1,2) [2,3) [3,4]
    np.testing.assert_allclose(p["volume"], [50, 50, 20, 20])
    assert p["volume"].sum() == pytest.approx(140) and p["share"].sum() == pytest.approx(1)
    assert p["poc"].sum() == 1 and p.loc[p["poc"], "price_lo"].iloc[0] == 0


def test_volume_profile_real_total(msft):
    p = ind.volume_profile(msft.tail(250), bins=30)
    assert p["volume"].sum() == pytest.approx(msft["volume"].tail(250).sum(), rel=1e-9)


@pytest.mark.parametrize("t", (300, 1500, 3000))
def test_altering_the_future_changes_nothing_up_to_t(msft, t):
    altered = msft.copy()
    later = altered.index > altered.index[t]
    for col in ("open", "high", "low", "close"):
        altered.loc[later, col] *= 3.0
    altered.loc[later, "volume"] *= 10.0
    for name, fn in ind.INDICATORS.items():
        a, b = fn(msft), fn(altered)
        np.testing.assert_allclose(b.iloc[:t + 1], a.iloc[:t + 1], rtol=1e-9, equal_nan=True,
                                   err_msg=name)
        assert not np.allclose(b.iloc[t + 1:t + 40].fillna(0), a.iloc[t + 1:t + 40].fillna(0)), \
            f"{name}: the alteration must show after t, else this proves nothing"


def test_bad_parameters_and_unknown_name(msft):
    with pytest.raises(ValueError, match="period"):
        ind.sma(msft, 0)
    with pytest.raises(ValueError, match="fast < slow"):
        ind.macd(msft, 26, 12)
    with pytest.raises(ValueError, match="unknown indicator"):
        ind.compute(msft, "ichimoku")
    assert list(ind.compute(msft, "sma", period=10).columns) == ["sma_10"]
