"""Event-driven bar backtest of a :class:`core.strategy.spec.Strategy`, beside buy-and-hold.

Bookkeeping, bar by bar (``i`` is the bar, prices are that bar's OHLC):

1. **Orders decided at bar t's close fill at bar t+1's open.** A buy fills at
   ``open * (1 + c)``, a sell at ``open * (1 - c)`` with ``c = (spread_bp / 2 +
   slippage_bp) / 1e4``; a commission of ``commission_bp / 1e4`` of the fill's notional is
   paid in cash on every fill.
2. **Sizing** (:class:`core.strategy.spec.Sizing`): an entry's notional is ``share x equity``
   at the fill (equity = cash when flat), so ``units = share * equity / fill``; ``share`` is
   ``fraction`` (policy ``fixed``), ``min(fraction, target_vol / sigma_t)`` with sigma_t the
   annualised EWMA volatility at the signal bar (``vol_target``), or ``min(fraction,
   risk_per_trade * fill / stop distance)`` (``atr_risk``: a stop hit loses
   ``risk_per_trade`` of equity before costs). Shorts hold negative units and receive the
   sale proceeds in cash. Equity at every close is ``cash + units * close``.
3. **Stops** sit ``stop_atr x ATR[t]`` (ATR at the signal bar t, Wilder, price units) from
   the entry fill. They are checked on every bar held, the entry bar included (after the
   open fill). Convention: a long whose bar has ``low <= stop`` exits at ``min(open, stop)``
   (a gap through the stop fills at the open), a short whose bar has ``high >= stop`` at
   ``max(open, stop)``; the fill then pays the costs of step 1. No entry is taken while the
   ATR is still warming up when a stop is set.
4. **Exits at the next open** after an exit signal (-1 of any exit signal for a long, +1
   for a short), after ``max_hold`` bars held (the entry bar counts as 1), or, with
   ``side = "both"``, after an opposite entry signal, which also opens the reverse position
   at the same open.
5. **End of the window:** an open position is closed at the last close with costs (reason
   ``end``), so every trade in the list is complete and costs are never left out.

Buy-and-hold starts with the same cash, buys ``1 x equity`` at the strategy's first
possible fill (the open after the window's first close) and sells at the last close, with the
same costs. Metrics (:func:`performance`) use simple per-bar returns of the equity
curve: CAGR, annualised volatility, Sharpe with its 95% CI (:func:`core.strategy.deflated.
sharpe_ci`), Sortino (downside deviation below 0), max drawdown, Calmar (CAGR / max
drawdown), hit rate of closed trades with its Wilson CI, turnover (traded notional / mean
equity, per year) and exposure (share of bars holding a position; mean |position| / equity).
Bacon (2008), *Practical Portfolio Performance Measurement and Attribution*, for definitions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.evaluation.splits import walk_forward_splits
from core.evaluation.stats import wilson_ci
from core.market import ewma_variance, log_returns, periods_per_year
from core.strategy import indicators as ind
from core.strategy.deflated import sharpe_ci
from core.strategy.rules import compute_signal
from core.strategy.spec import Strategy

INITIAL_EQUITY = 100_000.0
TRADE_COLUMNS = ("side", "entry_time", "entry_price", "exit_time", "exit_price", "units",
                 "bars_held", "pnl", "return", "costs", "exit_reason")
METRIC_KEYS = ("total_return", "cagr", "ann_vol", "sharpe", "sharpe_lo", "sharpe_hi", "sortino",
               "max_drawdown", "calmar", "n_trades", "hit_rate", "hit_rate_lo", "hit_rate_hi",
               "turnover", "exposure", "avg_exposure", "n_bars")


@dataclass
class BacktestResult:
    """One backtest over bars ``[start, stop)`` of a frame.

    Attributes:
        equity: strategy equity at each close [currency of the prices], starts at
            ``initial_equity``. benchmark: buy-and-hold equity on the same bars.
        position: signed exposure at each close [fraction of equity; + long, - short].
        trades: one row per completed trade, columns :data:`TRADE_COLUMNS` (prices are fills
            after spread and slippage; ``pnl`` [currency] net of every cost; ``return`` =
            pnl / entry notional; ``costs`` [currency] = commissions + price concessions).
        metrics / benchmark_metrics: :func:`performance` of each curve.
        params: the strategy's parameters as run (for reports).
    """

    equity: pd.Series
    benchmark: pd.Series
    position: pd.Series
    trades: pd.DataFrame
    metrics: dict
    benchmark_metrics: dict
    params: dict = field(default_factory=dict)

    @property
    def returns(self) -> pd.Series:
        """Simple per-bar returns of the equity curve (first bar dropped)."""
        return self.equity.pct_change().iloc[1:]


def compute_signal_cached(frame: pd.DataFrame, spec: Strategy, name: str,
                          cache: dict | None = None) -> np.ndarray:
    """Signal ``name`` with ``spec``'s parameters on ``frame`` (int8, (n,)), memoised in
    ``cache`` by name and parameters (the cache belongs to one frame)."""
    key = (name, tuple(sorted(spec.signal_params(name).items())))
    if cache is not None and key in cache:
        return cache[key]
    s = compute_signal(frame, name, spec.signal_params(name)).to_numpy()
    if cache is not None:
        cache[key] = s
    return s


def strategy_signals(frame: pd.DataFrame, spec: Strategy, cache: dict | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combined entry signal and the two exit masks, from bars <= t at every t.

    Returns:
        ``entry`` int8 (n,) in {-1, 0, +1} (``combine="any"``: +1 when some entry signal is
        +1 and none is -1; ``"all"``: every one agrees), ``exit_long`` bool (some exit signal
        is -1), ``exit_short`` bool (some exit signal is +1).
    """
    def sig(name):
        return compute_signal_cached(frame, spec, name, cache)

    n = len(frame)
    ent = np.array([sig(s) for s in spec.entry.signals]).reshape(-1, n)
    if spec.entry.combine == "all":
        entry = np.where((ent == 1).all(0), 1, np.where((ent == -1).all(0), -1, 0))
    else:
        up, dn = (ent == 1).any(0), (ent == -1).any(0)
        entry = np.where(up & ~dn, 1, np.where(dn & ~up, -1, 0))
    ex = np.array([sig(s) for s in spec.exit.signals]).reshape(-1, n)
    return entry.astype("int8"), (ex == -1).any(0), (ex == 1).any(0)


