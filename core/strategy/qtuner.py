"""Q-learning strategy-parameter tuner, judged against the untuned file and a grid search of
the same budget on held-out years and symbols.

The agent (tabular Q-learning: Watkins & Dayan 1992, "Q-learning", Machine Learning 8;
Sutton & Barto 2018, *Reinforcement Learning: An Introduction*, 2nd ed., ch. 6.5) moves a
strategy's parameters around the grid of its file's ``[tune]`` table, one window at a time,
from how the current configuration has just done.

Walk-forward windows
    Each symbol's bars are cut into consecutive windows of ``window`` bars (default 63, a
    quarter of daily bars; the last window takes the remainder). A window is backtested with
    :func:`core.strategy.backtest.backtest` on the frame **truncated at the window's last
    bar** (``frame.iloc[:stop]``): it starts flat, pays every cost and closes any position at
    the window's last close. Nothing after the window exists for that call.

State ``s_k`` (read at the close of window k, before anything of window k+1 is known)
    ``(g, b_sr, b_dd, b_vol)``:

    * ``g``: the grid position of the configuration that traded window k (one index per
      tuned parameter, flattened; without it the same move means different things in
      different places);
    * ``b_sr``: window k's annualised Sharpe of that configuration after costs, in 4 bins:
      flat (no trade), < 0, 0 .. 1, >= 1 (:data:`SHARPE_EDGES`);
    * ``b_dd``: window k's maximum drawdown of equity above :data:`DD_LIMIT` (5%), 2 bins;
    * ``b_vol``: the volatility regime, 2 bins: the window's close-to-close volatility above
      the volatility of the :data:`VOL_LOOKBACK` bars before it (1), else 0.

Actions
    Keep the configuration, or move one tuned parameter one grid step up or down
    (``1 + 2 x parameters`` actions; a move off the grid's edge or to a configuration the
    strategy format refuses is not offered).

Reward ``r_{k+1}``
    The annualised Sharpe ratio of the new configuration's per-bar net returns (after
    commission, spread and slippage) on window k+1, bars the agent had not seen when it
    chose; 0 for a window without a trade; clipped to +-:data:`REWARD_CLIP`.

Learning (training symbols, bars before ``test_start`` only)
    ``Q(s, a) += alpha (r + gamma max_a' Q(s', a') - Q(s, a))`` (no bootstrap after an
    episode's last window) with ``alpha = max(alpha_min, 1 / n(s, a))``, ``gamma = 0.8``;
    epsilon-greedy exploration, epsilon falling linearly from 0.3 to 0.05 over the episodes,
    with a fixed seed. One episode = one walk-forward pass over one training symbol's
    training windows, starting from a seeded random grid point (exploring starts, Sutton &
    Barto 2018, 5.3); the episodes cycle through the training symbols. The random draws of
    a step do not depend on the data, so the same seed gives the same agent.

Budget
    The unit is one configuration backtested over one training symbol's training bars. The
    grid spends ``k`` units per training symbol (``k`` configurations, each over every
    training bar of every training symbol); Q-learning gets ``k x symbols`` episodes, each
    one pass over one symbol's training bars: the same number of backtested bars. Window
    results are memoised, so Q-learning never computes more distinct (configuration, window)
    backtests than the grid's full product holds. Backtests that only *measure* the result
    (the deflated Sharpe and PBO below, the held-out test) are outside the budget and never
    reach the agent.

Judgement (held-out years of the training symbols and held-out symbols, from ``test_start``)
    The Q table is frozen. Starting from the file's parameters (snapped to the nearest grid
    point), the greedy policy picks each test window's configuration from the state of the
    window before; the windows' returns are chained. It is compared with (a) the file as
    written and (b) the grid search's pick (:func:`core.strategy.tune.grid_search` on a
    seeded random subset of ``k`` grid points when ``k`` is below the grid's size), each
    backtested straight through the test bars, and with buy-and-hold. Each method reports
    its test Sharpe with a 95% CI (per symbol-period and pooled), the deflated Sharpe ratio
    for the number of configurations it tried (Bailey & Lopez de Prado 2014; the untuned
    file tried one) and, where it tried several, the probability of backtest overfitting
    (CSCV over the training returns of the configurations it tried; Bailey, Borwein, Lopez
    de Prado & Zhu 2017). The verdict says plainly when Q-learning does not beat them and
    then offers the grid's configuration.

Caveat, stated wherever the result is shown: the policy's test windows each start flat (a
configuration change closes the position), which costs a slow strategy trades that the
straight-through backtests keep.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import registry
from core.errors import TrainingInProgressError
from core.market import periods_per_year
from core.store.runs import run_single_flight
from core.strategy.backtest import INITIAL_EQUITY, TRADE_COLUMNS, backtest, flat_params, performance
from core.strategy.deflated import (
    deflated_sharpe_ratio,
    moments,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_ci,
    sharpe_ratio,
)
from core.strategy.spec import Strategy, StrategySpecError
from core.strategy.tune import (
    REPORT_KEYS,
    grid_configs,
    grid_search,
    split_cuts,
)

Progress = Callable[[float, str], None]

#: registry family / job name of tuning runs (single-flight with retraining)
TUNING_FAMILY = "tuning"
DEFAULT_WINDOW = 63
#: annualised window Sharpe bin edges (a window without a trade is its own bin)
SHARPE_EDGES = (0.0, 1.0)
DD_LIMIT = 0.05
VOL_LOOKBACK = 252
REWARD_CLIP = 3.0
METHODS = ("untuned", "grid", "qlearning")
METHOD_LABELS = {"untuned": "Untuned file", "grid": "Grid search",
                 "qlearning": "Q-learning", "buy_and_hold": "Buy & hold"}


@dataclass(frozen=True)
class QSettings:
    """Hyper-parameters of the agent (module doc). ``episodes`` None: the grid-equal budget."""

    window: int = DEFAULT_WINDOW
    gamma: float = 0.8
    alpha_min: float = 0.05
    eps_start: float = 0.3
    eps_end: float = 0.05
    seed: int = 0
    episodes: int | None = None


# ---------------------------------------------------------------- the grid and its moves


class ParamGrid:
    """The ``[tune]`` grid as an N-dimensional lattice: flat index <-> one value per path, in
    the order of :func:`core.strategy.tune.grid_configs`."""

    def __init__(self, spec: Strategy):
        if not spec.tune or math.prod(len(v) for v in spec.tune.values()) < 2:
            raise ValueError("Q-learning needs a [tune] grid with at least two configurations "
                             "to move between.")
        self.spec = spec
        self.keys = list(spec.tune)
        self.values = [list(v) for v in spec.tune.values()]
        self.shape = tuple(len(v) for v in self.values)
        self.configs = grid_configs(spec)
        self.size = len(self.configs)
        # actions: 0 keep, then (param j, -1), (param j, +1) for each j
        self.actions: list[tuple[int, int]] = [(-1, 0)]
        for j in range(len(self.keys)):
            self.actions += [(j, -1), (j, +1)]
        self._specs: dict[int, Strategy | None] = {}

    def coords(self, idx: int) -> tuple[int, ...]:
        return tuple(int(c) for c in np.unravel_index(idx, self.shape))

    def index(self, coords) -> int:
        return int(np.ravel_multi_index(tuple(coords), self.shape))

    def params(self, idx: int) -> dict:
        return dict(self.configs[idx])

    def strategy(self, idx: int) -> Strategy | None:
        """The strategy at grid point ``idx``; None when the format refuses it."""
        if idx not in self._specs:
            try:
                self._specs[idx] = self.spec.with_params(self.configs[idx])
            except (StrategySpecError, ValueError):
                self._specs[idx] = None
        return self._specs[idx]

    def move(self, idx: int, action: int) -> int | None:
        """Grid point after ``action`` from ``idx``; None when off the grid or invalid."""
        j, d = self.actions[action]
        if j < 0:
            return idx
        c = list(self.coords(idx))
        c[j] += d
        if not 0 <= c[j] < self.shape[j]:
            return None
        nxt = self.index(c)
        return nxt if self.strategy(nxt) is not None else None

    def valid_actions(self, idx: int) -> list[int]:
        return [a for a in range(len(self.actions)) if self.move(idx, a) is not None]

    def default_index(self) -> int:
        """The file's own parameters snapped to the nearest grid point per path."""
        flat = flat_params(self.spec)
        coords = []
        for key, vals in zip(self.keys, self.values):
            v = flat.get(key)
            if v is None:
                coords.append(0)
                continue
            coords.append(int(np.argmin([abs(float(x) - float(v)) for x in vals])))
        idx = self.index(coords)
        if self.strategy(idx) is None:  # pragma: no cover - a refused default grid point
            idx = next(i for i in range(self.size) if self.strategy(i) is not None)
        return idx

    def action_label(self, action: int) -> str:
        j, d = self.actions[action]
        return "keep" if j < 0 else f"{self.keys[j]} {'+' if d > 0 else '-'}1 step"


