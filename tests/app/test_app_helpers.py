"""Pure helpers behind the app shell: chart windows, login throttle, OIDC admin list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.auth import LoginThrottle, admin_emails
from core.plots.candles import (DOWN, MAX_CANDLES, UP, WINDOWS, candlestick_figure,
                                display_candles, gap_breaks, last_window)


def test_last_window_spans_calendar_time(synthetic_frame):
    f = synthetic_frame  # SYNTHETIC business-day bars, 300 of them
    one_year = last_window(f, "1Y")
    assert one_year.index[-1] == f.index[-1]
    assert (f.index[-1] - one_year.index[0]) <= pd.Timedelta(days=366)
    assert 250 <= len(one_year) <= 262
    assert len(last_window(f, "3M")) < len(last_window(f, "6M")) < len(one_year)
    assert last_window(f, "All") is f and len(last_window(f, "5Y")) == len(f)
    assert len(last_window(f.tail(1), "3M")) == 1
    with pytest.raises(ValueError, match="Unknown chart window"):
        last_window(f, "10Y")
    assert list(WINDOWS)[-1] == "All"


def test_candles_hide_weekends(synthetic_frame):
    fig = candlestick_figure(last_window(synthetic_frame, "3M"), "SYNTH")
    breaks = fig.layout.xaxis.rangebreaks
    hidden = {v for b in breaks for v in (b.values or [])}
    sat = [d for d in hidden if pd.Timestamp(d).dayofweek == 5]
    assert sat, "weekends must be hidden"
    assert not any(pd.Timestamp(d).dayofweek < 5 for d in hidden)  # no trading day hidden


def _hourly(index: pd.DatetimeIndex) -> pd.DataFrame:
    """SYNTHETIC flat OHLCV bars on ``index`` (test data only)."""
    n = len(index)
    return pd.DataFrame({"open": np.full(n, 100.0), "high": np.full(n, 101.0),
                         "low": np.full(n, 99.0), "close": np.full(n, 100.5),
                         "volume": np.full(n, 10.0)}, index=index)


def test_a_market_open_on_weekends_keeps_its_weekend_bars_on_the_chart():
    # SYNTHETIC 24/7 hourly bars (crypto-like), one whole day (a Wednesday) without bars
    idx = pd.date_range("2024-03-01", "2024-03-21 23:00", freq="h", tz="UTC")
    idx = idx[idx.normalize() != pd.Timestamp("2024-03-13", tz="UTC")]
    breaks = gap_breaks(idx)
    assert not any(b.get("bounds") for b in breaks)  # no weekend, no overnight break
    assert breaks == [{"values": ["2024-03-13"]}]
    assert gap_breaks(idx, future_weekends=True) == breaks
    fig = candlestick_figure(_hourly(idx), "SYNTH · 1h")
    assert not any(b.bounds for b in fig.layout.xaxis.rangebreaks)
    # the same hours on weekdays only (a stock): weekends hidden, no overnight gap to hide
    weekdays = idx[idx.day_of_week < 5]
    assert {"bounds": ["sat", "mon"]} in gap_breaks(weekdays)
    assert {"values": ["2024-03-13"]} in gap_breaks(weekdays)


def test_session_hours_and_future_weekends_are_hidden_for_a_weekday_market():
    # SYNTHETIC hourly bars 14:00-20:00 UTC on weekdays (a US session)
    idx = pd.date_range("2024-03-04", "2024-03-15 23:00", freq="h", tz="UTC")
    idx = idx[(idx.day_of_week < 5) & (idx.hour >= 14) & (idx.hour <= 20)]
    assert gap_breaks(idx) == [{"bounds": ["sat", "mon"]},
                               {"pattern": "hour", "bounds": [21.0, 14.0]}]
    # daily bars: absent days listed; a chart with forecasts past the last bar also hides
    # the weekends after it, unless the market trades on weekends
    days = pd.bdate_range("2024-03-04", "2024-03-15", tz="UTC")
    assert gap_breaks(days) == [{"values": ["2024-03-09", "2024-03-10"]}]
    assert gap_breaks(days, future_weekends=True) == [{"bounds": ["sat", "mon"]}]
    every_day = pd.date_range("2024-03-04", "2024-03-15", freq="D", tz="UTC")
    assert gap_breaks(every_day, future_weekends=True) == []


def _minute_bars(n: int, seed: int = 0) -> pd.DataFrame:
    """SYNTHETIC one-minute OHLCV bars (test data only)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = close * np.exp(rng.normal(0, 0.0005, n))
    spread = np.abs(rng.normal(0, 0.0005, n))
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * (1 + spread),
                         "low": np.minimum(open_, close) * (1 - spread), "close": close,
                         "volume": rng.integers(1, 1_000, n).astype(float)},
                        index=pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC"))


