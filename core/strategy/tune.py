"""Grid-search tuning of a strategy on a training window, judged on held-out years and symbols.

1. Every configuration of the strategy's ``[tune]`` grid (the product of the listed values;
   the file's own parameters when there is no grid) is backtested on the training symbols'
   bars before ``test_start`` (:func:`core.strategy.backtest.backtest`; positions closed at
   the window's end, so nothing after it is seen). The per-bar returns of the symbols are
   stacked in time; the configuration with the best per-bar Sharpe on them is selected.
2. The selection's multiple-testing penalty is measured on the same training returns: the
   deflated Sharpe ratio for the N configurations tried (Bailey & Lopez de Prado 2014) and,
   when N >= 2, the probability of backtest overfitting by CSCV (Bailey, Borwein, Lopez de
   Prado & Zhu 2017), :mod:`core.strategy.deflated`.
3. The selected and the untuned (file) configurations are then backtested on bars from
   ``test_start`` on, for the training symbols (held-out years) and the held-out symbols
   (never used for the choice), each beside buy-and-hold on the same bars.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.market import periods_per_year
from core.strategy.backtest import backtest
from core.strategy.deflated import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    moments,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_ratio,
)
from core.strategy.spec import Strategy

MIN_TRAIN_BARS = 252
MIN_TEST_BARS = 60
MAX_CONFIGS = 500
REPORT_KEYS = ("sharpe", "sharpe_lo", "sharpe_hi", "cagr", "max_drawdown", "n_trades",
               "hit_rate", "exposure")


def grid_configs(spec: Strategy) -> list[dict]:
    """The configurations of ``spec.tune``: one ``{dotted path: value}`` dict per combination
    (in the file's order), or ``[{}]`` (the file's own parameters) when there is no grid.

    Raises: ValueError when the grid has more than :data:`MAX_CONFIGS` combinations.
    """
    if not spec.tune:
        return [{}]
    keys = list(spec.tune)
    n = math.prod(len(v) for v in spec.tune.values())
    if n > MAX_CONFIGS:
        raise ValueError(f"the [tune] grid has {n} configurations; keep it to {MAX_CONFIGS} "
                         "or fewer (each one costs deflated-Sharpe power too)")
    return [dict(zip(keys, vals)) for vals in itertools.product(*spec.tune.values())]


def _first_at_or_after(frame: pd.DataFrame, ts: pd.Timestamp) -> int:
    return int(frame.index.searchsorted(ts, side="left"))


def split_cuts(frames: dict[str, pd.DataFrame], train_symbols, heldout_symbols,
               ts: pd.Timestamp) -> dict[str, int]:
    """Per symbol, the position of the first bar at or after ``ts`` (the test start): bars
    before it are the training window, bars from it on are judged.

    Raises:
        InsufficientDataError: a training symbol has fewer than ``MIN_TRAIN_BARS`` bars
            before ``ts``, or any symbol fewer than ``MIN_TEST_BARS`` from it on.
    """
    cuts = {}
    for sym in [*train_symbols, *heldout_symbols]:
        f = frames[sym]
        cut = _first_at_or_after(f, ts)
        if sym in train_symbols and cut < MIN_TRAIN_BARS:
            raise InsufficientDataError(
                f"{sym} has {cut} bars before {ts.date()}; tuning needs at least "
                f"{MIN_TRAIN_BARS}. Choose a later --test-start.")
        if len(f) - cut < MIN_TEST_BARS:
            raise InsufficientDataError(
                f"{sym} has {len(f) - cut} bars from {ts.date()} on; judging needs at least "
                f"{MIN_TEST_BARS}. Choose an earlier --test-start.")
        cuts[sym] = cut
    return cuts


def _row(res) -> dict:
    return {k: res.metrics[k] for k in REPORT_KEYS}


def grid_search(frames: dict[str, pd.DataFrame], spec: Strategy, *, train_symbols: list[str],
                heldout_symbols: list[str] | None = None, test_start: str | pd.Timestamp,
                interval: str = "1d", pbo_blocks: int = 16,
                grid: list[dict] | None = None) -> dict:
    """Tune ``spec`` on training symbols before ``test_start``; judge on later bars and on
    held-out symbols (module doc).

    Args:
        frames: symbol -> validated OHLCV frame (every symbol named below).
        spec: the strategy with its ``[tune]`` grid. train_symbols: used for the choice.
        heldout_symbols: judged only (never used for the choice).
        test_start: first date of the held-out years (UTC). interval: bar interval.
        pbo_blocks: CSCV blocks S (even; fewer are used when the training window is short).
        grid: the configurations to try (default: every one of :func:`grid_configs`); the
            Q-learning comparison passes a subset of the same size as its budget
            (:mod:`core.strategy.qtuner`).
    Returns:
        dict with ``n_configs``, ``grid``, ``best_params``, ``configs`` (every configuration
        tried: ``params`` and its annualised training ``train_sharpe``), ``train`` (symbols,
        bars, end,
        ``sharpe`` annualised of the selection, ``sharpe_per_bar``, ``skew``, ``kurtosis``,
        ``var_trial_sharpe`` per bar², ``expected_max_sharpe`` annualised), ``deflated_sharpe``
        (probability in [0, 1]), ``psr`` (probability the selection's true Sharpe > 0 ignoring
        the search), ``pbo`` (probability or None when N < 2) with ``pbo_splits``, ``test`` (one
        row per symbol: ``heldout_symbol``, ``bars``, ``tuned`` / ``untuned`` /
        ``buy_and_hold`` metric dicts) and ``summary`` (mean test Sharpe of each and counts).
    Raises:
        InsufficientDataError: a training symbol with fewer than :data:`MIN_TRAIN_BARS` bars
            before ``test_start`` or a symbol with fewer than :data:`MIN_TEST_BARS` after it.
        ValueError: no training symbol, or an oversized grid.
    """
    if not train_symbols:
        raise ValueError("name at least one training symbol")
    heldout_symbols = [s for s in (heldout_symbols or []) if s not in train_symbols]
    ts = pd.Timestamp(test_start)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    grid = grid_configs(spec) if grid is None else [dict(g) for g in grid]
    if not grid:
        raise ValueError("give at least one configuration to try")
    configs = [spec.with_params(g) for g in grid]
    ppy = periods_per_year(interval)

    cuts = split_cuts(frames, train_symbols, heldout_symbols, ts)

    caches = {s: {} for s in frames}
    train_returns = []  # per symbol: (bars x configs)
    for sym in train_symbols:
        cols = [backtest(frames[sym], cfg, interval=interval, start=0, stop=cuts[sym],
                         cache=caches[sym]).returns.to_numpy() for cfg in configs]
        train_returns.append(np.column_stack(cols))
    r = np.vstack(train_returns)
    srs = np.array([sharpe_ratio(r[:, j]) for j in range(r.shape[1])])
    score = np.where(np.isfinite(srs), srs, -np.inf)
    best = int(np.argmax(score))
    sr_best = float(srs[best])
    g3, g4 = moments(r[:, best])
    finite = srs[np.isfinite(srs)]
    var_sr = float(finite.var(ddof=1)) if len(finite) > 1 else 0.0
    n_cfg = len(configs)
    dsr = deflated_sharpe_ratio(sr_best, len(r), n_cfg, var_sr, g3, g4)
    psr = probabilistic_sharpe_ratio(sr_best, len(r), g3, g4)
    pbo = splits = blocks = None
    if n_cfg >= 2:
        blocks = int(min(pbo_blocks, max(2, (len(r) // 60) // 2 * 2)))  # >= 60 bars a block
        res = probability_of_backtest_overfitting(r, blocks)
        pbo, splits = res.pbo, res.n_splits

    test_rows = []
    for sym in [*train_symbols, *heldout_symbols]:
        f, cut = frames[sym], cuts[sym]
        tuned = backtest(f, configs[best], interval=interval, start=cut, cache=caches[sym])
        untuned = backtest(f, spec, interval=interval, start=cut, cache=caches[sym])
        test_rows.append({
            "symbol": sym, "heldout_symbol": sym in heldout_symbols, "bars": len(f) - cut,
            "start": str(f.index[cut].date()), "end": str(f.index[-1].date()),
            "tuned": _row(tuned), "untuned": _row(untuned),
            "buy_and_hold": {k: tuned.benchmark_metrics[k] for k in REPORT_KEYS}})

    def mean_of(kind):
        v = [row[kind]["sharpe"] for row in test_rows]
        v = [x for x in v if x is not None and np.isfinite(x)]
        return float(np.mean(v)) if v else float("nan")

    beats_untuned = sum(1 for row in test_rows
                        if _gt(row["tuned"]["sharpe"], row["untuned"]["sharpe"]))
    beats_bh = sum(1 for row in test_rows
                   if _gt(row["tuned"]["sharpe"], row["buy_and_hold"]["sharpe"]))
    return {
        "strategy": spec.name, "n_configs": n_cfg, "grid": spec.tune, "best_params": grid[best],
        "train": {"symbols": list(train_symbols), "end": str((ts - pd.Timedelta(days=1)).date()),
                  "bars": len(r), "sharpe": sr_best * math.sqrt(ppy),
                  "sharpe_per_bar": sr_best, "skew": g3, "kurtosis": g4,
                  "var_trial_sharpe": var_sr,
                  "expected_max_sharpe": expected_max_sharpe(n_cfg, var_sr) * math.sqrt(ppy)},
        "configs": [{"params": g, "train_sharpe": float(s) * math.sqrt(ppy)}
                    for g, s in zip(grid, srs)],
        "deflated_sharpe": dsr, "psr": psr, "pbo": pbo, "pbo_splits": splits,
        "pbo_blocks": blocks, "test_start": str(ts.date()), "test": test_rows,
        "summary": {"mean_sharpe_tuned": mean_of("tuned"), "mean_sharpe_untuned": mean_of("untuned"),
                    "mean_sharpe_buy_and_hold": mean_of("buy_and_hold"),
                    "tuned_beats_untuned": beats_untuned, "tuned_beats_buy_and_hold": beats_bh,
                    "n_tests": len(test_rows)},
    }


def _gt(a, b) -> bool:
    return a is not None and b is not None and np.isfinite(a) and np.isfinite(b) and a > b


def verdict(result: dict) -> str:
    """One plain sentence on a :func:`grid_search` result: the deflated Sharpe and PBO, and
    how the tuned configuration fared out of sample."""
    s = result["summary"]
    dsr = result["deflated_sharpe"]
    parts = [f"{result['n_configs']} configuration(s) tried; deflated Sharpe "
             + (f"{dsr:.2f}" if dsr is not None and np.isfinite(dsr) else "n/a")
             + (" (significant at 5%)" if dsr is not None and dsr > 0.95
                else " (not significant: the training Sharpe is within what the search alone "
                     "would produce)")]
    if result["pbo"] is not None:
        parts.append(f"probability of backtest overfitting {result['pbo']:.2f}")
    parts.append(f"out of sample the tuned version beat the untuned one in "
                 f"{s['tuned_beats_untuned']} of {s['n_tests']} and buy-and-hold in "
                 f"{s['tuned_beats_buy_and_hold']} of {s['n_tests']} symbol-periods (Sharpe)")
    return "; ".join(parts) + "."