def performance(equity: pd.Series, ppy: float, trades: pd.DataFrame | None = None,
                traded_notional: float = 0.0, position: pd.Series | None = None) -> dict:
    """Metrics of an equity curve (module doc); keys :data:`METRIC_KEYS`.

    Args:
        equity: equity at each close (> 0 at the start). ppy: bars per year
            (:func:`core.market.periods_per_year`). trades: for the hit rate and count.
        traded_notional: sum of |fill notional| [currency] for turnover.
        position: signed exposure per bar [fraction of equity] for the exposure keys.
    Returns:
        dict of floats (fractions, not %); NaN where undefined (e.g. Sharpe of a flat curve).
    """
    eq = equity.to_numpy(dtype="float64")
    r = eq[1:] / eq[:-1] - 1 if len(eq) > 1 else np.empty(0)
    n = len(r)
    growth = eq[-1] / eq[0] if len(eq) else float("nan")
    cagr = growth ** (ppy / n) - 1 if n and growth > 0 else (-1.0 if n else float("nan"))
    sd = float(r.std(ddof=1)) if n > 1 else float("nan")
    down = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if n else float("nan")
    peak = np.maximum.accumulate(eq) if len(eq) else eq
    mdd = float(np.max(1 - eq / peak)) if len(eq) else float("nan")
    sr, lo, hi = sharpe_ci(r, ppy) if n > 2 and sd > 0 else (float("nan"),) * 3
    nt = 0 if trades is None else len(trades)
    wins = 0 if trades is None or not nt else int((trades["pnl"] > 0).sum())
    hlo, hhi = wilson_ci(wins, nt) if nt else (float("nan"), float("nan"))
    pos = np.zeros(len(eq)) if position is None else position.to_numpy(dtype="float64")
    return {
        "total_return": float(growth - 1), "cagr": float(cagr),
        "ann_vol": sd * math.sqrt(ppy) if n > 1 else float("nan"),
        "sharpe": sr, "sharpe_lo": lo, "sharpe_hi": hi,
        "sortino": float(r.mean()) / down * math.sqrt(ppy) if n and down > 0 else float("nan"),
        "max_drawdown": mdd, "calmar": float(cagr / mdd) if mdd > 0 else float("nan"),
        "n_trades": nt, "hit_rate": wins / nt if nt else float("nan"),
        "hit_rate_lo": hlo, "hit_rate_hi": hhi,
        "turnover": traded_notional / float(eq.mean()) * ppy / n if n else float("nan"),
        "exposure": float((pos != 0).mean()) if len(pos) else float("nan"),
        "avg_exposure": float(np.abs(pos).mean()) if len(pos) else float("nan"),
        "n_bars": len(eq),
    }


