"""The forecast fan's time axis: the weekends after the last bar are hidden only for a market
that is closed on weekends (a 24/7 market's forecasts land on Saturdays and Sundays)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from core.plots.forecast import fan_figure


def _bars(index: pd.DatetimeIndex) -> pd.DataFrame:
    """SYNTHETIC flat daily OHLCV bars on ``index`` (test data only)."""
    n = len(index)
    return pd.DataFrame({"open": np.full(n, 100.0), "high": np.full(n, 101.0),
                         "low": np.full(n, 99.0), "close": np.full(n, 100.5),
                         "volume": np.full(n, 10.0)}, index=index)


def _preds(targets: list[pd.Timestamp]) -> list:
    price = {"ensemble": 101.0, "lo_80": 99.0, "hi_80": 103.0, "lo_95": 98.0, "hi_95": 104.0}
    return [SimpleNamespace(horizon=h, target_ts=t, output={"price": price})
            for h, t in enumerate(targets, start=1)]


def _weekend_bounds(fig) -> bool:
    return any(list(b.bounds or []) == ["sat", "mon"] for b in fig.layout.xaxis.rangebreaks)


def test_weekday_market_hides_the_weekends_of_its_forecast_horizon():
    days = pd.bdate_range("2024-03-04", "2024-03-15", tz="UTC")  # ends on a Friday
    fig = fan_figure(_bars(days), _preds([days[-1] + pd.Timedelta(days=3)]), "SYNTH")
    assert _weekend_bounds(fig)


def test_a_market_open_on_weekends_keeps_the_weekend_of_its_forecast_horizon():
    days = pd.date_range("2024-03-04", "2024-03-15", freq="D", tz="UTC")  # 24/7 (crypto-like)
    targets = [days[-1] + pd.Timedelta(days=h) for h in (1, 2, 3)]  # Sat, Sun, Mon
    fig = fan_figure(_bars(days), _preds(targets), "SYNTH")
    assert not _weekend_bounds(fig)
    assert not any(b.values for b in fig.layout.xaxis.rangebreaks)
    assert list(fig.data[-1].x)[1:] == targets  # the forecast path reaches each target bar
