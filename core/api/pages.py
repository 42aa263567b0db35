"""What the routes of the newer pages compute, without FastAPI: the Screener's scan
(``POST /scan``), the Strategy Lab's backtest (``POST /backtest``) and market context
(``GET /context/{symbol}``), and the Paper Book (``/paper...``).

Every function raises :class:`core.errors.QuantdeskError` subclasses for bad input, with
``err.field`` naming the request field to blame where one is (:mod:`core.api.app` turns
them into 4xx JSON bodies). The work itself is the core's, called as the CLI calls it:
:func:`core.screener.scan.scan` + :mod:`core.screener.filters`,
:func:`core.strategy.backtest.backtest` / :func:`~core.strategy.backtest.walk_forward_backtest`,
:func:`core.context.market_context` and :mod:`core.paper.desk`.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pandas as pd

from core.api import service
from core.api.cache import MARKET_TTL_S, ApiCaches
from core.context import market_context
from core.data import MarketData, parse_date
from core.errors import DataValidationError, InsufficientDataError, QuantdeskError
from core.panel.predictors import loggable
from core.panel.symbol import symbol_panel
from core.paper import desk, follow
from core.paper.book import check_order
from core.screener import filters
from core.screener.scan import scan as run_scan
from core.store import paper as paper_store
from core.store import session_scope
from core.strategy.backtest import METRIC_KEYS, walk_forward_backtest
from core.strategy.backtest import backtest as run_backtest
from core.strategy.report import backtest_verdict, check_grid
from core.strategy.spec import Strategy, example_strategies, load_strategy
from core.strategy.tune import grid_configs
from core.universe import TICKER, Universe, custom, resolve

#: how long a scan's result is reused for the next page of the same scan [s] (the core's
#: scan cache keeps the scored rows a day; this only saves re-reading every symbol's bars)
SCAN_TTL_S = MARKET_TTL_S


class UnknownOrderError(service.UnknownJobError):
    """A paper order id that is not pending in the key's book (HTTP 404)."""


@contextlib.contextmanager
def blame(field: str):
    """Name ``field`` on a :class:`QuantdeskError` raised inside (unless it names one)."""
    try:
        yield
    except QuantdeskError as err:
        if getattr(err, "field", None) is None:
            err.field = field
        raise


def _invalid(message: str, field: str) -> DataValidationError:
    err = DataValidationError(message)
    err.field = field
    return err


# ---------------------------------------------------------------- scan

def scan_universe(universe: str | None, symbols: list[str] | None) -> Universe:
    """The universe of a scan request: a named one, or the list ``symbols`` (upper-cased,
    repeats dropped, each a ticker per :data:`core.universe.TICKER`)."""
    if universe is not None:
        with blame("universe"):
            return resolve(universe)
    out: list[str] = []
    for i, raw in enumerate(symbols or []):
        sym = raw.strip().upper()
        if not TICKER.match(sym):
            raise _invalid(f"{raw[:20]!r} is not a ticker: use letters, digits and ^ . - = "
                           "only, at most 15 characters (e.g. MSFT, ^GSPC, BRK-B).",
                           f"symbols.{i}")
        if sym not in out:
            out.append(sym)
    return custom(out, "Symbols of the request")


def _records(rows: pd.DataFrame) -> list[dict]:
    return [service.jsonable(r) for r in
            rows.astype(object).where(rows.notna(), None).to_dict(orient="records")]


def scan(body, caches: ApiCaches | None = None) -> dict:
    """``POST /scan`` (:class:`core.api.schemas.ScanRequest` ``body``): the universe scanned
    (the scan of the same universe, symbols and interval reused for :data:`SCAN_TTL_S` s
    from ``caches``; the core's cache keeps scored rows per fingerprint), filtered, sorted
    and paged. Returns a ``ScanResponse`` dict."""
    t0 = time.perf_counter()
    conds = []
    for i, text in enumerate(body.filters):
        with blame(f"filters.{i}"):
            conds.append(filters.parse_condition(text))
    uni = scan_universe(body.universe, body.symbols)
    key = ("scan", uni.name, uni.symbols, body.interval)
    res = None
    if caches is not None and not body.fresh:
        res = caches.scans.get(key, SCAN_TTL_S)
    if res is None:
        with blame("engine"):
            res = run_scan(uni, body.interval, engine=body.engine, use_cache=not body.fresh)
        if caches is not None:
            caches.scans.put(key, res)
    with blame("filters"):
        matching = filters.apply(res.rows, conds, body.sort, body.descending)
    page = matching.iloc[body.offset:body.offset + body.limit]
    end = body.offset + len(page)
    return {
        "rows": _records(page), "count": len(page), "total": len(matching),
        "scanned": len(res.rows), "offset": body.offset, "limit": body.limit,
        "next_offset": end if end < len(matching) else None,
        "universe": {"name": res.universe.name, "title": res.universe.title,
                     "as_of": res.universe.as_of, "symbols": len(res.universe.symbols)},
        "interval": res.interval, "filters": [str(c) for c in conds], "sort": body.sort,
        "descending": body.descending, "engine": res.engine, "cached": bool(res.cached),
        "failed": res.failed, "versions": {k: (None if v is None else str(v))
                                           for k, v in res.versions.items()},
        "seconds": float(res.seconds), "latency_ms": (time.perf_counter() - t0) * 1000.0,
        "notes": list(res.notes)}


