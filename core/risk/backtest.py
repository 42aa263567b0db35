"""Walk-forward policy backtest: exposure decided at bar t earns the return of bar t+1.

``net[t] = exposure[t-1] * r[t] - cost * |exposure[t-1] - exposure[t-2]|`` with ``r[t]`` the
simple close-to-close return and ``cost`` in basis points of traded notional (default 5 bp).
Metrics follow Bacon, *Practical Portfolio Performance Measurement and Attribution* (2008):
geometric annualised return, annualised volatility, Sharpe (risk-free 0), Sortino (downside
deviation below 0), max drawdown, Calmar (ann. return / max drawdown), turnover (annualised
sum of |change of exposure|, in multiples of equity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.market import periods_per_year

METRIC_KEYS = ("ann_return", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar",
               "turnover", "avg_exposure")


@dataclass
class BacktestResult:
    """net_returns [fraction per bar], equity (starts at 1), drawdown [fraction, <= 0],
    position (exposure held over each bar), metrics (see ``METRIC_KEYS``)."""

    net_returns: pd.Series
    equity: pd.Series
    drawdown: pd.Series
    position: pd.Series
    metrics: dict


def metrics(net: pd.Series, position: pd.Series, ppy: int = 252) -> dict:
    """Performance metrics of per-bar net returns (see module doc)."""
    n = len(net)
    eq = (1 + net).cumprod()
    growth = float(eq.iloc[-1])
    ann_ret = growth ** (ppy / n) - 1 if growth > 0 else -1.0
    sd = float(net.std(ddof=1))
    ann_vol = sd * np.sqrt(ppy)
    mean = float(net.mean())
    down = float(np.sqrt(np.mean(np.minimum(net.to_numpy(), 0.0) ** 2)))
    dd = eq / eq.cummax().clip(lower=1.0) - 1
    mdd = float(-dd.min())
    turn = float(position.diff().abs().fillna(position.abs()).sum() / n * ppy)
    return {
        "ann_return": ann_ret, "ann_vol": ann_vol,
        "sharpe": mean / sd * np.sqrt(ppy) if sd > 0 else float("nan"),
        "sortino": mean / down * np.sqrt(ppy) if down > 0 else float("nan"),
        "max_drawdown": mdd, "calmar": ann_ret / mdd if mdd > 0 else float("nan"),
        "turnover": turn, "avg_exposure": float(position.mean()),
    }


def backtest(close: pd.Series, exposure: pd.Series, cost_bp: float = 5.0,
             interval: str = "1d", start=None) -> BacktestResult:
    """Backtest an exposure series decided with information <= t.

    Args:
        close: close prices. exposure: fraction of equity per bar, same index (NaN = flat).
        cost_bp: one-way cost [basis points of traded notional]. start: first bar whose
            *return* is scored (e.g. the end of every policy's warm-up); default the second bar.
    Returns:
        :class:`BacktestResult`.
    Raises:
        InsufficientDataError: fewer than 20 scored bars.
    """
    r = close.astype("float64").pct_change()
    pos = exposure.reindex(close.index).astype("float64").fillna(0.0).shift(1)
    if start is not None:
        keep = r.index >= pd.Timestamp(start)
    else:
        keep = np.arange(len(r)) >= 1
    r, pos = r[keep], pos[keep].fillna(0.0)
    if len(r) < 20:
        raise InsufficientDataError(f"Backtest needs at least 20 scored bars, got {len(r)}.")
    # trading into the first scored position from flat is charged too
    trades = pos.diff().abs()
    trades.iloc[0] = abs(pos.iloc[0])
    net = (pos * r.fillna(0.0) - cost_bp / 1e4 * trades).rename("net_return")
    eq = (1 + net).cumprod().rename("equity")
    dd = (eq / eq.cummax().clip(lower=1.0) - 1).rename("drawdown")
    return BacktestResult(net, eq, dd, pos.rename("position"),
                          metrics(net, pos, periods_per_year(interval)))


def compare(close: pd.Series, exposures: dict[str, pd.Series], cost_bp: float = 5.0,
            interval: str = "1d", start=None) -> tuple[pd.DataFrame, dict[str, BacktestResult]]:
    """Backtest several policies over the same scored bars.

    ``start`` defaults to the first bar where every exposure is defined (non-NaN), so all
    policies are scored on identical bars. Returns (metrics table with one row per policy and
    ``vol_reduction_vs_fixed`` / ``dd_reduction_vs_fixed`` when a ``fixed`` policy exists,
    results by name).
    """
    if start is None:
        firsts = [e.first_valid_index() for e in exposures.values()]
        if any(f is None for f in firsts):
            raise InsufficientDataError("A policy has no valid exposure on these bars "
                                        "(too short a history).")
        last_first = max(firsts)
        i = close.index.get_loc(last_first)
        if i + 1 >= len(close):
            raise InsufficientDataError("No bars left after the policies' warm-up.")
        start = close.index[i + 1]
    res = {k: backtest(close, e, cost_bp, interval, start) for k, e in exposures.items()}
    table = pd.DataFrame({k: v.metrics for k, v in res.items()}).T
    if "fixed" in table.index:
        f = table.loc["fixed"]
        table["vol_reduction_vs_fixed"] = 1 - table["ann_vol"] / f["ann_vol"]
        table["dd_reduction_vs_fixed"] = 1 - table["max_drawdown"] / f["max_drawdown"]
    return table, res