def flat_params(spec: Strategy) -> dict:
    """``spec``'s tunable parameters as ``{dotted path: value}`` (signal parameters set in the
    file, the exit rules and the sizing policy's parameters)."""
    out = {f"signals.{k}.{p}": v for k, ps in spec.signals.items() for p, v in ps.items()}
    out.update({"exit.stop_atr": spec.exit.stop_atr, "exit.max_hold": spec.exit.max_hold,
                "exit.atr_period": spec.exit.atr_period, "sizing.fraction": spec.sizing.fraction})
    if spec.sizing.policy == "vol_target":
        out["sizing.target_vol"] = spec.sizing.target_vol
    elif spec.sizing.policy == "atr_risk":
        out["sizing.risk_per_trade"] = spec.sizing.risk_per_trade
    return out


def entry_fractions(frame: pd.DataFrame, spec: Strategy, interval: str = "1d") -> np.ndarray:
    """Notional share of equity a new entry decided at each bar's close takes, for the
    ``fixed`` and ``vol_target`` policies of :class:`core.strategy.spec.Sizing` (``atr_risk``
    sizes at the fill: :func:`backtest` module doc).

    Returns: float64 (n,) in (0, ``fraction``]; NaN during the EWMA warm-up of
    ``vol_target`` (no entry is taken there). Volatility: RiskMetrics EWMA of log returns
    (:func:`core.market.ewma_variance`), annualised by :func:`core.market.periods_per_year`.
    """
    sz = spec.sizing
    if sz.policy != "vol_target":
        return np.full(len(frame), sz.fraction)
    var = ewma_variance(log_returns(frame["close"])).to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        vol = np.sqrt(var * periods_per_year(interval))
        return np.where(vol > 0, np.minimum(sz.fraction, sz.target_vol / vol), np.nan)


@dataclass(frozen=True)
class StrategyState:
    """Where a strategy stands after the close of a window's last bar (:func:`strategy_state`).

    Attributes:
        ts: that bar's time. side: the position held at its close (+1 long, -1 short, 0 flat).
        target: the side wanted after the next open (the orders decided at this close).
        fraction: notional share of equity of an entry decided here ([0, 1]; 0 when none).
        stop_distance: price distance of that entry's stop (NaN: no stop).
        reason: why the target differs from the side (``entry``, ``signal``, ``reverse``,
            ``max_hold``, ``stop`` when a stop inside this bar closed the position) or ``hold``.
        signals: the entry signal names firing at this bar with their values.
    """

    ts: pd.Timestamp
    side: int
    target: int
    fraction: float
    stop_distance: float
    reason: str
    signals: dict


@dataclass
class _Path:
    equity: list
    position: list
    trades: list
    traded: float
    state: StrategyState