# ---------------------------------------------------------------- backtest

def strategy_of(strategy: Strategy | None, example: str | None) -> Strategy:
    """The request's strategy: as given (already validated by pydantic), or the example file
    ``strategies/<example>.toml|json``."""
    if strategy is not None:
        return strategy
    files = example_strategies()
    path = files.get(example or "")
    if path is None:
        raise _invalid(f"No example strategy {str(example)[:64]!r}; the examples are: "
                       f"{', '.join(files) or '(none shipped)'}.", "example")
    with blame("example"):
        return load_strategy(path)


def _slice_dates(md: MarketData, start, end) -> MarketData:
    f = md.frame
    if start is not None:
        with blame("start"):
            f = f[f.index >= parse_date(start, "start date")]
    if end is not None:
        with blame("end"):
            cut = parse_date(end, "end date") + pd.Timedelta(days=1)  # the end day included
        f = f[f.index < cut]
    if f.empty:
        raise _invalid(f"{md.symbol} has no bars between {start or 'its first'} and "
                       f"{end or 'its last'}: its bars run {md.frame.index[0].date()} .. "
                       f"{md.frame.index[-1].date()}.", "start" if start is not None else "end")
    md.frame = f
    return md


def _trade_rows(trades: pd.DataFrame) -> list[dict]:
    out = []
    for row in trades.to_dict("records"):
        d = {}
        for k, v in row.items():
            if hasattr(v, "isoformat"):
                d[k] = v.isoformat()
            elif k in ("side", "bars_held"):
                d[k] = int(v)
            elif isinstance(v, str):
                d[k] = v
            else:
                d[k] = service.jsonable(float(v))
        out.append(d)
    return out


