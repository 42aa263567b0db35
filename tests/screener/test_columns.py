"""Technical columns: values against independent formulas (TA-Lib for RSI), and no
lookahead: a row computed at bar k is the same whatever the bars after k are."""

from __future__ import annotations

import pytest
import talib

from core.screener.columns import technical_columns, trend_state
from core.screener.row import ScanInput, screen_row
from tests.conftest import synthetic_ohlcv


def test_values_match_independent_formulas():
    f = synthetic_ohlcv(400, seed=3)
    c = technical_columns(f)
    close = f["close"].to_numpy()
    assert c["close"] == pytest.approx(close[-1])
    assert c["chg_5_pct"] == pytest.approx(100 * (close[-1] / close[-6] - 1))
    assert c["rsi_14"] == pytest.approx(talib.RSI(close, timeperiod=14)[-1])
    vol = f["volume"].to_numpy()
    assert c["volume_ratio"] == pytest.approx(vol[-1] / vol[-21:-1].mean())
    assert c["from_high_52w_pct"] == pytest.approx(100 * (close[-1] / f["high"].iloc[-252:].max() - 1))
    assert c["from_high_52w_pct"] <= 0 <= c["from_low_52w_pct"]
    assert c["sma_200"] == pytest.approx(close[-200:].mean())
    assert c["support"] is None or c["support"] < close[-1]
    assert c["resistance"] is None or c["resistance"] > close[-1]


def test_short_history_gives_none_not_nan():
    c = technical_columns(synthetic_ohlcv(10, seed=1))
    assert c["chg_20_pct"] is None and c["rsi_14"] is None and c["trend"] == "n/a"
    assert c["support"] is None and c["resistance"] is None


@pytest.mark.parametrize("close,fast,slow,want", [
    (10, 9, 8, "up"), (7, 8, 9, "down"), (10, 8, 9, "mixed"), (10, None, 9, "n/a")])
def test_trend_state(close, fast, slow, want):
    assert trend_state(close, fast, slow) == want


def test_technical_columns_ignore_later_bars():
    f = synthetic_ohlcv(500, seed=4)
    k = 420
    altered = f.copy()
    later = altered.index[k + 1:]
    altered.loc[later, ["open", "high", "low", "close"]] *= 3.0
    altered.loc[later, "volume"] *= 10
    a = technical_columns(f.iloc[:k + 1])
    b = technical_columns(altered.iloc[:k + 1])
    assert a == b
    # and the last bar's own values matter: changing bar k changes the row
    bumped = f.iloc[:k + 1].copy()
    bumped.iloc[-1, bumped.columns.get_loc("close")] *= 1.05
    bumped.iloc[-1, bumped.columns.get_loc("high")] = max(bumped["high"].iloc[-1],
                                                         bumped["close"].iloc[-1])
    assert technical_columns(bumped)["chg_1_pct"] != a["chg_1_pct"]


@pytest.mark.slow
def test_model_columns_ignore_later_bars():
    """The whole row (models included) at bar k is unchanged by altering bars after k."""
    from core.data import load_ohlcv

    f = load_ohlcv("MSFT", source="bundled").frame.iloc[-900:]
    k = 800
    altered = f.copy()
    altered.iloc[k + 1:, :4] *= 0.5
    a = screen_row(ScanInput("MSFT", "1d", "bundled", f.iloc[:k + 1]))
    b = screen_row(ScanInput("MSFT", "1d", "bundled", altered.iloc[:k + 1]))
    assert a["error"] is None, a["error"]
    assert a == b
    assert a["last_bar"] == f.index[k].isoformat()