def _simulate(frame: pd.DataFrame, spec: Strategy, start: int, stop: int, interval: str,
              initial_equity: float, cache: dict | None, open_end: bool) -> _Path:
    """The bar loop of :func:`backtest`. ``open_end``: the last bar is a decision bar like
    any other and an open position stays open (for :func:`strategy_state`)."""
    entry, exit_long, exit_short = strategy_signals(frame, spec, cache)
    atr = ind.atr(frame, spec.exit.atr_period).iloc[:, 0].to_numpy() \
        if spec.exit.stop_atr is not None else None
    frac = entry_fractions(frame, spec, interval)
    o = frame["open"].to_numpy(dtype="float64").tolist()
    h = frame["high"].to_numpy(dtype="float64").tolist()
    lo = frame["low"].to_numpy(dtype="float64").tolist()
    c = frame["close"].to_numpy(dtype="float64").tolist()
    idx = frame.index
    cfill = spec.costs.fill_bp / 1e4
    comm = spec.costs.commission_bp / 1e4
    allow_long = spec.side in ("long", "both")
    allow_short = spec.side in ("short", "both")
    stop_k, max_hold = spec.exit.stop_atr, spec.exit.max_hold
    risk_sized = spec.sizing.policy == "atr_risk"

    cash, units, side = float(initial_equity), 0.0, 0
    stop_px, entry_i, entry_px = float("nan"), -1, 0.0
    entry_fee, entry_cost = 0.0, 0.0  # commission; commission + spread/slippage concession
    pend_exit, pend_entry, pend_stop_dist, pend_frac = None, 0, float("nan"), 0.0
    traded = 0.0
    stopped = False
    trades: list[tuple] = []
    eq_out, pos_out = [], []

    def close_pos(i: int, px: float, reason: str) -> None:
        nonlocal cash, units, side, traded
        fill = px * (1 - cfill) if side > 0 else px * (1 + cfill)
        fee = abs(units * fill) * comm
        cash += units * fill - fee
        traded += abs(units * fill)
        pnl = units * (fill - entry_px) - entry_fee - fee
        notional = abs(units * entry_px)
        trades.append((side, idx[entry_i], entry_px, idx[i], fill, units, i - entry_i + 1, pnl,
                       pnl / notional if notional > 0 else float("nan"),
                       entry_cost + fee + abs(units * (px - fill)), reason))
        units, side = 0.0, 0

    for i in range(start, stop):
        stopped = False
        if i > start:
            # 1. orders from the previous close fill at this open
            if pend_exit is not None and side != 0:
                close_pos(i, o[i], pend_exit)
            if pend_entry != 0 and side == 0:
                s = pend_entry
                fill = o[i] * (1 + cfill) if s > 0 else o[i] * (1 - cfill)
                # flat here: equity = cash
                share = pend_frac if not risk_sized else min(
                    spec.sizing.fraction, spec.sizing.risk_per_trade * fill / pend_stop_dist)
                units = s * share * cash / fill
                entry_fee = abs(units * fill) * comm
                cash -= units * fill + entry_fee
                traded += abs(units * fill)
                side, entry_i, entry_px = s, i, fill
                entry_cost = entry_fee + abs(units * (fill - o[i]))
                stop_px = fill - s * pend_stop_dist if stop_k is not None else float("nan")
            # 2. the stop, inside this bar
            if side > 0 and stop_k is not None and lo[i] <= stop_px:
                close_pos(i, min(o[i], stop_px), "stop")
                stopped = True
            elif side < 0 and stop_k is not None and h[i] >= stop_px:
                close_pos(i, max(o[i], stop_px), "stop")
                stopped = True
        pend_exit, pend_entry, pend_frac = None, 0, 0.0
        # 3. decisions at this close (none at the last bar unless open_end: the window ends)
        if i < stop - 1 or open_end:
            e = int(entry[i])
            want = e if (e > 0 and allow_long) or (e < 0 and allow_short) else 0
            if side != 0:
                if (side > 0 and exit_long[i]) or (side < 0 and exit_short[i]):
                    pend_exit = "signal"
                elif spec.side == "both" and want == -side:
                    pend_exit = "reverse"
                elif max_hold is not None and i - entry_i + 1 >= max_hold:
                    pend_exit = "max_hold"
            if want != 0 and np.isfinite(frac[i]) and (
                    side == 0 or (pend_exit is not None and want != side)
                    or pend_exit == "max_hold"):
                if stop_k is None:
                    pend_entry, pend_stop_dist, pend_frac = want, float("nan"), float(frac[i])
                elif atr is not None and np.isfinite(atr[i]) and atr[i] > 0:
                    pend_entry, pend_stop_dist = want, stop_k * float(atr[i])
                    pend_frac = float(frac[i])
        elif side != 0:
            close_pos(i, c[i], "end")
        eq = cash + units * c[i]
        eq_out.append(eq)
        pos_out.append(units * c[i] / eq if eq > 0 else 0.0)

    last = stop - 1
    target = pend_entry if pend_entry != 0 else (0 if pend_exit is not None else side)
    reason = ("entry" if pend_entry != 0 and pend_exit is None else pend_exit
              if pend_exit is not None else "stop" if stopped else "hold")
    fired = {}
    if 0 <= last < len(frame):
        for name in spec.entry.signals:
            v = int(compute_signal_cached(frame, spec, name, cache)[last])
            if v:
                fired[name] = v
    state = StrategyState(idx[last], side, int(target), pend_frac if pend_entry else 0.0,
                          pend_stop_dist if pend_entry else float("nan"), reason, fired)
    return _Path(eq_out, pos_out, trades, traded, state)


