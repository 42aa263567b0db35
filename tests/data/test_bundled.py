import numpy as np
import pandas as pd
import pytest

from core.data import BUNDLED_SYMBOLS, list_symbols, load_ohlcv, load_vix
from core.data.bundled import split_factor
from core.errors import DataSourceError, UnknownSymbolError


@pytest.mark.parametrize("symbol", BUNDLED_SYMBOLS)
def test_bundled_symbols_valid(symbol):
    md = load_ohlcv(symbol)  # tests run with QUANTDESK_OFFLINE=1: the bundled history serves
    f = md.frame
    assert md.source == "bundled" and not md.stale
    assert md.fallback == f"Bundled history (offline demo), last bar {f.index[-1].date()}."
    assert len(f) > 2000
    assert f.index.is_monotonic_increasing and f.index.is_unique
    assert (f["high"] >= f[["open", "close"]].max(axis=1) - 1e-9).all()


@pytest.mark.parametrize("symbol,day", [("AAPL", "2000-06-21"), ("AAPL", "2005-02-28"),
                                        ("MSFT", "2003-02-18")])
def test_split_days_are_adjusted(symbol, day):
    f = load_ohlcv(symbol).frame
    r = np.log(f["close"]).diff()
    assert abs(r.loc[day].item()) < 0.15, "a 2:1 split must not show as a -69% log move"


def test_no_move_larger_than_real_one():
    # the largest AAPL move in the window is the real 2000-09-29 profit-warning crash (-52%)
    f = load_ohlcv("AAPL").frame
    r = np.log(f["close"]).diff().abs()
    assert r.idxmax() == pd.Timestamp("2000-09-29", tz="UTC")
    msft = np.log(load_ohlcv("MSFT").frame["close"]).diff().abs()
    assert msft.max() < 0.2


def test_split_volume_scaled():
    f = load_ohlcv("MSFT").frame
    before = f.loc["2003-01-01":"2003-02-14", "volume"].median()
    after = f.loc["2003-02-18":"2003-04-01", "volume"].median()
    assert 0.5 < after / before < 2.0


def test_split_factor_arithmetic():
    ratio = pd.Series([1.0, 1.0, 2.0, 2.0, 2.02, 4.04])
    assert split_factor(ratio).tolist() == [4.0, 4.0, 2.0, 2.0, 2.0, 1.0]


def test_date_slice_inclusive():
    f = load_ohlcv("MSFT", start="2010-01-04", end="2010-01-08").frame
    assert f.index[0].date().isoformat() == "2010-01-04"
    assert f.index[-1].date().isoformat() == "2010-01-08"


def test_unknown_symbol_offline_is_clear():
    with pytest.raises(UnknownSymbolError, match="not bundled"):
        load_ohlcv("NOSUCH")


def test_intraday_bundled_offline_explains():
    with pytest.raises(DataSourceError, match="Only daily"):
        load_ohlcv("MSFT", "5m")


@pytest.fixture
def online(monkeypatch):
    """Online as far as the network probe knows (no socket is opened): Yahoo is asked."""
    from core.config import get_settings
    from core.data import network

    monkeypatch.setenv("QUANTDESK_OFFLINE", "0")
    get_settings.cache_clear()
    conn = type("Conn", (), {"close": lambda self: None})
    monkeypatch.setattr(network, "PROBE", network.ReachabilityProbe(
        target=lambda: ("yahoo.test", 443), connect=lambda address, timeout: conn()))


def test_yahoo_failure_falls_back_to_bundled(monkeypatch, online):
    def boom(*a, **k):
        raise DataSourceError("Yahoo Finance is unreachable (OSError).")

    monkeypatch.setattr("core.data.fetch_yahoo", boom)
    md = load_ohlcv("MSFT", source="yahoo")
    assert md.source == "bundled" and md.stale
    assert "unreachable" in md.notes[0]
    assert md.fallback == "Bundled history (offline demo), last bar 2013-03-01."
    assert md.status_line.startswith("STALE")


def test_yahoo_failure_uses_stale_cache(monkeypatch, synthetic_frame, online):
    monkeypatch.setattr("core.data.fetch_yahoo", lambda *a, **k: synthetic_frame)
    fresh = load_ohlcv("ZZZ")
    assert fresh.source == "yahoo" and not fresh.stale
    again = load_ohlcv("ZZZ")
    assert again.source == "cache"  # within the daily TTL
    monkeypatch.setattr("core.data.cache.time.time", lambda: 1e12)  # far future: expired

    def boom(*a, **k):
        raise DataSourceError("down")

    monkeypatch.setattr("core.data.fetch_yahoo", boom)
    stale = load_ohlcv("ZZZ")
    assert stale.stale and stale.source == "cache"
    pd.testing.assert_frame_equal(stale.frame, fresh.frame, check_freq=False)


def test_cache_dir_private(monkeypatch, synthetic_frame):
    from core.config import get_settings
    from core.data.cache import FrameCache

    c = FrameCache(get_settings().cache_dir)
    c.put("k", synthetic_frame)
    got, _ = c.get("k")
    c.close()
    assert (get_settings().cache_dir.stat().st_mode & 0o777) == 0o700
    pd.testing.assert_frame_equal(got, synthetic_frame, check_freq=False)


def test_list_symbols_and_vix():
    rows = list_symbols()
    assert {r["symbol"] for r in rows} == set(BUNDLED_SYMBOLS)
    vix = load_vix()
    assert vix.index.tz is not None and 5 < vix.median() < 40
