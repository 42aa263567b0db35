"""Market context (core/context.py): values against hand computations on small frames, no
lookahead (bars after the as-of bar altered), the offline as-of labels on the bundled
history, and `quantdesk context --json`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from core import context as cx
from core.cli import app
from core.data.bundled import load_bundled
from tests.conftest import synthetic_ohlcv

runner = CliRunner()


def days(n: int, start: str = "2020-01-01") -> pd.DatetimeIndex:
    return pd.bdate_range(start, periods=n, tz="UTC", name="timestamp")


def series(values, start: str = "2020-01-01") -> pd.Series:
    return pd.Series(np.asarray(values, dtype="float64"), index=days(len(values), start))


# ------------------------------------------------------------------ hand computations

def test_vix_percentile_by_hand():
    s = series([10, 20, 15, 30, 12])
    r = cx.vix_regime_series(s, years=5, min_history=3)
    # bar 3 (30): previous 10, 20, 15 -> all 3 at or below -> 1.0, high
    assert r["history"].tolist() == [0, 1, 2, 3, 4]
    assert np.isnan(r["pct"].iloc[2]) and r["regime"].iloc[2] is None
    assert r["pct"].iloc[3] == 1.0 and r["regime"].iloc[3] == "high"
    # bar 4 (12): previous 10, 20, 15, 30 -> only 10 at or below -> 0.25, normal
    assert r["pct"].iloc[4] == 0.25 and r["regime"].iloc[4] == "normal"
    low = cx.vix_regime_series(series([10, 20, 15, 30, 9]), min_history=3)
    assert low["pct"].iloc[-1] == 0.0 and low["regime"].iloc[-1] == "low"


def test_vix_window_is_five_calendar_years():
    idx = pd.DatetimeIndex(["2010-01-04", "2014-06-02", "2015-01-05", "2015-01-06"],
                           tz="UTC")
    s = pd.Series([50.0, 10.0, 20.0, 15.0], index=idx)
    r = cx.vix_regime_series(s, min_history=1)
    # 2015-01-06's previous 5 years start 2010-01-06: the 2010-01-04 close (50) is out
    assert r["history"].iloc[-1] == 2 and r["pct"].iloc[-1] == 0.5


def test_vix_state_ranks_against_previous_closes():
    rng = np.random.default_rng(1)
    s = series(15 + rng.normal(0, 3, 400))
    as_of = s.index[350]
    st = cx.vix_state(s, as_of)
    prev = s.iloc[:350].to_numpy()
    assert st["level"] == pytest.approx(s.iloc[350])
    assert st["percentile"] == pytest.approx(np.mean(prev <= s.iloc[350]))
    assert st["history"] == 350 and st["as_of"] == str(as_of.date())
    short = cx.vix_state(s, s.index[100])
    assert short["regime"] == "n/a" and short["level"] is not None and "needs 252" in short["note"]


def test_trend_up_down_mixed_by_hand():
    up = series([100.0] * 199 + [110.0])
    b = cx.benchmark_trend(up, up.index[-1])
    assert b["sma50"] == pytest.approx((49 * 100 + 110) / 50)
    assert b["sma200"] == pytest.approx((199 * 100 + 110) / 200)
    assert b["trend"] == "up" and b["close"] == 110.0 and b["as_of"] == str(up.index[-1].date())
    down = series([100.0] * 199 + [90.0])
    assert cx.benchmark_trend(down, down.index[-1])["trend"] == "down"
    mixed = series([50.0] * 150 + [200.0] * 49 + [150.0])
    m = cx.benchmark_trend(mixed, mixed.index[-1])
    assert m["sma50"] == pytest.approx(199.0) and m["sma200"] == pytest.approx(87.25)
    assert m["trend"] == "mixed"
    short = cx.benchmark_trend(up.iloc[:150], up.index[149])
    assert short["trend"] == "n/a" and "needs 200" in short["note"]


def test_breadth_by_hand():
    a = series([10.0] * 49 + [11.0])             # above its 50-bar average
    b = series([10.0] * 49 + [9.0])              # below
    c = series([10.0] * 30)                      # too short: no data
    d = series([10.0] * 49 + [12.0], "2019-06-03")  # ends months before: no data
    r = cx.breadth({"A": a, "B": b, "C": c, "D": d}, a.index[-1])
    assert r["share"] == 0.5 and r["above"] == 1 and r["with_data"] == 2
    assert r["symbols"] == 4 and r["without_data"] == ["C", "D"]
    assert r["as_of"] == str(a.index[-1].date())
    flat = cx.breadth({"A": series([10.0] * 50)}, days(50)[-1])
    assert flat["share"] == 0.0  # equal to its average is not above it
    assert cx.breadth({"C": c}, a.index[-1])["share"] is None


def test_liquidity_amihud_by_hand():
    f = pd.DataFrame({"close": [10.0, 11.0, 9.9, 10.89], "volume": [100.0, 200.0, 100.0, 50.0]},
                     index=days(4))
    r = cx.liquidity(f, window=3, min_bars=3)
    # returns +0.1, -0.1, +0.1 on dollar volumes 2200, 990, 544.5
    want = np.mean([0.1 / 2200, 0.1 / 990, 0.1 / 544.5])
    assert r["amihud"] == pytest.approx(want, rel=1e-9)
    assert r["amihud_per_million"] == pytest.approx(want * 1e6, rel=1e-9)
    assert r["median_dollar_volume"] == pytest.approx(990.0)
    assert r["bars"] == 3 and r["as_of"] == str(f.index[-1].date())
    # a bar without volume is left out of both
    f.loc[f.index[-1], "volume"] = 0.0
    r = cx.liquidity(f, window=3, min_bars=2)
    assert r["amihud"] == pytest.approx(np.mean([0.1 / 2200, 0.1 / 990]), rel=1e-9)
    assert r["median_dollar_volume"] == pytest.approx((2200 + 990) / 2) and r["bars"] == 2
    assert cx.liquidity(f, window=3)["amihud"] is None  # below the default 10 bars


# ------------------------------------------------------------------ no lookahead

def _altered(obj, after):
    out = obj.copy()
    late = out.index > after
    if isinstance(out, pd.DataFrame):
        out.loc[late, ["open", "high", "low", "close"]] *= 3
        out.loc[late, "volume"] *= 7
    else:
        out[late] = out[late] * 3
    return out


def test_no_lookahead_in_any_reading():
    rng = np.random.default_rng(4)
    vix = series(15 + rng.normal(0, 3, 600))
    close = series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 600))))
    frame = synthetic_ohlcv(600, seed=2)
    t = frame.index[450]
    assert cx.vix_state(vix, t) == cx.vix_state(_altered(vix, t), t)
    assert cx.benchmark_trend(close, t) == cx.benchmark_trend(_altered(close, t), t)
    assert cx.liquidity(frame, t) == cx.liquidity(_altered(frame, t), t)
    closes = {"X": close, "Y": frame["close"]}
    assert cx.breadth(closes, t) == cx.breadth({k: _altered(v, t) for k, v in closes.items()}, t)
    # the per-bar series: values up to t unchanged when later bars change
    pd.testing.assert_frame_equal(cx.vix_regime_series(vix).loc[:t],
                                  cx.vix_regime_series(_altered(vix, t)).loc[:t])
    pd.testing.assert_frame_equal(cx.trend_series(close).loc[:t],
                                  cx.trend_series(_altered(close, t)).loc[:t])
    pd.testing.assert_series_equal(cx.above_average(close).loc[:t],
                                   cx.above_average(_altered(close, t)).loc[:t])


def test_no_lookahead_in_market_context_as_of():
    frame = load_bundled("MSFT")
    a = cx.market_context("MSFT", frame, as_of="2008-06-30", source="bundled")
    b = cx.market_context("MSFT", _altered(frame, pd.Timestamp("2008-06-30", tz="UTC")),
                          as_of="2008-06-30", source="bundled")
    assert a == b and a["as_of"].startswith("2008-06-30")


def test_intraday_as_of_uses_earlier_days_only():
    s = series([10.0, 20.0, 30.0])
    t = s.index[2] + pd.Timedelta(hours=15)  # during the third day's session
    assert cx.daily_upto(s, t, intraday=True).tolist() == [10.0, 20.0]
    assert cx.daily_upto(s, t).tolist() == [10.0, 20.0, 30.0]


# ------------------------------------------------------------------ offline, bundled history

def test_offline_msft_says_vix_na_with_the_bundled_range():
    ctx = cx.market_context("MSFT")  # tests run offline: the bundled history serves
    assert ctx["as_of"].startswith("2013-03-01") and ctx["source"] == "bundled"
    v = ctx["vix"]
    assert v["level"] is None and v["regime"] == "n/a" and v["as_of"] is None
    assert v["history_range"] == ["2014-01-03", "2019-01-03"]
    assert "2014-01-03 .. 2019-01-03" in v["note"]
    b = ctx["benchmark"]
    assert b["as_of"] == "2013-03-01" and b["source"] == "bundled"
    assert b["trend"] in ("up", "down", "mixed")
    br = ctx["breadth"]
    assert br["universe"] == "bundled" and br["symbols"] == 6
    assert br["with_data"] == 6 - len(br["without_data"]) and br["as_of"] == "2013-03-01"
    assert ctx["liquidity"]["as_of"] == "2013-03-01" and ctx["liquidity"]["bars"] == 20


def test_offline_gspc_vix_as_of_dates_and_never_extended():
    ctx = cx.market_context("^GSPC", as_of="2018-06-29")
    v = ctx["vix"]
    assert v["as_of"] == "2018-06-29" and v["source"] == "bundled"
    assert v["regime"] in ("low", "normal", "high") and 0 <= v["percentile"] <= 1
    assert v["history"] > 1000  # 2014-01-03 .. 2018-06-28
    liq = ctx["liquidity"]  # an index is not traded
    assert liq["amihud"] is None and "is an index, not traded" in liq["note"]
    # a symbol whose bars go past the bundled ^VIX and ^GSPC: n/a, named, not carried forward
    late = synthetic_ohlcv(300, seed=3, start="2018-03-01")
    assert late.index[-1] > pd.Timestamp("2019-02-01", tz="UTC")
    ctx = cx.market_context("SYNTH", late, source="bundled")
    assert ctx["vix"]["level"] is None and "ends 2019-01-03" in ctx["vix"]["note"]
    assert ctx["benchmark"]["trend"] == "n/a" and "ends 2018-12-31" in ctx["benchmark"]["note"]
    assert ctx["breadth"]["share"] is None


def test_as_of_before_the_first_bar_is_refused():
    from core.errors import DataValidationError

    with pytest.raises(DataValidationError, match="no bar on or before 1990-01-01"):
        cx.market_context("MSFT", load_bundled("MSFT"), as_of="1990-01-01", source="bundled")


# ------------------------------------------------------------------ CLI

def test_cli_context_json_keys_offline():
    res = runner.invoke(app, ["context", "--symbol", "MSFT", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) >= {"symbol", "interval", "as_of", "source", "fallback", "vix", "benchmark",
                        "breadth", "liquidity", "notes"}
    assert set(out["vix"]) >= {"level", "percentile", "regime", "as_of", "history_range",
                               "source", "note"}
    assert set(out["benchmark"]) >= {"symbol", "close", "sma50", "sma200", "trend", "as_of"}
    assert set(out["breadth"]) >= {"share", "above", "with_data", "symbols", "as_of",
                                   "universe", "without_data"}
    assert set(out["liquidity"]) >= {"amihud", "amihud_per_million", "median_dollar_volume",
                                     "bars", "window", "as_of", "note"}
    assert out["vix"]["regime"] == "n/a" and out["benchmark"]["as_of"] == "2013-03-01"


def test_cli_context_as_of_text_and_errors():
    res = runner.invoke(app, ["context", "--symbol", "^GSPC", "--as-of", "2018-06-30"])
    assert res.exit_code == 0, res.output
    assert "^GSPC as of 2018-06-29" in res.output  # the last bar on or before the date
    assert "^VIX: " in res.output and "as of 2018-06-29" in res.output
    res = runner.invoke(app, ["context", "--symbol", "MSFT", "--universe", "nope"])
    assert res.exit_code == 2 and "Unknown universe" in res.output
    res = runner.invoke(app, ["context", "--symbol", "MSFT", "--as-of", "soon"])
    assert res.exit_code == 2 and "is not a date" in res.output