def backtest(frame: pd.DataFrame, spec: Strategy, *, interval: str = "1d", start: int = 0,
             stop: int | None = None, initial_equity: float = INITIAL_EQUITY,
             cache: dict | None = None) -> BacktestResult:
    """Run ``spec`` over bars ``[start, stop)`` of ``frame`` (module doc for the rules).

    Bars before ``start`` serve only as indicator history; the first order is decided at
    bar ``start``'s close. Signals at t use bars <= t (computed once on the whole frame:
    each is causal, which the tests check).

    Args:
        frame: validated OHLCV frame. spec: the strategy. interval: bar interval (annualises
            the metrics via :func:`core.market.periods_per_year`).
        start, stop: row positions of the trading window (stop exclusive; default: the end).
        initial_equity: starting cash [currency]. cache: optional dict reused across calls
            on the same frame (signal arrays by name and parameters).
    Returns:
        :class:`BacktestResult`.
    Raises:
        InsufficientDataError: a window of fewer than 3 bars.
    """
    n_all = len(frame)
    stop = n_all if stop is None else min(int(stop), n_all)
    start = max(int(start), 0)
    if stop - start < 3:
        raise InsufficientDataError(
            f"A backtest needs at least 3 bars in its window, got {max(stop - start, 0)}.")
    path = _simulate(frame, spec, start, stop, interval, initial_equity, cache, open_end=False)
    window = frame.index[start:stop]
    equity = pd.Series(path.equity, index=window, name="equity")
    position = pd.Series(path.position, index=window, name="position")
    trade_df = pd.DataFrame(path.trades, columns=list(TRADE_COLUMNS))
    ppy = periods_per_year(interval)
    bench, bench_traded = buy_and_hold(frame, spec, start, stop, initial_equity)
    return BacktestResult(
        equity, bench, position, trade_df,
        performance(equity, ppy, trade_df, path.traded, position),
        performance(bench, ppy, None, bench_traded, pd.Series(1.0, index=window)),
        flat_params(spec))


def strategy_state(frame: pd.DataFrame, spec: Strategy, *, start: int = 0,
                   interval: str = "1d", cache: dict | None = None) -> StrategyState:
    """Run ``spec`` from bar ``start`` to the last bar of ``frame`` with the rules of
    :func:`backtest`, leaving the position open, and say what it holds and wants next.

    This is how a paper book follows a strategy (:mod:`core.paper.follow`): the same
    decisions as the backtest on the same bars, read at the last close. ``frame`` must end
    at the bar the caller has seen (bars <= t only).

    Raises:
        InsufficientDataError: ``start`` is not a row of ``frame``.
    """
    if not 0 <= int(start) < len(frame):
        raise InsufficientDataError(
            f"The strategy's first bar ({start}) is outside the {len(frame)} bars given.")
    return _simulate(frame, spec, int(start), len(frame), interval, INITIAL_EQUITY, cache,
                     open_end=True).state


def buy_and_hold(frame: pd.DataFrame, spec: Strategy, start: int, stop: int,
                 initial_equity: float = INITIAL_EQUITY) -> tuple[pd.Series, float]:
    """Cash at bar ``start``'s close (like the strategy), all of it bought at bar
    ``start + 1``'s open (the strategy's first possible fill) and sold at bar ``stop - 1``'s
    close, with the strategy's costs. Returns (equity at each close [currency], traded
    notional [currency])."""
    o = frame["open"].to_numpy(dtype="float64")[start:stop]
    c = frame["close"].to_numpy(dtype="float64")[start:stop]
    cfill, comm = spec.costs.fill_bp / 1e4, spec.costs.commission_bp / 1e4
    buy = o[1] * (1 + cfill)
    units = initial_equity / (buy * (1 + comm))
    eq = units * c  # nothing left in cash
    eq[0] = initial_equity
    sell = c[-1] * (1 - cfill)
    eq[-1] = units * sell * (1 - comm)
    return pd.Series(eq, index=frame.index[start:stop], name="buy_and_hold"), \
        units * (buy + sell)


