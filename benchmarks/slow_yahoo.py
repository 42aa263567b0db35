"""Serve the app with a slow, loopback-free Yahoo Finance, for ``bench_refresh``'s live phase:
``python -m benchmarks.slow_yahoo run app.py [streamlit options]``.

The one seam the live path crosses, ``yfinance.Ticker.history``, answers after a
**synthetic delay** of ``QD_BENCH_YAHOO_DELAY_S`` seconds (default 1.0) with the symbol's
**bundled real history** in the shape yfinance returns (the columns ``Open High Low Close
Adj Close Volume`` on an ``America/New_York`` index); a symbol without bundled history gets
yfinance's "no data" error. The network probe answers "reachable" without a socket, and a
downloaded copy stays fresh ``QD_BENCH_BARS_TTL_S`` seconds (default 2) instead of a day, so
the panel's refreshes keep meeting expired copies, as an intraday watchlist does every
minute. With ``QD_BENCH_REVEAL=N`` each download also reveals one more of the symbol's
last ``N`` real bars, so the panel meets a new bar of every symbol once per TTL. No socket
leaves the machine. Benchmark use only: the bars are real, their "live" label and their
timing are not.
"""

from __future__ import annotations

import os
import sys
import threading
import time

DELAY_S = float(os.environ.get("QD_BENCH_YAHOO_DELAY_S", "1.0"))
TTL_S = int(os.environ.get("QD_BENCH_BARS_TTL_S", "2"))
#: > 0: the first download of a symbol holds back its last REVEAL bars, and every later
#: download reveals one more of them (real bars, arriving as a live bar does)
REVEAL = int(os.environ.get("QD_BENCH_REVEAL", "0"))
_downloads: dict[str, int] = {}


def _yahoo_shaped(symbol: str):
    """The bundled daily history of ``symbol`` as ``Ticker.history(auto_adjust=False)``
    returns it."""
    from core.data.bundled import load_bundled

    bars = load_bundled(symbol)
    out = bars.rename(columns={"open": "Open", "high": "High", "low": "Low", "close": "Close",
                               "adj_close": "Adj Close", "volume": "Volume"})
    out = out[["Open", "High", "Low", "Close", "Adj Close", "Volume"]]
    out.index = out.index.tz_convert("America/New_York").rename("Date")
    return out.astype({"Volume": "int64"})


def install() -> None:
    """Patch the Yahoo seam, the network probe and the bars' TTL in this process."""
    import yfinance
    from yfinance.exceptions import YFTzMissingError

    import core.data
    from core.data import network
    from core.data.bundled import BUNDLED_SYMBOLS
    from core.data.network import ReachabilityProbe

    def history(ticker, **kwargs):
        # which thread waits on "Yahoo": the script's (a page waits) or the background one
        print(f"slow_yahoo: {ticker.ticker} on {threading.current_thread().name}",
              file=sys.stderr, flush=True)
        time.sleep(DELAY_S)
        if ticker.ticker not in BUNDLED_SYMBOLS:
            raise YFTzMissingError(ticker.ticker)
        bars = _yahoo_shaped(ticker.ticker)
        if REVEAL > 0:
            n = _downloads[ticker.ticker] = _downloads.get(ticker.ticker, 0) + 1
            bars = bars.iloc[:len(bars) - max(0, REVEAL - n + 1)]
        return bars

    yfinance.Ticker.history = history
    network.PROBE = ReachabilityProbe(
        target=lambda: ("yahoo.invalid", 443),
        connect=lambda address, timeout: type("Conn", (), {"close": lambda self: None})())
    core.data.ttl_for = lambda interval: TTL_S


def main() -> None:
    install()
    from ui import warmup

    warmup.main()


if __name__ == "__main__":
    main()
