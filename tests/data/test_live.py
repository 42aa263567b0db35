"""The live path at the Yahoo seam: ``yfinance.Ticker.history`` answers from recorded,
Yahoo-shaped fixtures (tests/data/fixtures/, real bundled bars re-indexed to recent dates),
and the network probe gets an injected clock and connect function. No socket is opened.

Covered: online (a bundled symbol and another ticker), unreachable (bundled with a note,
stale cache), unknown ticker, empty range, a split inside the range, offline mode, the
explicit bundled source, and online -> offline -> online within one process.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data import BUNDLED_LABEL, load_ohlcv, network
from core.data.network import ReachabilityProbe
from core.errors import (DataSourceError, DataValidationError, SourceUnreachableError,
                         UnknownSymbolError)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AAPL_FIX = "yahoo_shape_from_bundled_AAPL_2012-11_2013-03.csv"
MSFT_SPLIT_FIX = "yahoo_shape_from_bundled_MSFT_2003_split.csv"
YF_COLUMNS = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
DAY = 24 * 3600.0


def recorded(name: str) -> pd.DataFrame:
    """A fixture in the exact shape ``Ticker.history(auto_adjust=False, actions=False)``
    returns for daily bars: float prices, int64 volume, America/New_York index 'Date'."""
    f = pd.read_csv(FIXTURES / name, comment="#", index_col="Date")
    f.index = pd.to_datetime(f.index, utc=True).tz_convert("America/New_York").rename("Date")
    return f.astype({**{c: "float64" for c in YF_COLUMNS[:-1]}, "Volume": "int64"})


class Clock:
    """A settable clock (seconds) for the probe's memory and the cache's TTL."""

    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now


class Desk:
    """One server process's view of the world: Yahoo's answers, the network, the clocks."""

    def __init__(self, monkeypatch, frames: dict[str, pd.DataFrame]):
        import yfinance
        from curl_cffi.requests.exceptions import DNSError
        from yfinance.exceptions import YFTzMissingError

        self.frames, self.up, self.calls = frames, True, []
        self.mono = Clock(1000.0)             # time.monotonic for the probe
        self.wall = Clock(time.time())        # time.time for the cache TTL
        desk = self

        def history(ticker, **kwargs):        # the seam: yfinance.Ticker.history
            desk.calls.append((ticker.ticker, kwargs))
            if not desk.up:  # what yfinance raised here with DNS down (curl_cffi, an OSError)
                raise DNSError("Failed to perform, curl: (6) Could not resolve host: "
                               "query2.finance.yahoo.com.")
            if ticker.ticker not in desk.frames:  # what yfinance raises for an unknown ticker
                raise YFTzMissingError(ticker.ticker)
            return desk.frames[ticker.ticker].copy()

        def connect(address, timeout):
            if not desk.up:
                raise OSError(101, "Network is unreachable")
            return type("Conn", (), {"close": lambda self: None})()

        monkeypatch.setattr(yfinance.Ticker, "history", history)
        self.probe = ReachabilityProbe(target=lambda: ("yahoo.test", 443),
                                       clock=self.mono, connect=connect)
        monkeypatch.setattr(network, "PROBE", self.probe)
        monkeypatch.setattr("core.data.cache.time.time", self.wall)
        self.online_mode(monkeypatch)

    @staticmethod
    def online_mode(monkeypatch, offline: bool = False) -> None:
        from core.config import get_settings

        monkeypatch.setenv("QUANTDESK_OFFLINE", "1" if offline else "0")
        get_settings.cache_clear()


@pytest.fixture
def desk(monkeypatch) -> Desk:
    return Desk(monkeypatch, {"AAPL": recorded(AAPL_FIX), "TESTCO": recorded(AAPL_FIX),
                              "MSFT": recorded(MSFT_SPLIT_FIX)})


def test_fixtures_have_yfinance_shape():
    for name in (AAPL_FIX, MSFT_SPLIT_FIX):
        f = recorded(name)
        assert list(f.columns) == YF_COLUMNS and f.index.name == "Date"
        assert str(f.index.tz) == "America/New_York" and f["Volume"].dtype == np.int64
        assert (f.index.hour == 0).all() and f.index[-1].date().isoformat() == "2025-06-27"


def test_online_bundled_symbol_comes_from_yahoo(desk):
    md = load_ohlcv("AAPL")
    assert md.source == "yahoo" and not md.stale and md.fallback is None and not md.notes
    assert md.frame.index[-1] == pd.Timestamp("2025-06-27 04:00", tz="UTC")  # NY midnight
    assert len(md.frame) == len(desk.frames["AAPL"])
    # adjusted like the bundled history: close == adj_close, last close = Yahoo's Adj Close
    np.testing.assert_allclose(md.frame["close"], md.frame["adj_close"])
    assert md.frame["close"].iloc[-1] == pytest.approx(desk.frames["AAPL"]["Adj Close"].iloc[-1])
    (ticker, kwargs), = desk.calls
    assert ticker == "AAPL" and kwargs["auto_adjust"] is False and kwargs["actions"] is False
    assert kwargs["interval"] == "1d" and kwargs["period"] == "max"
    again = load_ohlcv("AAPL")  # within the daily TTL: from the disk cache, no new request
    assert again.source == "cache" and not again.stale and len(desk.calls) == 1
    pd.testing.assert_frame_equal(again.frame, md.frame, check_freq=False)


def test_online_other_ticker(desk):
    md = load_ohlcv("testco", start="2025-06-02", end="2025-06-27")
    assert md.symbol == "TESTCO" and md.source == "yahoo" and not md.stale
    assert md.frame.index[0].date().isoformat() == "2025-06-02"
    assert md.frame.index[-1].date().isoformat() == "2025-06-27" and len(md.frame) == 20


def test_unreachable_serves_bundled_with_its_date(desk):
    desk.up = False
    md = load_ohlcv("AAPL")
    assert md.source == "bundled" and md.stale
    assert md.fallback == f"{BUNDLED_LABEL}, last bar 2013-03-01."
    assert "cannot be reached" in md.notes[0] and md.fallback in md.notes
    assert md.frame.index[-1].date().isoformat() == "2013-03-01"
    assert desk.calls == [] and desk.probe.probes == 1  # the probe spared the download
    assert md.status_line.startswith("STALE")


def test_unreachable_other_ticker_is_a_clear_error(desk):
    desk.up = False
    for _ in range(2):
        with pytest.raises(UnknownSymbolError, match="not bundled.*Try again online"):
            load_ohlcv("TESTCO")
    assert desk.probe.probes == 1  # remembered: the second page view did not wait again


def test_unreachable_intraday_bundled_symbol_explains(desk):
    desk.up = False
    with pytest.raises(DataSourceError, match="Only daily"):
        load_ohlcv("MSFT", "1h")


def test_unreachable_serves_stale_cache(desk):
    fresh = load_ohlcv("TESTCO")
    desk.wall.now += 2 * DAY       # the daily TTL has run out
    desk.mono.now += 61            # and the probe's memory too
    desk.up = False
    stale = load_ohlcv("TESTCO")
    assert stale.source == "cache" and stale.stale
    assert stale.fallback.startswith("Cached copy from ") and "last bar 2025-06-27" in stale.fallback
    pd.testing.assert_frame_equal(stale.frame, fresh.frame, check_freq=False)


def test_offline_mode_never_probes(desk, monkeypatch):
    Desk.online_mode(monkeypatch, offline=True)
    md = load_ohlcv("AAPL")
    assert md.source == "bundled" and not md.stale  # asked for, not a failure
    assert md.fallback == f"{BUNDLED_LABEL}, last bar 2013-03-01."
    assert "QUANTDESK_OFFLINE=1" in md.notes[0]
    assert desk.probe.probes == 0 and desk.calls == []


def test_explicit_bundled_source_while_online(desk):
    md = load_ohlcv("MSFT", source="bundled", end="2010-12-31")
    assert md.source == "bundled" and not md.stale and desk.calls == []
    assert md.fallback == f"{BUNDLED_LABEL}, last bar 2013-03-01."  # the history's as-of
    assert md.frame.index[-1].date().isoformat() == "2010-12-31"
    with pytest.raises(DataSourceError, match="Only daily"):
        load_ohlcv("MSFT", "5m", source="bundled")
    with pytest.raises(UnknownSymbolError, match="not in the bundled history"):
        load_ohlcv("TESTCO", source="bundled")


@pytest.mark.parametrize("answer", ["raises", "empty"])
def test_unknown_ticker_online(desk, monkeypatch, answer):
    if answer == "empty":  # yfinance without raise_errors answers an empty frame instead
        import yfinance

        monkeypatch.setattr(yfinance.Ticker, "history",
                            lambda self, **k: pd.DataFrame(columns=YF_COLUMNS))
    with pytest.raises(UnknownSymbolError, match="no 1d bars for 'NOSUCH1'.*Check the ticker"):
        load_ohlcv("NOSUCH1")


def test_empty_range_names_the_available_range(desk):
    with pytest.raises(DataValidationError,
                       match="TESTCO has daily bars from 2025-03-06 to 2025-06-27"):
        load_ohlcv("TESTCO", start="2020-01-01", end="2020-12-31")


def test_split_inside_range_is_adjusted(desk):
    raw = desk.frames["MSFT"]
    jump = np.log(raw["Close"]).diff().abs()
    assert jump.max() > 0.6  # the fixture holds MSFT's 2:1 split of 2003-02-18, unadjusted
    md = load_ohlcv("MSFT")
    f = md.frame
    assert md.source == "yahoo" and not md.notes  # nothing needed repairing
    assert np.log(f["close"]).diff().abs().max() < 0.1
    assert (f["high"] >= f[["open", "close"]].max(axis=1)).all()
    assert (f["low"] <= f[["open", "close"]].min(axis=1)).all()
    split = int(np.nanargmax(jump.to_numpy()))
    before, after = f["volume"].iloc[:split].median(), f["volume"].iloc[split:].median()
    assert 0.5 < after / before < 2.0  # share counts comparable across the split
    # the same adjustment rule as the bundled history: identical bars for the real dates
    bundled = load_ohlcv("MSFT", start="2003-01-02", end="2003-03-14", source="bundled").frame
    np.testing.assert_allclose(f[["open", "high", "low", "close", "volume"]].to_numpy(),
                               bundled[["open", "high", "low", "close", "volume"]].to_numpy(),
                               rtol=1e-9)


def test_online_offline_online_in_one_process(desk):
    assert load_ohlcv("AAPL").source == "yahoo"           # t = 0: online
    desk.up = False                                        # the network drops
    desk.wall.now += 2 * DAY                               # and the cached copy expires
    md = load_ohlcv("AAPL")                                # probe remembered "up": try once
    assert md.source == "cache" and md.stale and "unreachable" in md.notes[0]
    assert len(desk.calls) == 2
    desk.mono.now += 30
    assert load_ohlcv("AAPL").stale and len(desk.calls) == 2  # marked down: no new wait
    desk.up = True                                         # the network is back ...
    desk.mono.now += 20
    assert load_ohlcv("AAPL").stale and len(desk.calls) == 2  # ... unnoticed for a minute
    desk.mono.now += 11                                    # 61 s after the failure
    md = load_ohlcv("AAPL")
    assert md.source == "yahoo" and not md.stale and md.fallback is None
    assert len(desk.calls) == 3


def test_cold_offline_start_then_online(desk):
    desk.up = False
    assert load_ohlcv("AAPL").source == "bundled"
    desk.up = True
    desk.mono.now += 59
    assert load_ohlcv("AAPL").source == "bundled" and desk.probe.probes == 1
    desk.mono.now += 2
    md = load_ohlcv("AAPL")
    assert md.source == "yahoo" and not md.stale and desk.probe.probes == 2


def test_rate_limit_counts_as_unreachable(desk, monkeypatch):
    import yfinance
    from yfinance.exceptions import YFRateLimitError

    def limited(self, **kwargs):
        raise YFRateLimitError()

    monkeypatch.setattr(yfinance.Ticker, "history", limited)
    md = load_ohlcv("IBM")
    assert md.source == "bundled" and md.stale and "rate-limiting" in md.notes[0]
    assert network.yahoo_reachable() is False  # remembered for the minute


def test_network_error_maps_to_source_unreachable(desk):
    """Replaces a call of the real yfinance: libcurl opens its own sockets, which
    pytest-socket cannot block, so that call would have reached Yahoo when online."""
    from core.data.yahoo import fetch_yahoo

    desk.up = False
    with pytest.raises(SourceUnreachableError, match="unreachable"):
        fetch_yahoo("MSFT", "1d", timeout=1)


# -- the probe itself ---------------------------------------------------------------------


def test_probe_remembers_for_a_minute_and_forgets_on_request():
    clock, answers, attempts = Clock(0.0), [True], []

    def connect(address, timeout):
        attempts.append((address, timeout))
        if not answers[-1]:
            raise ConnectionRefusedError
        return type("Conn", (), {"close": lambda self: None})()

    probe = ReachabilityProbe(target=lambda: ("h", 1), clock=clock, connect=connect)
    assert probe.reachable(0.5) and attempts == [(("h", 1), 0.5)]
    answers.append(False)
    clock.now = 59.9
    assert probe.reachable() and len(attempts) == 1
    clock.now = 60.0
    assert not probe.reachable() and len(attempts) == 2
    answers.append(True)
    probe.forget()
    assert probe.reachable() and len(attempts) == 3
    probe.remember(False)
    assert not probe.reachable() and len(attempts) == 3


def test_probe_never_waits_much_longer_than_its_timeout():
    release = threading.Event()

    def hangs(address, timeout):  # e.g. a name lookup that ignores the socket timeout
        release.wait(5)
        raise OSError("too late")

    probe = ReachabilityProbe(target=lambda: ("h", 1), connect=hangs)
    t0 = time.monotonic()
    assert probe.reachable(0.1) is False
    assert time.monotonic() - t0 < 1.0
    release.set()


def test_probe_any_exception_means_unreachable():
    def blocked(address, timeout):
        raise RuntimeError("socket blocked")  # what pytest-socket raises

    assert ReachabilityProbe(target=lambda: ("h", 1), connect=blocked).reachable() is False


def test_probe_goes_through_an_https_proxy(monkeypatch):
    for var in ("no_proxy", "NO_PROXY", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert network._target() == ("proxy.internal", 3128)
    monkeypatch.setenv("NO_PROXY", "finance.yahoo.com")
    assert network._target() == (network.YAHOO_HOST, 443)
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.delenv("NO_PROXY")
    assert network._target() == (network.YAHOO_HOST, 443)


# -- a caller that must not wait: stale-while-revalidate (load_ohlcv(..., wait=False)) -----


class SlowYahoo:
    """Holds every ``Ticker.history`` call of the desk until released."""

    def __init__(self, desk: Desk, monkeypatch):
        import yfinance

        self.release, self.entered = threading.Event(), threading.Event()
        answer = yfinance.Ticker.history

        def history(ticker, **kwargs):
            self.entered.set()
            assert self.release.wait(10), "the test never released Yahoo"
            return answer(ticker, **kwargs)

        monkeypatch.setattr(yfinance.Ticker, "history", history)


@pytest.fixture
def revalidator(monkeypatch):
    """A fresh background downloader for the test (the process's one is left alone)."""
    import core.data as data
    from core.data.revalidate import Revalidator

    rv = Revalidator(data._download)
    monkeypatch.setattr(data, "REVALIDATOR", rv)
    yield rv
    assert rv.wait_idle(10), "a background download outlived its test"


def test_expired_copy_serves_at_once_and_is_downloaded_in_the_background(desk, revalidator,
                                                                         monkeypatch):
    from core.data import bars_version

    first = load_ohlcv("AAPL")
    at, age, error = bars_version("AAPL", "1d")
    assert (age, error) == (0, None)
    desk.wall.now += 1.5 * DAY                 # past the TTL, within twice it
    yahoo = SlowYahoo(desk, monkeypatch)
    t0 = time.monotonic()
    md = load_ohlcv("aapl", wait=False)
    assert time.monotonic() - t0 < 1.0         # Yahoo is held: the answer did not wait on it
    assert md.source == "cache" and not md.stale and md.fallback is None and not md.notes
    pd.testing.assert_frame_equal(md.frame, first.frame, check_freq=False)
    assert yahoo.entered.wait(5) and revalidator.pending("AAPL", "1d")
    for _ in range(5):                         # refreshes while it runs: no second request
        assert load_ohlcv("AAPL", wait=False).source == "cache"
    yahoo.release.set()
    assert revalidator.wait_idle(5)
    assert len(desk.calls) == 2 and revalidator.last_error("AAPL", "1d") is None
    assert bars_version("AAPL", "1d") == (desk.wall.now, 0, None) != (at, 0, None)
    again = load_ohlcv("AAPL", wait=False)     # the new copy is fresh: no new request
    assert again.source == "cache" and not again.stale and len(desk.calls) == 2
    assert again.as_of == pd.Timestamp(desk.wall.now, unit="s", tz="UTC")


def test_without_a_cached_copy_the_first_read_downloads(desk, revalidator):
    md = load_ohlcv("TESTCO", wait=False)
    assert md.source == "yahoo" and len(desk.calls) == 1
    assert not revalidator.pending("TESTCO", "1d")


def test_a_failed_background_download_labels_the_copy(desk, revalidator):
    load_ohlcv("TESTCO")
    desk.wall.now += 1.5 * DAY
    desk.mono.now += 61                        # the probe asks again
    desk.up = False
    assert not load_ohlcv("TESTCO", wait=False).stale  # not known yet: it is being updated
    assert revalidator.wait_idle(5)
    assert "cannot be reached" in revalidator.last_error("TESTCO", "1d")
    md = load_ohlcv("TESTCO", wait=False)      # labelled, and tried again in the background
    assert md.source == "cache" and md.stale and "cannot be reached" in md.notes[0]
    assert md.fallback.startswith("Cached copy from ") and "updating it in the" in md.fallback
    assert md.status_line.startswith("STALE")
    assert revalidator.wait_idle(5)
    desk.up = True                             # back, and noticed after the probe's minute
    desk.mono.now += 61
    assert load_ohlcv("TESTCO", wait=False).stale
    assert revalidator.wait_idle(5) and revalidator.last_error("TESTCO", "1d") is None
    md = load_ohlcv("TESTCO", wait=False)
    assert md.source == "cache" and not md.stale and md.fallback is None
    assert len(desk.calls) == 2                # the first download and the one that worked


def test_a_copy_twice_its_ttl_old_is_stale_while_it_is_updated(desk, revalidator, monkeypatch):
    load_ohlcv("AAPL")
    desk.wall.now += 2.5 * DAY
    yahoo = SlowYahoo(desk, monkeypatch)
    md = load_ohlcv("AAPL", wait=False)
    assert md.source == "cache" and md.stale and "updating it in the background" in md.fallback
    yahoo.release.set()


def test_offline_mode_serves_the_copy_without_background_downloads(desk, revalidator,
                                                                   monkeypatch):
    load_ohlcv("TESTCO")
    desk.wall.now += 1.5 * DAY
    Desk.online_mode(monkeypatch, offline=True)
    md = load_ohlcv("TESTCO", wait=False)
    assert md.source == "cache" and md.stale and "QUANTDESK_OFFLINE=1" in md.notes[0]
    assert not revalidator.pending("TESTCO", "1d") and len(desk.calls) == 1


def test_the_background_worker_survives_an_unexpected_error():
    from core.data.revalidate import Revalidator

    seen = []

    def fetch(symbol, interval):
        seen.append(symbol)
        if symbol == "BAD":
            raise ZeroDivisionError("a bug in a parser")

    rv = Revalidator(fetch)
    rv.request("BAD", "1d")
    assert rv.wait_idle(5)
    assert rv.last_error("BAD", "1d") == "The background download failed (ZeroDivisionError)."
    rv.request("GOOD", "1d")
    assert rv.wait_idle(5) and seen == ["BAD", "GOOD"]
    assert rv.last_error("GOOD", "1d") is None and rv.last_error("BAD", "1d") is not None


def test_the_pages_memory_cache_answers_what_the_store_would(desk, revalidator, monkeypatch):
    """``ui.data.cached_market`` (every page's bars and the Overview panel's) parses a copy
    once per version of the disk copy: again only once the copy expired, its background
    download landed, or one failed; ``bars_update`` tells a page shown from it when to
    rerun."""
    import ui.data
    from core.data import bars_update
    from ui.data import _market, cached_market

    loads = []

    def counted(*args, **kwargs):
        loads.append(kwargs["wait"])
        return load_ohlcv(*args, **kwargs)

    monkeypatch.setattr(ui.data, "load_ohlcv", counted)
    _market.clear()
    full = desk.frames["AAPL"]
    desk.frames["AAPL"] = full.iloc[:-1]       # its last bar arrives with the next download
    first = cached_market("AAPL", "1d")
    assert first.source == "yahoo" and bars_update(first) == "none"
    cached = cached_market("AAPL", "1d")       # a new version: the disk copy now exists
    assert cached.source == "cache" and len(loads) == 2 and bars_update(cached) == "none"
    for _ in range(3):
        assert cached_market("AAPL", "1d").as_of == cached.as_of
    assert loads == [False, False]
    desk.wall.now += 1.5 * DAY
    desk.frames["AAPL"] = full
    yahoo = SlowYahoo(desk, monkeypatch)
    updating = cached_market("AAPL", "1d")     # expired: asks for the bars in the background
    assert updating.as_of == cached.as_of and not updating.stale and len(loads) == 3
    assert yahoo.entered.wait(5) and bars_update(updating) == "pending"
    yahoo.release.set()
    assert revalidator.wait_idle(5) and len(desk.calls) == 2
    assert bars_update(updating) == "landed"   # the page shown from it reruns
    landed = cached_market("AAPL", "1d")
    assert landed.as_of == pd.Timestamp(desk.wall.now, unit="s", tz="UTC") > updating.as_of
    assert len(loads) == 4 and cached_market("AAPL", "1d").as_of == landed.as_of
    assert len(loads) == 4 and bars_update(landed) == "none"
    assert len(landed.frame) == len(updating.frame) + 1
    desk.wall.now += 1.5 * DAY
    same = cached_market("AAPL", "1d")         # expired again; Yahoo brings the same bars
    assert revalidator.wait_idle(5) and len(desk.calls) == 3
    assert bars_update(same) == "none"         # nothing new: the page does not rerun
    assert cached_market("AAPL", "1d").as_of > same.as_of and len(loads) == 6
    desk.wall.now += 1.5 * DAY
    desk.mono.now += 61
    desk.up = False
    shown = cached_market("AAPL", "1d")
    assert not shown.stale
    assert revalidator.wait_idle(5)
    assert bars_update(shown) == "failed"      # rerun once, to say so
    failed = cached_market("AAPL", "1d")
    assert failed.stale and "cannot be reached" in failed.notes[0] and len(loads) == 8
    assert revalidator.wait_idle(5)            # tried again: failed again, nothing new to show
    assert bars_update(failed) == "none"
    _market.clear()


def test_a_page_never_waits_on_yahoo_for_an_expired_copy(desk, revalidator, monkeypatch):
    """A page's bars (a date range of a symbol with an expired copy) answer at once while
    Yahoo is held; the copy's download lands in the background."""
    from core.data import bars_update
    from ui.data import _market, cached_market

    _market.clear()
    full = desk.frames["AAPL"]
    desk.frames["AAPL"] = full.iloc[:-1]
    cached_market("AAPL", "1d", "2025-04-01", "2025-05-01")
    desk.wall.now += 1.5 * DAY
    desk.frames["AAPL"] = full                 # a new bar, after the range
    yahoo = SlowYahoo(desk, monkeypatch)
    t0 = time.monotonic()
    md = cached_market("AAPL", "1d", "2025-04-01", "2025-05-01")
    assert time.monotonic() - t0 < 1.0
    assert md.source == "cache" and md.frame.index[0] >= pd.Timestamp("2025-04-01", tz="UTC")
    assert yahoo.entered.wait(5) and bars_update(md) == "pending"
    yahoo.release.set()
    assert revalidator.wait_idle(5) and bars_update(md) == "landed"
    _market.clear()


def test_a_portfolio_never_waits_on_yahoo_for_expired_holdings(desk, revalidator,
                                                                 monkeypatch):
    """Risk Sizing's holdings (symbols other than the page's) are read from their expired
    copies at once while Yahoo is held, and the page follows their downloads."""
    import ui.risk
    from core.data import bars_update
    from ui.data import _market

    _market.clear()
    own = load_ohlcv("AAPL")
    for sym in ("MSFT", "TESTCO"):
        load_ohlcv(sym)
    desk.wall.now += 1.5 * DAY
    followed: list = []
    monkeypatch.setattr(ui.risk, "follow_bars", lambda *mds: followed.extend(mds))
    yahoo = SlowYahoo(desk, monkeypatch)
    t0 = time.monotonic()
    closes, problems = ui.risk.book_closes(["AAPL", "MSFT", "TESTCO"], own)
    assert time.monotonic() - t0 < 1.0         # Yahoo is held: nothing waited on it
    assert sorted(closes) == ["AAPL", "MSFT", "TESTCO"] and not problems
    pd.testing.assert_series_equal(closes["AAPL"], own.frame["close"])
    assert [m.symbol for m in followed] == ["MSFT", "TESTCO"]
    assert all(m.source == "cache" for m in followed)
    assert yahoo.entered.wait(5) and bars_update(followed[0]) == "pending"
    yahoo.release.set()
    assert revalidator.wait_idle(5)
    assert {bars_update(m) for m in followed} == {"none"}  # the same bars again: no rerun
    _market.clear()


def test_the_market_context_of_a_page_never_waits_on_yahoo(monkeypatch, revalidator):
    """The Strategy Lab's context strip (^VIX, ^GSPC, the breadth universe) reads expired
    daily copies at once with ``wait=False``, and downloads them again in the background."""
    from core.context import market_context
    from core.data.bundled import BUNDLED_SYMBOLS

    # every symbol it reads answers with the test fixture (real AAPL bars, re-indexed)
    desk = Desk(monkeypatch, {s: recorded(AAPL_FIX) for s in (*BUNDLED_SYMBOLS, "^VIX")})
    first = market_context("AAPL")
    assert first["vix"]["source"] == "yahoo" and first["benchmark"]["source"] == "yahoo"
    downloads = len(desk.calls)
    desk.wall.now += 1.5 * DAY
    yahoo = SlowYahoo(desk, monkeypatch)
    t0 = time.monotonic()
    ctx = market_context("AAPL", wait=False)
    assert time.monotonic() - t0 < 1.0         # Yahoo is held: nothing waited on it
    assert ctx["vix"]["source"] == "cache" and ctx["benchmark"]["source"] == "cache"
    yahoo.release.set()
    assert ctx["breadth"]["sources"] == ["cache"]
    assert {k: v for k, v in ctx["breadth"].items() if k != "sources"} == {
        k: v for k, v in first["breadth"].items() if k != "sources"}
    assert ctx["vix"]["level"] == first["vix"]["level"] is not None
    assert revalidator.wait_idle(10) and len(desk.calls) == 2 * downloads