@dataclass
class WalkForwardResult:
    """Stitched out-of-sample result of :func:`walk_forward_backtest`.

    Attributes: equity / benchmark [currency, start at the initial equity], trades (all
    folds), metrics / benchmark_metrics, folds (one dict per fold: test dates, the chosen
    parameters, train and test Sharpe), n_configs (configurations tried per fold).
    """

    equity: pd.Series
    benchmark: pd.Series
    trades: pd.DataFrame
    metrics: dict
    benchmark_metrics: dict
    folds: list[dict]
    n_configs: int


def walk_forward_backtest(frame: pd.DataFrame, spec: Strategy, *, interval: str = "1d",
                          initial_train: int = 756, step: int = 252,
                          grid: list[dict] | None = None,
                          initial_equity: float = INITIAL_EQUITY) -> WalkForwardResult:
    """Walk-forward backtest: at each fold, pick the configuration with the best Sharpe on
    the training bars only, then trade it on the next ``step`` bars it never saw.

    Folds come from :func:`core.evaluation.splits.walk_forward_splits` (expanding window,
    one-bar embargo). Training backtests end at the last training bar (positions closed
    there), so no test bar informs the choice. Each test block starts flat and ends flat;
    the blocks' per-bar returns are chained into one curve, and buy-and-hold likewise.

    Args:
        frame: validated OHLCV frame. spec: the strategy (its own parameters are the only
            configuration when ``grid`` is None or empty). interval: bar interval.
        initial_train: bars before the first test block. step: test-block length [bars].
        grid: list of ``{dotted path: value}`` configurations (see :mod:`core.strategy.tune`).
    Returns:
        :class:`WalkForwardResult`.
    Raises:
        InsufficientDataError: no test fold fits in the history.
    """
    configs = [spec.with_params(g) for g in grid] if grid else [spec]
    folds = walk_forward_splits(len(frame), horizon=1, initial_train=initial_train, step=step)
    folds = [f for f in folds if len(f.test) >= 3]
    if not folds:
        raise InsufficientDataError(
            f"Walk-forward needs more than {initial_train + 3} bars; the history has {len(frame)}.")
    ppy = periods_per_year(interval)
    cache: dict = {}
    rets, brets, trades, info, pos = [], [], [], [], []
    for f in folds:
        best, best_sr = 0, -np.inf
        if len(configs) > 1:
            for j, cfg in enumerate(configs):
                tr = backtest(frame, cfg, interval=interval, start=int(f.train[0]),
                              stop=int(f.train[-1]) + 1, cache=cache)
                sr = tr.metrics["sharpe"]
                if np.isfinite(sr) and sr > best_sr:
                    best, best_sr = j, sr
        res = backtest(frame, configs[best], interval=interval, start=int(f.test[0]),
                       stop=int(f.test[-1]) + 1, cache=cache)
        rets.append(res.returns)
        pos.append(res.position.iloc[1:])
        brets.append(res.benchmark.pct_change().iloc[1:])
        trades.append(res.trades)
        info.append({"fold": f.fold, "test_start": str(frame.index[f.test[0]].date()),
                     "test_end": str(frame.index[f.test[-1]].date()),
                     "params": grid[best] if grid else {},
                     "train_sharpe": best_sr if len(configs) > 1 else None,
                     "test_sharpe": res.metrics["sharpe"]})
    r, br = pd.concat(rets), pd.concat(brets)
    equity = initial_equity * (1 + r).cumprod()
    bench = initial_equity * (1 + br).cumprod()
    all_trades = pd.concat(trades, ignore_index=True) if trades else pd.DataFrame(
        columns=list(TRADE_COLUMNS))
    notional = float(sum(abs(t["units"] * t["entry_price"]).sum()
                         + abs(t["units"] * t["exit_price"]).sum() for t in trades))
    position = pd.concat(pos)
    return WalkForwardResult(equity, bench, all_trades,
                             performance(equity, ppy, all_trades, notional, position),
                             performance(bench, ppy, None, float("nan"),  # not tracked
                                         pd.Series(1.0, index=position.index)),
                             info, len(configs))