def test_display_candles_aggregates_long_windows_like_a_resample():
    f = _minute_bars(10_007)
    assert display_candles(f, 10_007) is f  # short enough: the frame itself
    out = display_candles(f, 1_000)
    k = 11  # ceil(10_007 / 1_000)
    assert out.attrs["bars_per_candle"] == k and len(out) == 910 <= 1_000
    # every candle is its k bars' OHLCV, checked against pandas' own grouping
    g = f.groupby(np.arange(len(f)) // k)
    expected = pd.DataFrame({"open": g["open"].first().to_numpy(),
                             "high": g["high"].max().to_numpy(),
                             "low": g["low"].min().to_numpy(),
                             "close": g["close"].last().to_numpy(),
                             "volume": g["volume"].sum().to_numpy()}, index=f.index[::k])
    pd.testing.assert_frame_equal(out, expected, check_freq=False)
    assert out["close"].iloc[-1] == f["close"].iloc[-1]  # the last, shorter bucket included
    assert out["volume"].sum() == f["volume"].sum()
    assert display_candles(out, 1_000) is out  # idempotent
    with pytest.raises(ValueError, match="at least 1"):
        display_candles(f, 0)


def test_candlestick_figure_draws_at_most_max_candles_and_says_so():
    f = _minute_bars(3 * MAX_CANDLES + 1)
    fig = candlestick_figure(f, "SYNTH · 1m")
    assert len(fig.data[0].x) == len(fig.data[1].x) <= MAX_CANDLES
    assert fig.layout.title.text == "SYNTH · 1m · 4 bars per candle"
    assert fig.data[0].high.max() == f["high"].max()  # no extreme is lost
    assert fig.data[0].low.min() == f["low"].min()
    short = candlestick_figure(f.tail(MAX_CANDLES), "SYNTH · 1m")
    assert len(short.data[0].x) == MAX_CANDLES and short.layout.title.text == "SYNTH · 1m"


def test_volume_columns_are_three_paths_that_keep_every_bar_and_its_colour(synthetic_frame):
    """The volume pane draws a filled step per colour and a hover line (no bar chart's path
    per bar): each bar's volume is in exactly one colour, green when the candle rose."""
    f = synthetic_frame.tail(252)
    fig = candlestick_figure(f, "SYNTH · 1d")
    vol = [t for t in fig.data if t.yaxis == "y2"]
    assert [t.type for t in fig.data].count("bar") == 0 and len(vol) == 3
    rising, falling, hover = vol
    up = (f["close"] >= f["open"]).to_numpy()
    np.testing.assert_array_equal(rising.y, np.where(up, f["volume"], 0.0))
    np.testing.assert_array_equal(falling.y, np.where(up, 0.0, f["volume"]))
    np.testing.assert_array_equal(np.asarray(rising.y) + np.asarray(falling.y), f["volume"])
    assert 0 < up.sum() < len(f)  # both colours occur in this frame
    assert rising.fillcolor.startswith("rgba(38,166,154,") and UP == "#26a69a"
    assert falling.fillcolor.startswith("rgba(239,83,80,") and DOWN == "#ef5350"
    assert {rising.line.shape, falling.line.shape} == {"hvh"}  # centred on their bars
    assert {rising.hoverinfo, falling.hoverinfo} == {"skip"}
    np.testing.assert_array_equal(hover.y, f["volume"])
    assert hover.line.width == 0 and "Volume" in hover.hovertemplate
    assert list(hover.x) == list(fig.data[0].x)  # the candles' bars, one for one


def test_login_throttle_backs_off_and_resets():
    now = [1000.0]
    t = LoginThrottle(free=3, base_s=2.0, max_s=10.0, clock=lambda: now[0])
    for _ in range(3):
        assert t.wait_seconds("Alice") == 0
        t.failure("alice")
    assert t.wait_seconds("ALICE") == pytest.approx(2.0)  # names are case-insensitive
    t.failure("alice")
    assert t.wait_seconds("alice") == pytest.approx(4.0)
    for _ in range(5):
        t.failure("alice")
    assert t.wait_seconds("alice") == pytest.approx(10.0)  # capped
    now[0] += 10.0
    assert t.wait_seconds("alice") == 0
    assert t.wait_seconds("bob") == 0
    t.success("alice")
    assert t.wait_seconds("alice") == 0


def test_login_throttle_check_and_record_is_one_step():
    """Ten parallel attempts after the free ones: only the free ones reach bcrypt."""
    import threading

    now = [1000.0]
    t = LoginThrottle(free=5, clock=lambda: now[0])
    passed = []
    barrier = threading.Barrier(10)

    def attempt():
        barrier.wait()
        if t.begin("alice", "10.0.0.9") == 0:
            passed.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(passed) == 5


def test_login_throttle_an_attacker_slows_only_themselves():
    now = [1000.0]
    t = LoginThrottle(free=3, base_s=2.0, clock=lambda: now[0], global_free=20)
    for _ in range(6):
        t.begin("Admin", "attacker")
    assert t.wait_seconds("admin", "attacker") > 0
    assert t.begin("admin", "admin-laptop") == 0  # the real admin still gets in
    t.success("admin", "admin-laptop")
    for i in range(20):  # many clients together exhaust the global budget
        t.begin("admin", f"bot{i}")
    assert t.wait_seconds("admin", "someone-new") > 0


def test_admin_emails_need_configuration(monkeypatch):
    monkeypatch.delenv("QUANTDESK_ADMIN_EMAILS", raising=False)
    monkeypatch.setattr("core.auth.secrets_file", lambda: __import__("pathlib").Path("/nonexistent"))
    assert admin_emails() == set()
    monkeypatch.setenv("QUANTDESK_ADMIN_EMAILS", " Ops@Example.org, not-an-email ,")
    assert admin_emails() == {"ops@example.org"}


def test_policy_figure_thins_long_histories_but_keeps_ends_and_deepest_drawdown():
    import numpy as np
    import pandas as pd

    from core.plots.risk import thin

    idx = pd.bdate_range("2010-01-01", periods=3000)
    s = pd.Series(np.linspace(1, 2, 3000), index=idx)
    t = thin(s, 1000)
    assert len(t) <= 1001 and t.index[0] == idx[0] and t.iloc[-1] == s.iloc[-1]
    dd = pd.Series(np.zeros(3000), index=idx)
    dd.iloc[1234] = -0.5
    assert thin(dd, 1000, "min").min() == -0.5
    assert thin(s.iloc[:500], 1000).equals(s.iloc[:500])


def test_warmup_is_off_without_a_server_start():
    from ui import warmup

    assert not warmup.pending()  # nothing started: pages load models synchronously