def _downsample(n: int, k: int) -> np.ndarray:
    """Indices of at most ``k`` evenly spaced points of ``n`` (first and last kept)."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))


def backtest(body, caches: ApiCaches | None = None) -> dict:
    """``POST /backtest`` (:class:`core.api.schemas.BacktestRequest` ``body``): the strategy
    on the bars, beside buy-and-hold, as ``quantdesk backtest --json`` computes it, with the
    trades and equity curve bounded. Returns a ``BacktestResponse`` dict."""
    t0 = time.perf_counter()
    spec = strategy_of(body.strategy, body.example)
    where = "strategy" if body.strategy is not None else "example"
    md = service.market(body.symbol, body.interval, None, body.source, body.bars,
                        caches=caches)
    if body.start is not None or body.end is not None:
        md = _slice_dates(md, body.start, body.end)
    try:
        if body.walk_forward:
            grid = grid_configs(spec)
            with blame(where):
                check_grid(len(grid))
            res = walk_forward_backtest(md.frame, spec, interval=md.interval, grid=grid,
                                        initial_equity=body.initial_equity)
        else:
            res = run_backtest(md.frame, spec, interval=md.interval,
                               initial_equity=body.initial_equity)
    except InsufficientDataError as err:
        err.field = err.field if getattr(err, "field", None) else (
            "symbol" if body.bars is None else "bars")
        raise
    except (ValueError, OverflowError, ArithmeticError) as err:
        # a parameter the signal rejects (e.g. RSI thresholds out of order) or a grid too big
        raise _invalid(f"The strategy cannot run: {str(err)[:300]}. Fix it and send it "
                       "again.", where) from None
    except Exception as err:
        if type(err) is not Exception or not str(err).startswith("TA_"):
            raise
        # TA-Lib raises a bare Exception for a parameter outside its range (e.g. a period
        # over 100,000 bars, a band width it cannot use)
        raise _invalid(f"The strategy cannot run: a signal parameter is outside the range "
                       f"its indicator accepts ({str(err)[:160]}). Use periods of 2 to 100,000 "
                       "bars and moderate thresholds.", where) from None
    metrics = {k: service.jsonable(res.metrics.get(k)) for k in METRIC_KEYS}
    bench = {k: service.jsonable(res.benchmark_metrics.get(k)) for k in METRIC_KEYS}
    bench["n_trades"] = 0
    bench["hit_rate"] = bench["hit_rate_lo"] = bench["hit_rate_hi"] = None
    trades = res.trades
    kept = trades.tail(body.max_trades) if body.max_trades else trades.iloc[0:0]
    eq, bh = res.equity, res.benchmark.reindex(res.equity.index)
    idx = _downsample(len(eq), body.equity_points)
    points = [{"timestamp": eq.index[i].isoformat(),
               "strategy": service.jsonable(float(eq.iloc[i])),
               "buy_and_hold": service.jsonable(float(bh.iloc[i]))} for i in idx]
    out = {"symbol": md.symbol, "interval": md.interval, "source": md.source,
           "strategy": spec.name, "side": spec.side,
           "mode": "walk-forward" if body.walk_forward else "full history",
           "first": str(eq.index[0].date()), "last": str(eq.index[-1].date()),
           "bars": len(eq), "costs_bp": spec.costs.model_dump(),
           "metrics": metrics, "buy_and_hold": bench,
           "verdict": backtest_verdict(res.metrics, res.benchmark_metrics).replace("**", ""),
           "trades": _trade_rows(kept), "trades_total": len(trades),
           "trades_truncated": len(kept) < len(trades),
           "equity": points, "equity_total": len(eq),
           "equity_downsampled": len(points) < len(eq),
           "latency_ms": 0.0, "notes": list(md.notes)}
    if body.walk_forward:
        out.update(folds=service.jsonable(res.folds), n_configs=int(res.n_configs))
    else:
        out.update(params=service.jsonable(res.params), n_configs=1)
    out["latency_ms"] = (time.perf_counter() - t0) * 1000.0
    return out


# ---------------------------------------------------------------- market context

def context(symbol: str, interval: str, universe: str, as_of, source: str,
            caches: ApiCaches | None = None) -> dict:
    """``GET /context/{symbol}``: :func:`core.context.market_context` as
    ``quantdesk context --json`` computes it (^GSPC, ^VIX and the universe from ``source``
    too). Returns a ``ContextResponse`` dict."""
    t0 = time.perf_counter()
    with blame("symbol"):
        md = service.market(symbol, interval, None, source, caches=caches)
    if as_of is not None:
        with blame("as_of"):
            parse_date(as_of, "as-of date")
    with blame("universe"):
        resolve(universe)  # a plain message for an unknown name, before any loading
    label = md.source + (" (stale)" if getattr(md, "stale", False) else "")
    with blame("as_of" if as_of is not None else "universe"):
        ctx = market_context(md.symbol, md.frame, interval=md.interval, universe=universe,
                             as_of=as_of, source=source, data_source=label,
                             fallback=md.fallback)
    out = service.jsonable(ctx)
    out["latency_ms"] = (time.perf_counter() - t0) * 1000.0
    return out


# ---------------------------------------------------------------- paper book

def owner_of(key_name: str) -> str:
    """The paper book of an API key: ``api:<key name>``."""
    return f"api:{key_name}"


def _bars(symbol: str, interval: str, source: str, caches: ApiCaches | None) -> MarketData:
    with blame("symbol"):
        return service.market(symbol.strip().upper(), interval, None, source, caches=caches)


def paper_status(owner: str) -> dict:
    """``GET /paper``: :func:`core.paper.desk.status` (the account opened when missing)."""
    with session_scope() as s:
        return service.jsonable(desk.status(owner, session=s))


def paper_order(owner: str, body, caches: ApiCaches | None = None) -> dict:
    """``POST /paper/orders``: :func:`core.paper.desk.place_order` at the book's current bar."""
    with blame("qty"):
        check_order(body.side, body.qty)
    md = _bars(body.symbol, body.interval, body.source, caches)
    with blame("qty"), session_scope() as s:
        o = desk.order_dict(desk.place_order(owner, md, body.side, body.qty, session=s))
    return {"order": service.jsonable(o),
            "message": f"order #{o['id']}: {o['side']} {o['quantity']:g} {o['symbol']} placed "
                       f"at the bar of {o['placed_at'][:10]}; it fills at the next bar's open "
                       "(POST /paper/mark)."}


