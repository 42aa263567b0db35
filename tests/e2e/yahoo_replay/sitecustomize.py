"""Test seam for the browser tests only: when ``QUANTDESK_TEST_YAHOO_DIR`` is set, the
server process answers Yahoo requests from recorded, yfinance-shaped CSV files in that folder
(``<TICKER>.csv``, the exact frame ``Ticker.history(auto_adjust=False, actions=False)``
returns) and the reachability probe says "reachable" without opening a socket. An unknown
ticker gets what yfinance raises for one. Nothing here is on a user's path: the e2e fixture
puts this folder on PYTHONPATH of its own server process.
"""

import os

_DIR = os.environ.get("QUANTDESK_TEST_YAHOO_DIR")

if _DIR:
    from pathlib import Path

    import pandas as pd
    import yfinance
    from yfinance.exceptions import YFTzMissingError

    from core.data import network

    def _history(ticker, **kwargs):
        path = Path(_DIR) / f"{ticker.ticker}.csv"
        if not path.is_file():
            raise YFTzMissingError(ticker.ticker)
        f = pd.read_csv(path, comment="#", index_col="Date")
        f.index = pd.to_datetime(f.index, utc=True).tz_convert("America/New_York").rename("Date")
        return f

    def _connect(address, timeout):
        return type("Conn", (), {"close": lambda self: None})()

    yfinance.Ticker.history = _history
    network.PROBE = network.ReachabilityProbe(target=lambda: ("yahoo.test", 443),
                                              connect=_connect)
