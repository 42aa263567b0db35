"""Market context beside a symbol, as of one bar, from bars at or before that bar only.

Four readings, each with the date of the data it used:

* **^VIX**: the CBOE volatility index close [index points = annualised implied volatility
  of the S&P 500 in percent] and its regime: the share of ^VIX closes over the previous
  5 calendar years (the as-of close excluded) at or below the as-of close [fraction 0..1];
  below 0.20 is ``low``, above 0.80 ``high``, else ``normal``; ``n/a`` with fewer than
  252 previous closes, and ``n/a`` where no ^VIX close exists within
  :data:`MAX_GAP_DAYS` of the as-of date. Offline the bundled ^VIX history
  (``arch.data``, 2014-01-03..2019-01-03) serves; it is never carried past its last close.
* **Benchmark trend** (^GSPC): its close against its 50- and 200-bar simple averages
  [index points]: ``up`` when the close is above both, ``down`` when below both, ``mixed``
  otherwise; ``n/a`` below 200 bars.
* **Breadth** of a universe: the share of its symbols with data whose close is above their
  own 50-bar simple average [fraction], with the count of symbols that had data (at least
  50 daily bars, the last within :data:`MAX_GAP_DAYS` of the as-of date).
* **Liquidity** of the symbol: Amihud (2002) illiquidity, the mean over the last 20 bars of
  ``|r_t| / (close_t * volume_t)`` [fraction of price per unit of currency traded; shown per
  million], with ``r_t = close_t / close_{t-1} - 1``, and the 20-bar median dollar volume
  ``close * volume`` [currency units per bar, USD for US listings]. Bars without volume are
  left out of both. Source: Y. Amihud (2002), "Illiquidity and stock returns: cross-section
  and time-series effects", Journal of Financial Markets 5(1), 31-56.

Daily series beside an intraday symbol: a daily bar is known only after its session, so
for an intraday as-of bar only daily bars of *earlier* dates are used; for a daily as-of
bar, daily bars up to and including its date.

The pure functions (:func:`vix_state`, :func:`benchmark_trend`, :func:`breadth`,
:func:`liquidity` and the per-bar series behind them) take frames and an as-of time;
:func:`market_context` loads the data (live first, else the cached or bundled history, see
:func:`core.data.load_ohlcv`) and returns plain JSON data for the CLI and the page.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from core.data import MarketData, load_ohlcv, load_vix, parse_date
from core.errors import DataValidationError, QuantdeskError
from core.market import is_intraday, simple_returns
from core.universe import resolve

VIX_SYMBOL = "^VIX"
BENCHMARK = "^GSPC"
#: the ^VIX percentile is taken against the previous 5 calendar years of closes
VIX_YEARS = 5
#: fewest previous ^VIX closes for a percentile (one year of trading days)
VIX_MIN_HISTORY = 252
#: percentile cuts of the regime, as the volatility page's (low < 0.20, high > 0.80)
VIX_CUTS = (0.20, 0.80)
TREND_FAST, TREND_SLOW = 50, 200
BREADTH_WINDOW = 50
LIQ_WINDOW = 20
#: fewest bars with volume in the liquidity window for a value
LIQ_MIN_BARS = 10
#: a daily series whose last close is older than this many calendar days before the as-of
#: date does not describe that date (a long weekend plus a holiday is 4 days)
MAX_GAP_DAYS = 7
#: the largest universe breadth is measured over (each member's daily bars are loaded)
MAX_BREADTH_SYMBOLS = 600
BUNDLED_VIX_NOTE = "bundled ^VIX history (arch.data)"


# ------------------------------------------------------------------ the as-of cut

def _utc(ts) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def daily_upto(obj, as_of, *, intraday: bool = False):
    """The daily bars of ``obj`` (Series or DataFrame on a UTC index) known at ``as_of``:
    dated on or before the as-of date, or, for an ``intraday`` as-of bar, strictly before
    it (that day's close is not known yet)."""
    day = _utc(as_of).normalize()
    dates = obj.index.normalize() if obj.index.tz is not None else \
        obj.index.tz_localize("UTC").normalize()
    keep = dates < day if intraday else dates <= day
    return obj[keep]


def _date(ts) -> str | None:
    return None if ts is None else str(pd.Timestamp(ts).date())


def _num(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _gap_days(last, as_of) -> int:
    return int((_utc(as_of).normalize() - _utc(last).normalize()).days)


# ------------------------------------------------------------------ ^VIX

def vix_regime_series(vix: pd.Series, years: int = VIX_YEARS,
                      min_history: int = VIX_MIN_HISTORY) -> pd.DataFrame:
    """Per bar: ^VIX ``level`` [index points], ``pct`` = share of the closes in the
    previous ``years`` calendar years (the bar itself excluded) at or below it [0..1],
    ``history`` = how many previous closes that was, and ``regime`` (``low`` below
    :data:`VIX_CUTS` [0], ``high`` above [1], else ``normal``; None where ``history`` <
    ``min_history``). Uses closes <= t only."""
    s = vix.astype("float64").dropna().sort_index()
    v, idx = s.to_numpy(), s.index
    starts = idx.searchsorted(idx - pd.DateOffset(years=years), side="left")
    pct = np.full(len(v), np.nan)
    hist = np.zeros(len(v), dtype=int)
    for i in range(len(v)):
        window = v[starts[i]:i]
        hist[i] = len(window)
        if len(window) >= min_history:
            pct[i] = float(np.mean(window <= v[i]))
    lab = np.where(pct < VIX_CUTS[0], "low", np.where(pct > VIX_CUTS[1], "high", "normal"))
    regime = pd.Series(lab, index=idx, dtype="object")
    regime[np.isnan(pct)] = None
    return pd.DataFrame({"level": v, "pct": pct, "history": hist, "regime": regime}, index=idx)


def vix_state(vix: pd.Series, as_of, *, intraday: bool = False) -> dict:
    """^VIX as of ``as_of`` from closes known then (:func:`daily_upto`).

    Returns ``{level [index points], percentile [0..1], regime (low|normal|high|n/a),
    history (previous closes ranked against), as_of (date of the close used), history_range
    ([first, last] date of the series given), note}``; ``level`` None and ``regime`` "n/a"
    where no close lies within :data:`MAX_GAP_DAYS` of the as-of date (the series is never
    carried past its last close)."""
    s = vix.dropna()
    rng = [_date(s.index[0]), _date(s.index[-1])] if len(s) else [None, None]
    out = {"level": None, "percentile": None, "regime": "n/a", "history": 0, "as_of": None,
           "history_range": rng, "note": None}
    known = daily_upto(s, as_of, intraday=intraday)
    day = _date(_utc(as_of))
    if known.empty:
        out["note"] = (f"No ^VIX close on or before {day}"
                       + (f" (the ^VIX history here runs {rng[0]} .. {rng[1]})." if len(s)
                          else "."))
        return out
    last = known.index[-1]
    if _gap_days(last, as_of) > MAX_GAP_DAYS:
        out["note"] = (f"The ^VIX history here ends {_date(last)}, more than {MAX_GAP_DAYS} "
                       f"days before {day}; it is not carried forward.")
        return out
    row = vix_regime_series(known).iloc[-1]
    out.update(level=float(row["level"]), percentile=_num(row["pct"]),
               regime=row["regime"] or "n/a", history=int(row["history"]), as_of=_date(last))
    if row["regime"] is None:
        out["note"] = (f"Only {int(row['history'])} previous ^VIX closes; the regime needs "
                       f"{VIX_MIN_HISTORY}.")
    return out


# ------------------------------------------------------------------ benchmark trend

def trend_series(close: pd.Series, fast: int = TREND_FAST, slow: int = TREND_SLOW
                 ) -> pd.DataFrame:
    """Per bar: ``close``, ``sma_fast``, ``sma_slow`` (simple averages of the last ``fast``
    / ``slow`` closes, same unit as the close) and ``trend``: ``up`` (close above both),
    ``down`` (below both), ``mixed`` (otherwise), None before ``slow`` bars. Causal."""
    c = close.astype("float64")
    f = c.rolling(fast, min_periods=fast).mean()
    s = c.rolling(slow, min_periods=slow).mean()
    lab = np.where((c > f) & (c > s), "up", np.where((c < f) & (c < s), "down", "mixed"))
    trend = pd.Series(lab, index=c.index, dtype="object")
    trend[s.isna() | f.isna()] = None
    return pd.DataFrame({"close": c, "sma_fast": f, "sma_slow": s, "trend": trend})


def benchmark_trend(close: pd.Series, as_of, *, intraday: bool = False,
                    symbol: str = BENCHMARK) -> dict:
    """The benchmark's trend as of ``as_of`` from daily closes known then.

    Returns ``{symbol, close, sma50, sma200 [index points], trend (up|down|mixed|n/a),
    as_of (date of the close used), note}``."""
    out = {"symbol": symbol, "close": None, "sma50": None, "sma200": None, "trend": "n/a",
           "as_of": None, "note": None}
    known = daily_upto(close.dropna(), as_of, intraday=intraday)
    day = _date(_utc(as_of))
    if known.empty:
        out["note"] = f"No {symbol} close on or before {day}."
        return out
    last = known.index[-1]
    if _gap_days(last, as_of) > MAX_GAP_DAYS:
        out["note"] = (f"The {symbol} history here ends {_date(last)}, more than "
                       f"{MAX_GAP_DAYS} days before {day}.")
        return out
    row = trend_series(known.iloc[-TREND_SLOW:]).iloc[-1]
    out.update(close=float(row["close"]), sma50=_num(row["sma_fast"]),
               sma200=_num(row["sma_slow"]), trend=row["trend"] or "n/a", as_of=_date(last))
    if row["trend"] is None:
        out["note"] = f"{len(known)} {symbol} bars; the 200-bar average needs {TREND_SLOW}."
    return out


# ------------------------------------------------------------------ breadth

def above_average(close: pd.Series, window: int = BREADTH_WINDOW) -> pd.Series:
    """Per bar: 1.0 where the close is above the simple average of the last ``window``
    closes (itself included), 0.0 where not, NaN before ``window`` bars. Causal."""
    c = close.astype("float64")
    sma = c.rolling(window, min_periods=window).mean()
    return (c > sma).astype("float64").where(sma.notna())


def breadth(closes: Mapping[str, pd.Series], as_of, *, intraday: bool = False) -> dict:
    """Share of the symbols above their 50-bar average as of ``as_of``.

    Args:
        closes: symbol -> daily close series (UTC index); frames are read by ``close``.
        as_of: the as-of bar (see :func:`daily_upto`).

    Returns:
        ``{share [fraction, None without data], above, with_data, symbols, as_of (latest
        close date used), without_data (symbols left out)}``. A symbol has data when it
        has at least 50 closes known at ``as_of``, the last within :data:`MAX_GAP_DAYS`.
    """
    above, with_data, missing, last_dates = 0, 0, [], []
    for sym, c in closes.items():
        c = c["close"] if isinstance(c, pd.DataFrame) else c
        known = daily_upto(c.dropna(), as_of, intraday=intraday)
        if len(known) < BREADTH_WINDOW or _gap_days(known.index[-1], as_of) > MAX_GAP_DAYS:
            missing.append(sym)
            continue
        tail = known.iloc[-BREADTH_WINDOW:]
        with_data += 1
        above += int(tail.iloc[-1] > tail.mean())
        last_dates.append(known.index[-1])
    return {"share": above / with_data if with_data else None, "above": above,
            "with_data": with_data, "symbols": len(closes),
            "as_of": _date(max(last_dates)) if last_dates else None, "without_data": missing}


# ------------------------------------------------------------------ liquidity

def liquidity(frame: pd.DataFrame, as_of=None, window: int = LIQ_WINDOW,
              min_bars: int = LIQ_MIN_BARS) -> dict:
    """Amihud illiquidity and median dollar volume of the last ``window`` bars at or before
    ``as_of`` (the last bar when None).

    Returns ``{amihud [fraction of price per currency unit traded], amihud_per_million
    [the same per million traded], median_dollar_volume [currency units per bar], bars
    (bars with volume used), window, as_of, note}``; None values below ``min_bars`` bars with
    volume. The first bar of the frame has no return and is never used.

    Dollar volume is ``close * volume`` of the frame as given: on adjusted bars (Quantdesk
    adjusts prices by ``adj_close / close`` and volume by splits only) it is below the value
    traded that day by the dividend part of the adjustment, and by any split the volume
    does not reflect (the bundled AAPL's ``adj_close`` already holds the 2014 7:1 split, so
    its bundled dollar volume reads about 7x low)."""
    f = frame if as_of is None else frame[frame.index <= _utc(as_of)]
    out = {"amihud": None, "amihud_per_million": None, "median_dollar_volume": None,
           "bars": 0, "window": window, "as_of": _date(f.index[-1]) if len(f) else None,
           "note": None}
    if len(f) < 2:
        return out
    ret = simple_returns(f["close"]).iloc[-window:]
    dv = (f["close"] * f["volume"]).astype("float64").iloc[-window:]
    ok = np.isfinite(ret) & np.isfinite(dv) & (dv > 0)
    if int(ok.sum()) < min_bars:
        out["bars"] = int(ok.sum())
        return out
    illiq = float((ret[ok].abs() / dv[ok]).mean())
    out.update(amihud=illiq, amihud_per_million=illiq * 1e6,
               median_dollar_volume=float(dv[ok].median()), bars=int(ok.sum()))
    return out


# ------------------------------------------------------------------ loading

def _source_label(md: MarketData) -> str:
    return md.source + (" (stale)" if md.stale else "")


def load_vix_close(source: str = "auto", wait: bool = True
                   ) -> tuple[pd.Series, str, str | None]:
    """^VIX daily closes: Yahoo (through the cache) unless ``source="bundled"``, else the
    bundled ``arch.data`` history. Returns ``(closes, source label, fallback sentence)``.
    ``wait``: as :func:`core.data.load_ohlcv`'s."""
    if source != "bundled":
        try:
            md = load_ohlcv(VIX_SYMBOL, "1d", source=source, wait=wait)
            return md.frame["close"], _source_label(md), md.fallback
        except QuantdeskError:
            pass
    s = load_vix()
    return s, "bundled", (f"{BUNDLED_VIX_NOTE}, {s.index[0].date()} .. "
                          f"{s.index[-1].date()}; never carried past its last close.")


def _universe_closes(symbols, source: str, wait: bool
                     ) -> tuple[dict[str, pd.Series], list[str]]:
    closes, sources = {}, set()
    for sym in symbols:
        try:
            md = load_ohlcv(sym, "1d", source=source, wait=wait)
        except QuantdeskError:
            closes[sym] = pd.Series(dtype="float64",
                                    index=pd.DatetimeIndex([], tz="UTC", name="timestamp"))
            continue
        closes[sym] = md.frame["close"]
        sources.add(_source_label(md))
    return closes, sorted(sources)


def market_context(symbol: str, frame: pd.DataFrame | None = None, *, interval: str = "1d",
                   universe: str = "bundled", as_of=None, source: str = "auto",
                   data_source: str | None = None, fallback: str | None = None,
                   wait: bool = True) -> dict:
    """The four readings for ``symbol`` as of one of its bars, as plain JSON data.

    Args:
        symbol: ticker. frame: its bars (loaded with ``load_ohlcv(symbol, interval,
            source=source)`` when None). interval: of ``frame``.
        universe: a name :func:`core.universe.resolve` knows (``bundled``, ``sp500`` ...).
        as_of: a date or time; the as-of bar is the symbol's last bar at or before it
            (the last bar when None).
        source: where ^GSPC, ^VIX and the universe come from (``auto``: live first, else the
            cached or bundled history; ``bundled``: the bundled history only).
        data_source, fallback: how ``frame`` was served (shown beside it), when given.
        wait: False for a page: a daily copy past its TTL is used at once and downloaded
            again in the background (:func:`core.data.load_ohlcv`'s ``wait``).

    Returns:
        ``{symbol, interval, as_of, source, fallback, vix{...}, benchmark{...},
        breadth{...}, liquidity{...}, notes}`` (see the module docstring for units).

    Raises:
        DataValidationError: ``as_of`` before the symbol's first bar, or a universe larger
            than :data:`MAX_BREADTH_SYMBOLS` or unknown; errors of ``load_ohlcv``.
    """
    if frame is None:
        md = load_ohlcv(symbol, interval, source=source, wait=wait)
        symbol, frame = md.symbol, md.frame
        data_source, fallback = _source_label(md), md.fallback
    if as_of is None:
        bar = frame.index[-1]
    else:
        cut = parse_date(as_of, "as-of date")
        if cut == cut.normalize():
            cut = cut + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        upto = frame.index[frame.index <= cut]
        if len(upto) == 0:
            raise DataValidationError(
                f"{symbol} has no bar on or before {cut.date()}: its bars run "
                f"{frame.index[0].date()} .. {frame.index[-1].date()}.")
        bar = upto[-1]
    intraday = is_intraday(interval)
    notes: list[str] = []

    vix, vix_src, vix_note = load_vix_close(source, wait)
    v = vix_state(vix, bar, intraday=intraday)
    v.update(symbol=VIX_SYMBOL, source=vix_src)
    if vix_note:
        notes.append(f"^VIX: {vix_note}")

    try:
        bmd = load_ohlcv(BENCHMARK, "1d", source=source, wait=wait)
        b = benchmark_trend(bmd.frame["close"], bar, intraday=intraday)
        b["source"] = _source_label(bmd)
        if bmd.fallback:
            notes.append(f"{BENCHMARK}: {bmd.fallback}")
    except QuantdeskError as err:
        b = {"symbol": BENCHMARK, "close": None, "sma50": None, "sma200": None,
             "trend": "n/a", "as_of": None, "source": None, "note": str(err)}

    uni = resolve(universe)
    if len(uni.symbols) > MAX_BREADTH_SYMBOLS:
        raise DataValidationError(
            f"Breadth is measured over at most {MAX_BREADTH_SYMBOLS} symbols; {uni.title} has "
            f"{len(uni.symbols):,}.")
    closes, srcs = _universe_closes(uni.symbols, source, wait)
    br = breadth(closes, bar, intraday=intraday)
    br.update(universe=uni.name, title=uni.title, list_as_of=uni.as_of, window=BREADTH_WINDOW,
              sources=srcs)

    liq = liquidity(frame, bar)
    if symbol.startswith("^"):  # Yahoo's index tickers
        liq.update(amihud=None, amihud_per_million=None, median_dollar_volume=None,
                   note=f"{symbol} is an index, not traded: its volume is its members' share "
                        "volume, so dollar volume and Amihud illiquidity do not apply.")
    return {"symbol": symbol, "interval": interval, "as_of": str(bar), "source": data_source,
            "fallback": fallback, "vix": v, "benchmark": b, "breadth": br, "liquidity": liq,
            "notes": notes}


def context_lines(ctx: dict) -> list[str]:
    """The context as short plain sentences (CLI text output; the page's captions)."""
    v, b, br, liq = ctx["vix"], ctx["benchmark"], ctx["breadth"], ctx["liquidity"]
    lines = [f"{ctx['symbol']} as of {ctx['as_of'][:10]}"
             + (f" ({ctx['fallback']})" if ctx.get("fallback") else "")]
    if v["level"] is None:
        lines.append(f"^VIX: n/a. {v['note']}")
    else:
        pct = "" if v["percentile"] is None else \
            f", {v['percentile']:.0%} of the previous {VIX_YEARS} years' closes at or below"
        lines.append(f"^VIX: {v['level']:.2f} ({v['regime']}{pct}) as of {v['as_of']}, "
                     f"source {v['source']}" + (f". {v['note']}" if v["note"] else ""))
    if b["close"] is None or b["trend"] == "n/a":
        lines.append(f"{b['symbol']} trend: n/a. {b['note']}")
    else:
        lines.append(f"{b['symbol']} trend: {b['trend']} (close {b['close']:,.2f} vs SMA50 "
                     f"{b['sma50']:,.2f}, SMA200 {b['sma200']:,.2f}) as of {b['as_of']}, "
                     f"source {b['source']}")
    if br["share"] is None:
        lines.append(f"Breadth ({br['title']}): n/a, none of its {br['symbols']} symbols had "
                     f"{BREADTH_WINDOW} bars by then")
    else:
        lines.append(f"Breadth ({br['title']}): {br['share']:.0%} above their 50-bar average "
                     f"({br['above']} of {br['with_data']} symbols with data, "
                     f"{br['symbols']} listed), latest close {br['as_of']}")
    if liq["amihud"] is None:
        lines.append(f"Liquidity: n/a. {liq['note']}" if liq.get("note") else
                     f"Liquidity: n/a ({liq['bars']} bars with volume in the last "
                     f"{liq['window']})")
    else:
        lines.append(f"Liquidity: median dollar volume {liq['median_dollar_volume']:,.0f} per "
                     f"bar, Amihud {liq['amihud_per_million']:.3g} per million traded "
                     f"({liq['bars']} bars to {liq['as_of']})")
    return lines


__all__ = ["BENCHMARK", "VIX_SYMBOL", "above_average", "benchmark_trend", "breadth",
           "context_lines", "daily_upto", "liquidity",
           "load_vix_close", "market_context", "trend_series", "vix_regime_series",
           "vix_state"]