def paper_mark(owner: str, body, caches: ApiCaches | None = None) -> dict:
    """``POST /paper/mark``: :func:`core.paper.follow.step` by ``body.steps`` bars for each
    symbol of the book (a followed strategy decides at each new bar), as ``quantdesk paper
    mark --replay-steps N`` does."""
    with session_scope() as s:
        positions = [(p.symbol, p.interval) for p in
                     paper_store.get_positions(owner, session=s)]
    rows = []
    for sym, iv in positions:
        md = _bars(sym, iv, body.source, caches)
        with session_scope() as s:
            a, decisions = follow.step(owner, md, session=s, steps=body.steps)
        rows.append({"symbol": sym, "bars": a.bars, "last_bar": a.last_ts.isoformat(),
                     "at_end": a.at_end, "decisions": [decision_dict(d) for d in decisions],
                     "fills": [service.jsonable({
                         "order_id": f.order_id, "side": f.side, "quantity": f.quantity,
                         "ts": f.ts.isoformat(), "open": f.open, "price": f.price,
                         "commission": f.commission}) for f in a.fills]})
    return {"symbols": rows, "status": paper_status(owner)}


def paper_follow(owner: str, symbol: str, interval: str, source: str,
                 caches: ApiCaches | None = None) -> dict:
    """``POST /paper/follow/{symbol}``: :func:`core.paper.desk.follow_signal` (which logs the
    panel's predictions to the prediction table), with the model versions behind it."""
    t0 = time.perf_counter()
    md = _bars(symbol, interval, source, caches)
    panels = []

    def panel_fn(seen: MarketData):
        panels.append(symbol_panel(seen))
        return panels[-1]

    with blame("symbol"), session_scope() as s:
        d = desk.follow_signal(owner, md, session=s, panel_fn=panel_fn)
        order = desk.order_dict(d.order) if d.order is not None else None
    preds = panels[-1].predictions if panels else []
    return service.jsonable({
        "symbol": d.symbol, "action": d.action, "bar": d.bar_ts.isoformat(),
        "target": d.target, "current": d.current, "message": d.message, "order": order,
        "prediction_id": d.prediction_id, "reasons": list(d.reasons),
        "model_versions": sorted({p.model_version for p in preds
                                  if p.model_version != "naive"}),
        "logged": len(loggable(preds)),
        "latency_ms": (time.perf_counter() - t0) * 1000.0})


def decision_dict(d) -> dict:
    """A :class:`core.paper.follow.StrategyDecision` as ``PaperDecisionOut``."""
    return service.jsonable({
        "symbol": d.symbol, "strategy": d.strategy, "bar": d.bar_ts.isoformat(),
        "side": d.state.side, "wants": d.state.target, "reason": d.state.reason,
        "signals": dict(d.state.signals), "target": d.target, "current": d.current,
        "message": d.message, "order": desk.order_dict(d.order) if d.order is not None else None})


def paper_follow_strategy(owner: str, symbol: str, body, caches: ApiCaches | None = None
                          ) -> dict:
    """``POST /paper/strategies/{symbol}``: :func:`core.paper.follow.follow_strategy` from
    the book's current bar."""
    spec = strategy_of(body.strategy, body.example)
    md = _bars(symbol, body.interval, body.source, caches)
    with blame("strategy" if body.strategy is not None else "example"), session_scope() as s:
        return decision_dict(follow.follow_strategy(owner, md, spec, session=s))


def paper_unfollow(owner: str, symbol: str) -> dict:
    """``DELETE /paper/strategies/{symbol}``: stop following (the position stays)."""
    with session_scope() as s:
        ok = follow.unfollow(owner, symbol, session=s)
    if not ok:
        err = UnknownOrderError(f"This book follows no strategy for {symbol.upper()} (see "
                                "GET /paper for what it follows).")
        err.field = "symbol"
        raise err
    return {"cancelled": 0, "message": f"stopped following the strategy for {symbol.upper()}; "
                                       "the position stays"}


def paper_cancel(owner: str, order_id: int) -> dict:
    """``DELETE /paper/orders/{id}``: cancel a pending order of the book."""
    with session_scope() as s:
        ok = paper_store.cancel_order(owner, order_id, session=s)
    if not ok:
        err = UnknownOrderError(f"No pending order #{order_id} in this book (see "
                                      "GET /paper for the open orders).")
        err.field = "order_id"
        raise err
    return {"cancelled": order_id, "message": f"cancelled order #{order_id}"}


def paper_reset(owner: str, body) -> dict:
    """``POST /paper/reset``: start the book again with ``body``'s settings."""
    with blame("cash"), session_scope() as s:
        paper_store.reset_account(owner, session=s, cash=body.cash,
                                  commission_bp=body.commission_bp, spread_bp=body.spread_bp,
                                  slippage_bp=body.slippage_bp, fraction=body.fraction,
                                  allow_short=body.allow_short)
    return paper_status(owner)


__all__ = ["backtest", "blame", "context", "owner_of", "paper_cancel", "paper_follow",
           "paper_mark", "paper_order", "paper_reset", "paper_status", "scan",
           "scan_universe", "strategy_of"]
