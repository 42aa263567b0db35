"""Rows of a scan: per-symbol failure isolation, every column present, model columns with
their baselines' skill labels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.screener.row import COLUMNS, ScanInput, screen_row
from core.screener.scan import rows_frame, scan_inputs
from tests.conftest import synthetic_ohlcv


def test_bad_symbol_gets_its_error_and_the_rest_succeed():
    good = ScanInput("SYNTH-A", "1d", "synthetic", synthetic_ohlcv(400, seed=1))
    broken = synthetic_ohlcv(400, seed=2)
    broken["close"] = np.nan  # a frame that breaks every computation
    bad = ScanInput("SYNTH-B", "1d", "synthetic", broken)
    missing = ScanInput("NOPE", "1d", "", None, "Yahoo Finance has no 1d bars for 'NOPE'.")
    rows, engine = scan_inputs([good, bad, missing], engine="serial")
    assert engine == "serial"
    assert list(rows.columns) == list(COLUMNS)
    by = rows.set_index("symbol")
    assert pd.isna(by.at["SYNTH-A", "error"]) and by.at["SYNTH-A", "close"] > 0
    assert by.at["SYNTH-B", "error"]
    assert by.at["NOPE", "error"].startswith("Yahoo Finance has no")
    assert pd.isna(by.at["NOPE", "close"])


def test_empty_frame_is_an_error_row():
    row = screen_row(ScanInput("X", "1d", "synthetic", synthetic_ohlcv(5).iloc[:0]))
    assert row["error"] == "no bars" and set(row) == set(COLUMNS)


def test_row_has_model_columns_and_skill_labels():
    row = screen_row(ScanInput("SYNTH-C", "1d", "synthetic", synthetic_ohlcv(700, seed=5)))
    assert row["error"] is None
    assert row["fc_model"] in ("forecast", "naive")
    assert row["fc_lo_pct"] <= row["fc_pct"] <= row["fc_hi_pct"]
    assert row["signal"] in ("STRONG_BUY", "BUY", "HOLD", "SELL", "STRONG_SELL")
    assert row["vol_regime"] in ("low", "normal", "high", None)
    assert row["breakout"] in ("up", "down", "none")
    if row["breakout"] != "none" and not row["breakout_skill"]:
        assert row["breakout_p"] is None  # no skill: no probability shown
    assert row["sentiment"] is None  # offline, nothing cached


def test_rows_frame_keeps_missing_keys_as_none():
    df = rows_frame([{"symbol": "A", "error": "x"}])
    assert list(df.columns) == list(COLUMNS) and pd.isna(df.at[0, "close"])


def test_row_forecasts_only_the_volatility_horizon_it_shows():
    """The row asks the volatility domain for its shortest horizon only; the numbers are
    those of the full prediction's shortest horizon, and the signal is unchanged."""
    from core.data import MarketData
    from core.panel import predictors
    from core.panel.symbol import symbol_panel
    from core.screener.row import row_predictors
    from core.volatility.serve import predict_latest

    frame = synthetic_ohlcv(700, seed=11)
    md = MarketData(frame, "SYNTH-V", "1d", "synthetic", frame.index[-1])
    vol = next(dp for dp in row_predictors() if dp.name == "volatility")
    assert [p.horizon for p in vol.predict(md)] == [1]
    full, one = predict_latest(md), vol.predict(md)
    for a, b in zip(full[:1], one):
        assert (a.value, a.lower, a.upper, a.output) == (b.value, b.lower, b.upper, b.output)
    panel_all = symbol_panel(md, list(predictors.DOMAIN_PREDICTORS))
    panel_row = symbol_panel(md, row_predictors())
    assert panel_all.signal == panel_row.signal and panel_all.regime == panel_row.regime