# ---------------------------------------------------------------- windows and states


def windows(lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` tiled into windows of ``size`` bars, the last one taking the remainder
    (a single window when shorter than ``size``; none below 3 bars)."""
    n = (hi - lo) // size
    if n == 0:
        return [(lo, hi)] if hi - lo >= 3 else []
    edges = [lo + i * size for i in range(n)] + [hi]
    return list(itertools.pairwise(edges))


@dataclass
class WindowResult:
    """One configuration backtested on one window (frame truncated at the window's end)."""

    returns: np.ndarray  # per-bar net returns, the window's first bar included (0: flat)
    equity: pd.Series
    position: pd.Series
    trades: pd.DataFrame
    sharpe: float  # annualised; NaN when flat
    max_drawdown: float
    n_trades: int
    vol_high: int


def _vol_regime(close: np.ndarray, start: int, stop: int) -> int:
    """1 when the window's close-to-close log-return volatility is above that of the
    :data:`VOL_LOOKBACK` bars before it; 0 otherwise or with fewer than 20 earlier bars."""
    lo = max(1, start - VOL_LOOKBACK)
    if start - lo < 20 or stop - start < 3:
        return 0
    lr = np.diff(np.log(close[lo - 1:stop]))
    past, now = lr[: start - lo], lr[start - lo:]
    return int(np.std(now, ddof=1) > np.std(past, ddof=1))


def state_bins(res: WindowResult) -> tuple[int, int, int]:
    """(Sharpe bin, drawdown bin, volatility bin) of a window result (module doc)."""
    if res.n_trades == 0 or not np.isfinite(res.sharpe):
        b_sr = 0
    else:
        b_sr = 1 + int(np.searchsorted(SHARPE_EDGES, res.sharpe, side="right"))
    return b_sr, int(res.max_drawdown > DD_LIMIT), res.vol_high


N_PERF_STATES = (len(SHARPE_EDGES) + 2) * 2 * 2


def perf_index(bins: tuple[int, int, int]) -> int:
    b_sr, b_dd, b_vol = bins
    return (b_sr * 2 + b_dd) * 2 + b_vol


def reward_of(res: WindowResult) -> float:
    """Annualised net Sharpe of the window, 0 without a trade, clipped (module doc)."""
    if res.n_trades == 0 or not np.isfinite(res.sharpe):
        return 0.0
    return float(np.clip(res.sharpe, -REWARD_CLIP, REWARD_CLIP))


class WindowEnv:
    """Backtests of grid points on the windows of one symbol, memoised. Window ``(a, b)`` is
    run on ``frame.iloc[:b]``: the bars after it are not passed in."""

    def __init__(self, frame: pd.DataFrame, grid: ParamGrid, interval: str):
        self.frame, self.grid, self.interval = frame, grid, interval
        self.close = frame["close"].to_numpy(dtype="float64")
        self._memo: dict[tuple[int, int, int], WindowResult] = {}
        self._caches: dict[int, dict] = {}
        self.calls = 0

    @property
    def computed(self) -> int:
        return len(self._memo)

    def evaluate(self, idx: int, start: int, stop: int) -> WindowResult:
        self.calls += 1
        key = (idx, start, stop)
        if key in self._memo:
            return self._memo[key]
        part = self.frame.iloc[:stop]
        cache = self._caches.setdefault(stop, {})
        res = backtest(part, self.grid.strategy(idx), interval=self.interval, start=start,
                       stop=stop, cache=cache)
        r = res.equity.pct_change().fillna(0.0).to_numpy()
        out = WindowResult(r, res.equity, res.position, res.trades, res.metrics["sharpe"],
                           res.metrics["max_drawdown"], int(res.metrics["n_trades"]),
                           _vol_regime(self.close[:stop], start, stop))
        self._memo[key] = out
        return out


# ---------------------------------------------------------------- the agent


@dataclass
class QAgent:
    """A trained agent: ``q`` (grid points x performance states x actions), visit counts,
    the grid, the settings, and the training record (``episodes``, ``evaluations`` in
    window backtests, ``distinct`` (configuration, window) backtests computed, ``visited``
    grid points, ``trace`` of episode 0's steps)."""

    grid: ParamGrid
    settings: QSettings
    q: np.ndarray
    n: np.ndarray
    episodes: int = 0
    evaluations: int = 0
    distinct: int = 0
    bars: int = 0
    visited: set = field(default_factory=set)
    trace: list = field(default_factory=list)
    rewards: list = field(default_factory=list)

    def greedy(self, idx: int, perf: int) -> int:
        """The greedy action (ties: keep first, then the lowest action number)."""
        valid = self.grid.valid_actions(idx)
        vals = self.q[idx, perf, valid]
        return valid[int(np.argmax(vals))]  # valid[0] is keep: ties prefer staying


def train_agent(envs: dict[str, WindowEnv], train_windows: dict[str, list[tuple[int, int]]],
                grid: ParamGrid, settings: QSettings, episodes: int,
                progress: Progress | None = None) -> QAgent:
    """Train the Q table on the training windows (module doc). ``envs`` and
    ``train_windows`` hold the training symbols only, in the order the episodes cycle."""
    rng = np.random.default_rng(settings.seed)
    n_act = len(grid.actions)
    agent = QAgent(grid, settings, np.zeros((grid.size, N_PERF_STATES, n_act)),
                   np.zeros((grid.size, N_PERF_STATES, n_act), dtype=np.int64))
    symbols = list(train_windows)
    valid_starts = [i for i in range(grid.size) if grid.strategy(i) is not None]
    for ep in range(episodes):
        sym = symbols[ep % len(symbols)]
        env, wins = envs[sym], train_windows[sym]
        eps = settings.eps_start + (settings.eps_end - settings.eps_start) * (
            ep / max(episodes - 1, 1))
        idx = valid_starts[int(rng.integers(len(valid_starts)))]
        res = env.evaluate(idx, *wins[0])
        agent.visited.add(idx)
        agent.evaluations += 1
        agent.bars += wins[0][1] - wins[0][0]
        perf = perf_index(state_bins(res))
        for k in range(1, len(wins)):
            u, pick = rng.random(), rng.random()  # drawn every step: data-independent stream
            valid = grid.valid_actions(idx)
            a = valid[int(pick * len(valid))] if u < eps else agent.greedy(idx, perf)
            nxt = grid.move(idx, a)
            res = env.evaluate(nxt, *wins[k])
            agent.visited.add(nxt)
            agent.evaluations += 1
            agent.bars += wins[k][1] - wins[k][0]
            r = reward_of(res)
            perf2 = perf_index(state_bins(res))
            last = k == len(wins) - 1
            target = r if last else r + settings.gamma * float(
                np.max(agent.q[nxt, perf2, grid.valid_actions(nxt)]))
            agent.n[idx, perf, a] += 1
            alpha = max(settings.alpha_min, 1.0 / agent.n[idx, perf, a])
            agent.q[idx, perf, a] += alpha * (target - agent.q[idx, perf, a])
            agent.rewards.append(r)
            if ep == 0:
                agent.trace.append({"symbol": sym, "window": k, "from": idx, "state": perf,
                                    "action": a, "to": nxt, "reward": r})
            idx, perf = nxt, perf2
        agent.episodes += 1
        if progress is not None and (ep % 5 == 4 or ep == episodes - 1):
            progress((ep + 1) / episodes, f"Q-learning episode {ep + 1}/{episodes} ({sym})")
    agent.distinct = sum(e.computed for e in envs.values())
    return agent


@dataclass
class PolicyRun:
    """The frozen greedy policy walked forward over windows: the grid point traded in each
    window (chosen from the window before), chained equity and the trades."""

    path: list[int]
    states: list[int]
    returns: pd.Series
    equity: pd.Series
    position: pd.Series
    trades: pd.DataFrame
    traded: float
    metrics: dict


def run_policy(agent: QAgent, env: WindowEnv, wins: list[tuple[int, int]], start_idx: int
               ) -> PolicyRun:
    """Walk the greedy policy of ``agent`` (frozen: no learning) over ``wins`` from grid
    point ``start_idx``; window k's configuration is chosen from window k-1's state."""
    idx = start_idx
    path, states, eqs, poss, trades = [], [], [], [], []
    level, traded = 1.0, 0.0
    for w0, w1 in wins:
        res = env.evaluate(idx, w0, w1)
        path.append(idx)
        eqs.append(res.equity / INITIAL_EQUITY * level)
        level = float(eqs[-1].iloc[-1])
        poss.append(res.position)
        if len(res.trades):
            t = res.trades.copy()
            trades.append(t)
            traded += float((abs(t["units"] * t["entry_price"])
                             + abs(t["units"] * t["exit_price"])).sum()) / INITIAL_EQUITY
        perf = perf_index(state_bins(res))
        states.append(perf)
        idx = env.grid.move(idx, agent.greedy(idx, perf))
    equity = pd.concat(eqs) * INITIAL_EQUITY
    position = pd.concat(poss)
    all_trades = pd.concat(trades, ignore_index=True) if trades else pd.DataFrame(
        columns=list(TRADE_COLUMNS))
    metrics = performance(equity, periods_per_year(env.interval), all_trades,
                          traded * float(equity.mean()), position)
    return PolicyRun(path, states, equity.pct_change().iloc[1:], equity, position, all_trades,
                     traded, metrics)


# ---------------------------------------------------------------- tuning and judging


def _utc(ts) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _metric_row(metrics: dict) -> dict:
    return {k: metrics[k] for k in REPORT_KEYS}


def _selection_stats(sel_returns: np.ndarray, trial_matrix: np.ndarray, ppy: float,
                     pbo_blocks: int) -> dict:
    """Deflated Sharpe of a selection's training returns for the trials in ``trial_matrix``
    (bars x configurations tried), and PBO by CSCV when 2+ were tried."""
    sr = sharpe_ratio(sel_returns)
    g3, g4 = moments(sel_returns)
    n_trials = trial_matrix.shape[1]
    srs = np.array([sharpe_ratio(trial_matrix[:, j]) for j in range(n_trials)])
    finite = srs[np.isfinite(srs)]
    var_sr = float(finite.var(ddof=1)) if len(finite) > 1 else 0.0
    t = int(np.isfinite(sel_returns).sum())
    out = {"n_configs": n_trials, "train_sharpe": sr * math.sqrt(ppy) if np.isfinite(sr)
           else float("nan"), "train_bars": t, "var_trial_sharpe": var_sr,
           "deflated_sharpe": deflated_sharpe_ratio(sr, t, max(n_trials, 1), var_sr, g3, g4),
           "psr": probabilistic_sharpe_ratio(sr, t, g3, g4), "pbo": None, "pbo_splits": None}
    if n_trials >= 2:
        blocks = int(min(pbo_blocks, max(2, (len(trial_matrix) // 60) // 2 * 2)))
        if len(trial_matrix) >= 2 * blocks:
            res = probability_of_backtest_overfitting(trial_matrix, blocks)
            out["pbo"], out["pbo_splits"] = res.pbo, res.n_splits
    return out


def budget_configs(spec: Strategy, budget: int | None) -> int:
    """Grid-equivalent configurations of the budget: ``budget`` clipped to [1, grid size],
    the whole grid when None."""
    n = len(grid_configs(spec))
    return n if budget is None else max(1, min(int(budget), n))


def grid_subset(spec: Strategy, k: int, seed: int = 0) -> list[dict]:
    """``k`` configurations of the grid for a budget of ``k`` (all of them, in the file's
    order, when ``k`` covers the grid; else a seeded random subset, kept in grid order)."""
    grid = grid_configs(spec)
    if k >= len(grid):
        return grid
    pick = np.sort(np.random.default_rng(seed).choice(len(grid), size=k, replace=False))
    return [grid[i] for i in pick]


def qlearning_tune(frames: dict[str, pd.DataFrame], spec: Strategy, *,
                   train_symbols: list[str], heldout_symbols: list[str] | None = None,
                   test_start, interval: str = "1d", budget: int | None = None,
                   settings: QSettings = QSettings(), pbo_blocks: int = 16,
                   progress: Progress | None = None) -> dict:
    """Train the agent on the training symbols' bars before ``test_start`` and judge its
    frozen greedy policy on the later bars and on held-out symbols (module doc).

    Args:
        frames: symbol -> OHLCV frame. spec: strategy with a ``[tune]`` grid of 2+ points.
        train_symbols / heldout_symbols: learn on / judge only. test_start: first test date.
        budget: grid-equivalent configurations (episodes = budget x training symbols);
            default the whole grid. ``settings.episodes`` overrides the episode count.
        progress: ``progress(fraction, message)``.
    Returns:
        dict: ``method`` "qlearning", ``n_configs`` (distinct grid points the agent tried),
        ``deflated_sharpe``, ``psr``, ``pbo``, ``pbo_splits``, ``train`` (symbols, bars,
        annualised ``sharpe`` of the greedy policy on the training windows, ``episodes``,
        ``evaluations``, ``distinct_backtests``, ``bars_backtested``), ``settings``,
        ``start_params`` (the file snapped to the grid), ``final_params`` (where the greedy
        policy ends on the training windows), ``test`` rows (``symbol``, ``heldout_symbol``,
        ``bars``, ``start``, ``end``, ``tuned`` metrics, ``buy_and_hold`` metrics,
        ``path`` of parameters per window, ``changes``); private ``_test_returns`` (symbol ->
        per-bar returns) and ``_agent`` (the :class:`QAgent`), dropped from JSON.
    Raises:
        ValueError: no training symbol, or no grid to move on. InsufficientDataError: as
        :func:`core.strategy.tune.grid_search`.
    """
    if not train_symbols:
        raise ValueError("name at least one training symbol")
    heldout_symbols = [s for s in (heldout_symbols or []) if s not in train_symbols]
    grid = ParamGrid(spec)
    ts = _utc(test_start)
    cuts = split_cuts(frames, train_symbols, heldout_symbols, ts)
    ppy = periods_per_year(interval)
    k = budget_configs(spec, budget)
    episodes = settings.episodes if settings.episodes is not None else k * len(train_symbols)
    envs = {s: WindowEnv(frames[s], grid, interval) for s in [*train_symbols, *heldout_symbols]}
    train_wins = {s: windows(0, cuts[s], settings.window) for s in train_symbols}

    def sub(lo, hi):
        return None if progress is None else (lambda f, m: progress(lo + (hi - lo) * f, m))

    agent = train_agent({s: envs[s] for s in train_symbols}, train_wins, grid, settings,
                        episodes, sub(0.0, 0.8))
    start_idx = grid.default_index()

    # measurement (outside the budget, never seen by the agent): the greedy policy on the
    # training windows, and the tried configurations straight through the training bars
    sel, final = [], start_idx
    for s in train_symbols:
        pr = run_policy(agent, envs[s], train_wins[s], start_idx)
        sel.append(pr.equity.pct_change().fillna(0.0).to_numpy())
        final = pr.path[-1]
    tried = sorted(agent.visited)
    cols = []
    for i in tried:
        per_sym = []
        for s in train_symbols:
            res = backtest(frames[s].iloc[:cuts[s]], grid.strategy(i), interval=interval,
                           cache=envs[s]._caches.setdefault(cuts[s], {}))
            per_sym.append(res.equity.pct_change().fillna(0.0).to_numpy())
        cols.append(np.concatenate(per_sym))
    stats = _selection_stats(np.concatenate(sel), np.column_stack(cols), ppy, pbo_blocks)
    if progress is not None:
        progress(0.9, "Q-learning: judging the frozen policy on the held-out bars")

    rows, test_returns = [], {}
    for s in [*train_symbols, *heldout_symbols]:
        f, cut = frames[s], cuts[s]
        pr = run_policy(agent, envs[s], windows(cut, len(f), settings.window), start_idx)
        bench = backtest(f, spec, interval=interval, start=cut)
        params = [grid.params(i) for i in pr.path]
        rows.append({"symbol": s, "heldout_symbol": s in heldout_symbols, "bars": len(f) - cut,
                     "start": str(f.index[cut].date()), "end": str(f.index[-1].date()),
                     "tuned": _metric_row(pr.metrics),
                     "buy_and_hold": {k2: bench.benchmark_metrics[k2] for k2 in REPORT_KEYS},
                     "path": params,
                     "changes": int(sum(a != b for a, b in zip(pr.path, pr.path[1:])))})
        test_returns[s] = pr.returns.to_numpy()
    return {
        "method": "qlearning", "strategy": spec.name, "grid": spec.tune,
        "n_configs": stats["n_configs"], "deflated_sharpe": stats["deflated_sharpe"],
        "psr": stats["psr"], "pbo": stats["pbo"], "pbo_splits": stats["pbo_splits"],
        "start_params": grid.params(start_idx), "final_params": grid.params(final),
        "tried": [grid.params(i) for i in tried],
        "train": {"symbols": list(train_symbols), "end": str((ts - pd.Timedelta(days=1)).date()),
                  "bars": stats["train_bars"], "sharpe": stats["train_sharpe"],
                  "var_trial_sharpe": stats["var_trial_sharpe"], "episodes": agent.episodes,
                  "evaluations": agent.evaluations, "distinct_backtests": agent.distinct,
                  "bars_backtested": agent.bars, "mean_reward": float(np.mean(agent.rewards))
                  if agent.rewards else float("nan")},
        "settings": {"window": settings.window, "gamma": settings.gamma,
                     "alpha_min": settings.alpha_min, "eps_start": settings.eps_start,
                     "eps_end": settings.eps_end, "seed": settings.seed},
        "budget_configs": k, "test_start": str(ts.date()), "test": rows,
        "_test_returns": test_returns, "_agent": agent,
    }


def _pooled(returns: list[np.ndarray], ppy: float) -> tuple[float, float, float]:
    r = np.concatenate([np.asarray(x, dtype="float64") for x in returns]) if returns \
        else np.empty(0)
    return sharpe_ci(r, ppy) if len(r) > 2 else (float("nan"),) * 3


def _test_returns(frames, spec_or_none, rows, interval) -> list[np.ndarray]:
    out = []
    for row in rows:
        f = frames[row["symbol"]]
        cut = int(f.index.searchsorted(_utc(row["start"]), side="left"))
        res = backtest(f, spec_or_none, interval=interval, start=cut)
        out.append(res.returns.to_numpy())
    return out


def _gt(a, b) -> bool:
    return a is not None and b is not None and np.isfinite(a) and np.isfinite(b) and a > b


def compare_methods(frames: dict[str, pd.DataFrame], spec: Strategy, *,
                    train_symbols: list[str], heldout_symbols: list[str] | None = None,
                    test_start, interval: str = "1d", budget: int | None = None,
                    settings: QSettings = QSettings(), progress: Progress | None = None
                    ) -> dict:
    """Untuned file vs grid search vs Q-learning, same budget, same held-out bars, beside
    buy-and-hold (module doc).

    Returns:
        dict with ``method`` "both", ``budget`` (unit, ``configs`` k, ``grid_bars`` and
        ``qlearning_bars`` backtested on training bars: equal), ``grid`` (the
        :func:`core.strategy.tune.grid_search` result on the budget's configurations),
        ``qlearning`` (:func:`qlearning_tune`), ``comparison`` (one row per method and
        buy-and-hold: ``configs_tried``, ``deflated_sharpe``, ``psr``, ``pbo``,
        ``test_sharpe`` pooled with ``test_sharpe_lo`` / ``_hi``, ``mean_test_sharpe``,
        ``wins`` per symbol-period against the others), ``verdict`` (plain sentences),
        ``qlearning_beats`` (bool), ``recommended`` (method and parameters).
    """
    heldout_symbols = [s for s in (heldout_symbols or []) if s not in train_symbols]
    ts = _utc(test_start)
    split_cuts(frames, train_symbols, heldout_symbols, ts)
    k = budget_configs(spec, budget)
    ppy = periods_per_year(interval)

    def sub(lo, hi):
        return None if progress is None else (lambda f, m: progress(lo + (hi - lo) * f, m))

    if progress is not None:
        progress(0.0, f"grid search: {k} configuration(s) on the training bars")
    configs = grid_subset(spec, k, settings.seed)
    g = grid_search(frames, spec, train_symbols=train_symbols, heldout_symbols=heldout_symbols,
                    test_start=ts, interval=interval, grid=configs)
    if progress is not None:
        progress(0.25, "grid search done; training the Q-learning agent")
    q = qlearning_tune(frames, spec, train_symbols=train_symbols,
                       heldout_symbols=heldout_symbols, test_start=ts, interval=interval,
                       budget=k, settings=settings, progress=sub(0.25, 0.95))
    agent = q.pop("_agent")
    # the untuned file: one configuration, its training Sharpe's PSR is its deflated Sharpe
    cuts = {s: int(frames[s].index.searchsorted(ts, side="left")) for s in train_symbols}
    un_train = np.concatenate([backtest(frames[s].iloc[:cuts[s]], spec, interval=interval)
                               .equity.pct_change().fillna(0.0).to_numpy()
                               for s in train_symbols])
    un_stats = _selection_stats(un_train, un_train[:, None], ppy, 16)

    tuned_spec = spec.with_params(g["best_params"]) if g["best_params"] else spec
    rets = {"untuned": _test_returns(frames, spec, g["test"], interval),
            "grid": _test_returns(frames, tuned_spec, g["test"], interval),
            "qlearning": [q["_test_returns"][row["symbol"]] for row in q["test"]]}
    bh = []
    for row in g["test"]:
        f = frames[row["symbol"]]
        cut = int(f.index.searchsorted(_utc(row["start"]), side="left"))
        bh.append(backtest(f, spec, interval=interval, start=cut).benchmark
                  .pct_change().iloc[1:].to_numpy())
    rets["buy_and_hold"] = bh
    per_row = {"untuned": [r["untuned"]["sharpe"] for r in g["test"]],
               "grid": [r["tuned"]["sharpe"] for r in g["test"]],
               "qlearning": [r["tuned"]["sharpe"] for r in q["test"]],
               "buy_and_hold": [r["buy_and_hold"]["sharpe"] for r in g["test"]]}
    info = {"untuned": {"configs_tried": 1, "deflated_sharpe": un_stats["deflated_sharpe"],
                        "psr": un_stats["psr"], "pbo": None,
                        "train_sharpe": un_stats["train_sharpe"], "params": {}},
            "grid": {"configs_tried": g["n_configs"], "deflated_sharpe": g["deflated_sharpe"],
                     "psr": g["psr"], "pbo": g["pbo"], "train_sharpe": g["train"]["sharpe"],
                     "params": g["best_params"]},
            "qlearning": {"configs_tried": q["n_configs"], "deflated_sharpe": q["deflated_sharpe"],
                          "psr": q["psr"], "pbo": q["pbo"], "train_sharpe": q["train"]["sharpe"],
                          "params": {"start": q["start_params"], "end_of_training":
                                     q["final_params"]}},
            "buy_and_hold": {"configs_tried": None, "deflated_sharpe": None, "psr": None,
                             "pbo": None, "train_sharpe": None, "params": {}}}
    comparison = []
    n = len(g["test"])
    for m in (*METHODS, "buy_and_hold"):
        sr, lo, hi = _pooled(rets[m], ppy)
        vals = [v for v in per_row[m] if v is not None and np.isfinite(v)]
        comparison.append({"method": m, "label": METHOD_LABELS[m], **info[m],
                           "test_sharpe": sr, "test_sharpe_lo": lo, "test_sharpe_hi": hi,
                           "mean_test_sharpe": float(np.mean(vals)) if vals else float("nan"),
                           "test_bars": int(sum(len(x) for x in rets[m]))})
    by = {c["method"]: c for c in comparison}
    wins = {m: {o: int(sum(bool(_gt(a, b)) for a, b in zip(per_row[m], per_row[o])))
                for o in (*METHODS, "buy_and_hold") if o != m} for m in (*METHODS, "buy_and_hold")}
    for c in comparison:
        c["wins"] = wins[c["method"]]
    qb = by["qlearning"]["test_sharpe"]
    beats = (_gt(qb, by["grid"]["test_sharpe"]) and _gt(qb, by["untuned"]["test_sharpe"])
             and wins["qlearning"]["grid"] * 2 > n and wins["qlearning"]["untuned"] * 2 > n)
    recommended = ({"method": "qlearning", "params": q["start_params"],
                    "note": "the agent moves the parameters window by window from here"}
                   if beats else {"method": "grid", "params": g["best_params"]})
    out = {"method": "both", "strategy": spec.name, "test_start": str(ts.date()),
           "train_symbols": list(train_symbols), "heldout_symbols": heldout_symbols,
           "budget": {"unit": "one configuration backtested over one training symbol's "
                              "training bars",
                      "configs": k, "grid_configs": len(configs),
                      "grid_size": len(grid_configs(spec)),
                      "grid_bars": len(configs) * sum(cuts.values()),
                      "qlearning_episodes": agent.episodes,
                      "qlearning_bars": agent.bars,
                      "qlearning_distinct_window_backtests": agent.distinct},
           "grid": g, "qlearning": q, "comparison": comparison, "n_tests": n,
           "qlearning_beats": bool(beats), "recommended": recommended}
    out["verdict"] = comparison_verdict(out)
    if progress is not None:
        progress(1.0, "done")
    return out


def _f(v, spec=".2f") -> str:
    return format(v, spec) if v is not None and isinstance(v, (int, float)) and \
        math.isfinite(v) else "n/a"


def comparison_verdict(result: dict) -> str:
    """Plain sentences on a :func:`compare_methods` result: whether Q-learning beat the
    untuned file and the grid of the same budget out of sample, what to use instead, and
    where buy-and-hold stands."""
    by = {c["method"]: c for c in result["comparison"]}
    q, g, u, b = (by[m] for m in ("qlearning", "grid", "untuned", "buy_and_hold"))
    n = result["n_tests"]

    def sr(c):
        return (f"{_f(c['test_sharpe'])} (95% CI {_f(c['test_sharpe_lo'])} .. "
                f"{_f(c['test_sharpe_hi'])})")

    parts = [(f"Out of sample ({n} symbol-period(s) from {result['test_start']}), pooled "
              f"Sharpe: Q-learning {sr(q)}, grid search {sr(g)}, untuned file {sr(u)}, "
              f"buy-and-hold {sr(b)}.")]
    if result["qlearning_beats"]:
        lo = q["test_sharpe_lo"]
        clear = _gt(lo, max(g["test_sharpe"], u["test_sharpe"]))
        parts.append("Q-learning beat both the untuned file and the grid search of the same "
                     f"budget (better in {q['wins']['grid']} and {q['wins']['untuned']} of {n})"
                     + ("." if clear else ", but its CI contains their Sharpe: weak evidence."))
    else:
        lost = []
        for m, name in (("untuned", "the untuned file"), ("grid", "the grid search")):
            higher = _gt(q["test_sharpe"], by[m]["test_sharpe"])
            if not higher:
                lost.append(f"{name} (pooled Sharpe {_f(q['test_sharpe'])} vs "
                            f"{_f(by[m]['test_sharpe'])})")
            elif q["wins"][m] * 2 <= n:
                lost.append(f"{name} (higher pooled Sharpe, but better in only "
                            f"{q['wins'][m]} of {n} symbol-periods)")
        params = ", ".join(f"{k}={v:g}" for k, v in g["params"].items()) or "the file as written"
        parts.append(f"Q-learning does not beat {' or '.join(lost)} out of sample (beating "
                     "means a higher pooled Sharpe and a higher Sharpe in most symbol-periods); "
                     f"the grid's configuration is offered instead ({params}).")
        if not _gt(g["test_sharpe"], u["test_sharpe"]):
            parts.append("The grid's pick does not beat the untuned file either: keeping the "
                         "file as written is as good.")
    parts.append(f"Deflated Sharpe for the configurations each tried: grid "
                 f"{_f(g['deflated_sharpe'])} ({g['configs_tried']}), Q-learning "
                 f"{_f(q['deflated_sharpe'])} ({q['configs_tried']}), untuned "
                 f"{_f(u['deflated_sharpe'])} (1); above 0.95 is significant.")
    best = max((q, g, u), key=lambda c: c["test_sharpe"] if _gt(c["test_sharpe"], -1e9)
               else -1e9)
    if not _gt(best["test_sharpe"], b["test_sharpe"]):
        parts.append("None of them beats buy-and-hold's Sharpe on these bars.")
    return " ".join(parts)


def qlearning_verdict(result: dict) -> str:
    """One plain sentence on a :func:`qlearning_tune` result alone."""
    rows = result["test"]
    beats_bh = sum(_gt(r["tuned"]["sharpe"], r["buy_and_hold"]["sharpe"]) for r in rows)
    pbo = "n/a" if result["pbo"] is None else f"{result['pbo']:.2f}"
    return (f"{result['n_configs']} configuration(s) tried by the agent in "
            f"{result['train']['episodes']} episodes; deflated Sharpe "
            f"{_f(result['deflated_sharpe'])}, PBO {pbo}; out of sample the policy beat "
            f"buy-and-hold in {beats_bh} of {len(rows)} symbol-periods (Sharpe). Compare it "
            "with the untuned file and the grid: --method both.")


# ---------------------------------------------------------------- the job


def jsonable(obj):
    """``obj`` for JSON: private ``_`` keys dropped, NaN/inf -> None, numpy scalars -> Python."""
    return _jsonable(obj)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def run_tuning_job(work: Callable[[Progress | None], dict], *, who: str,
                   progress: Progress | None = None, label: str = "tuning") -> dict:
    """Run ``work(progress)`` as a single-flight job (:func:`core.store.runs.
    run_single_flight`, the lock retraining uses): a ``tuning`` run recorded with its audit
    entries; the result is saved as a ``tuning`` registry artifact (``result.json``) and
    returned with ``job`` (run id, version). ``work``'s own exception is re-raised as is.

    Raises:
        TrainingInProgressError: another tuning job or a retrain is running (plain message).
        sqlalchemy.exc.SQLAlchemyError: the store cannot be read or written.
    """
    box: dict = {}

    def train(progress=None):
        try:
            box["result"] = work(progress)
        except BaseException as err:
            box["error"] = err
            raise
        res = _jsonable(box["result"])
        metrics = {"method": label, "deflated_sharpe": res.get("deflated_sharpe")}
        return registry.save_artifact(TUNING_FAMILY, {"result.json": json.dumps(
            res, default=str).encode()}, {"kind": "tuning", "metrics": metrics,
                                          "strategy": res.get("strategy")})

    try:
        run = run_single_flight(TUNING_FAMILY, train, who=who, progress=progress)
    except TrainingInProgressError as err:
        msg = str(err)
        if msg.startswith(f"A retrain of {TUNING_FAMILY} "):
            msg = "A tuning job " + msg[len(f"A retrain of {TUNING_FAMILY} "):]
        raise TrainingInProgressError(f"Cannot start tuning now: only one tuning or retraining "
                                      f"job runs at a time. {msg}") from None
    if "error" in box:
        raise box["error"]
    if "result" not in box:  # pragma: no cover - the store failed after the work
        raise RuntimeError(run.error or "the tuning job did not finish")
    out = box["result"]
    out["job"] = {"family": TUNING_FAMILY, "run": run.id, "status": run.status,
                  "version": run.version, "error": run.error}
    return out
