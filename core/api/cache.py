"""Per-app caches of the HTTP API, so a warm ``POST /predict/...`` neither re-reads and
re-validates the bars nor re-loads and re-runs the model for a bar it has already answered.

* :attr:`ApiCaches.markets`: the bars of ``(symbol, interval, source)`` as
  :func:`core.data.load_ohlcv` returned them, kept :data:`MARKET_TTL_S` seconds (so a new
  live bar reaches the API at most that long after it reached the disk cache).
* :attr:`ApiCaches.predictions`: one route's answer for one bar, keyed by the route, the
  serving version of every family behind it, the symbol, interval, source, number of bars
  and the last bar's timestamp and OHLCV (a forming intraday bar that changes is a new key).
  A promote, rollback, disable or enable changes the serving version and so the key; the
  artifact's sha256 was checked when it was loaded for the first answer.
* :attr:`ApiCaches.versions`: each family's serving version as the store says
  (:func:`core.serving.serving_key`), re-read after :data:`VERSION_TTL_S` seconds. The
  API's own admin routes clear it at once; a promote from the CLI or the Admin page reaches
  the API within that time.
* :attr:`ApiCaches.scans`: a ``POST /scan``'s result (the scored rows of one universe at one
  interval), reused for :data:`MARKET_TTL_S` seconds so the next pages of the same scan
  neither re-read every symbol's bars nor the scan cache (the core caches the scored rows
  per fingerprint for a day; a new bar is a new fingerprint).

Both are bounded LRU maps (memory stays flat under any traffic). Each app built by
:func:`core.api.app.create_app` has its own, so tests and stores never share entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.lru import LRUCache

#: seconds a symbol's bars are reused before :func:`core.data.load_ohlcv` is asked again
#: (a quarter of the disk cache's 60 s intraday TTL)
MARKET_TTL_S = 15.0
#: most ``(symbol, interval, source)`` bar sets kept (about 0.2 MB per 5,000 daily bars)
MARKET_ENTRIES = 64
#: most cached route answers (a few kB each)
PREDICTION_ENTRIES = 2048
#: most scan results kept (one universe's rows each: about 1 kB per symbol)
SCAN_ENTRIES = 8
#: seconds a family's serving version is reused before the store is asked again (reading
#: it costs about 2 ms per family, most of a warm request)
VERSION_TTL_S = 1.0

@dataclass
class ApiCaches:
    """The caches of one app (see the module docstring)."""

    markets: LRUCache = field(default_factory=lambda: LRUCache(MARKET_ENTRIES))
    predictions: LRUCache = field(default_factory=lambda: LRUCache(PREDICTION_ENTRIES))
    versions: LRUCache = field(default_factory=lambda: LRUCache(256))
    #: ``POST /scan`` results per (universe, symbols, interval), so the pages of one scan
    #: neither re-read every symbol's bars nor re-read the scan cache
    scans: LRUCache = field(default_factory=lambda: LRUCache(SCAN_ENTRIES))

    def clear(self) -> None:
        self.scans.clear()
        self.markets.clear()
        self.predictions.clear()
        self.versions.clear()
