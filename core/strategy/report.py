"""What the Strategy Lab page shows, computed here and only laid out by the page: the rule
edge table, the metrics beside buy-and-hold, the trades list, the tuning tables and the plain
sentences that say whether a strategy (or its tuned version) beats holding the stock.

Every function is pure (frames and dicts in, frames and strings out); numbers are formatted
for reading (percent, two decimals), never rounded in the backtest itself.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.display import Metric, literal
from core.errors import DataValidationError
from core.strategy.rules import HORIZONS, SIGNALS
from core.strategy.spec import Strategy

#: (metric key, row label, scale, format) of the metrics table, strategy beside buy-and-hold
METRIC_ROWS = (("total_return", "Total return [%]", 100, ".1f"),
               ("cagr", "CAGR [%]", 100, ".2f"),
               ("ann_vol", "Volatility [% ann.]", 100, ".1f"),
               ("sharpe", "Sharpe (95% CI)", 1, ".2f"),
               ("sortino", "Sortino", 1, ".2f"),
               ("max_drawdown", "Max drawdown [%]", 100, ".1f"),
               ("calmar", "Calmar", 1, ".2f"),
               ("n_trades", "Trades", 1, ".0f"),
               ("hit_rate", "Hit rate [%] (95% CI)", 100, ".1f"),
               ("turnover", "Turnover [x/yr]", 1, ".1f"),
               ("exposure", "Exposure [% bars]", 100, ".1f"))
#: a strategy's own figures, meaningless for buy-and-hold
STRATEGY_ONLY = ("n_trades", "hit_rate")
#: the page tunes at most this many configurations (each one also costs deflated-Sharpe power)
MAX_PAGE_CONFIGS = 64
#: share of the symbol's bars the page tunes on; the rest is the held-out test
TUNE_TRAIN_SHARE = 0.7
N_RULES = len(SIGNALS)


def _fmt(v, scale: float = 1.0, spec: str = ".2f") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return format(v * scale, spec)


def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float, np.floating)) and math.isfinite(v)


# ---------------------------------------------------------------- rule signals and edge


def signal_edge_display(table: pd.DataFrame, horizons=HORIZONS) -> pd.DataFrame:
    """:func:`core.strategy.rules.signal_edge_table` as a plain table: per horizon the mean
    forward return in the signal's direction with its 95% CI and the base rate, in %."""
    out = pd.DataFrame(index=pd.Index(table["label"], name="Rule"))
    out["Occurrences (long / short)"] = [f"{o} ({lg} / {sh})" for o, lg, sh in
                                         zip(table["occurrences"], table["long"], table["short"])]
    for h in horizons:
        out[f"Return {h}b [%] (95% CI)"] = [
            "–" if not _finite(r) else
            f"{r * 100:+.2f} ({lo * 100:+.2f} .. {hi * 100:+.2f})" if _finite(lo) else
            f"{r * 100:+.2f}"
            for r, lo, hi in zip(table[f"ret_{h}"], table[f"ret_lo_{h}"], table[f"ret_hi_{h}"])]
        out[f"Base {h}b [%]"] = [_fmt(b, 100, "+.2f") for b in table[f"base_ret_{h}"]]
        out[f"Hit {h}b [%]"] = [_fmt(b, 100, ".1f") for b in table[f"hit_{h}"]]
    out["Verdict"] = list(table["verdict"])
    return out


def rules_with_edge(table: pd.DataFrame) -> int:
    """How many rules show a CI off their base somewhere (any ``edge_h`` column)."""
    cols = [c for c in table.columns if c.startswith("edge_")]
    return int(table[cols].any(axis=1).sum()) if cols else 0


def edge_caption(table: pd.DataFrame, symbol: str, n_bars: int, horizons=HORIZONS) -> str:
    """The caption under the edge table (markdown; the symbol escaped with
    :func:`core.display.literal`), with the multiple-testing caution."""
    n = len(table)
    return (f"Rule signals on {literal(symbol)} ({n_bars:,} bars). Returns are mean forward "
            "log returns in the signal's direction (a short signal counts a fall as positive) "
            "against an unconditional entry in the same direction (the base); 95% CIs by "
            "bootstrap over occurrences. **No measurable edge** = every CI contains its base. "
            f"{rules_with_edge(table)} of {n} rules show a CI off the base somewhere; with "
            f"{n} rules x {len(horizons)} horizons x 2 statistics (return, hit rate) some of "
            "that is expected by chance alone.")


# ---------------------------------------------------------------- strategy form


def editable_params(spec: Strategy) -> dict[str, dict]:
    """Signal parameters the page lets a trader edit: ``{signal: {param: value}}`` for each
    rule signal the strategy uses (its file's values over the rule's defaults); candlestick
    pattern signals have none."""
    out = {}
    for name in spec.used_signals():
        if name in SIGNALS:
            out[name] = {**SIGNALS[name].defaults, **spec.signal_params(name)}
    return out


_SIGNAL_SHORT = {"rsi": "RSI", "macd": "MACD", "bollinger": "Bollinger", "ma_cross": "SMA cross",
                 "ma_cross_20_50": "SMA cross 20/50"}
_PARAM_WORDS = {"period": "period [bars]", "lower": "lower threshold", "upper": "upper threshold",
                "fast": "fast [bars]", "slow": "slow [bars]", "signal": "signal line [bars]",
                "k": "width [σ]"}


def param_label(signal: str, param: str) -> str:
    """A form label for a signal parameter, e.g. ``RSI lower threshold``."""
    return f"{_SIGNAL_SHORT.get(signal, signal)} {_PARAM_WORDS.get(param, param)}"


def edited_strategy(spec: Strategy, *, side: str, signal_params: dict[str, dict],
                    stop_atr: float, max_hold: int, commission_bp: float, spread_bp: float,
                    slippage_bp: float, sizing: dict | None = None) -> Strategy:
    """``spec`` with the form's values (validated again). ``stop_atr`` or ``max_hold`` of 0
    switch that exit rule off. ``sizing``: fields of :class:`core.strategy.spec.Sizing`
    (``policy``, ``fraction``, ``target_vol``, ``risk_per_trade``) to replace.

    Raises:
        StrategySpecError: a value the strategy format refuses, naming the field.
        DataValidationError: RSI thresholds out of order (checked here so the message comes
            before any computation).
    """
    values: dict = {"side": side, "exit.stop_atr": float(stop_atr) if stop_atr > 0 else None,
                    "exit.max_hold": int(max_hold) if max_hold > 0 else None,
                    "costs.commission_bp": float(commission_bp),
                    "costs.spread_bp": float(spread_bp), "costs.slippage_bp": float(slippage_bp)}
    for name, params in signal_params.items():
        for k, v in params.items():
            values[f"signals.{name}.{k}"] = v
    for k, v in (sizing or {}).items():
        values[f"sizing.{k}"] = v
    rsi = signal_params.get("rsi")
    if rsi and not 0 < rsi.get("lower", 30) < rsi.get("upper", 70) < 100:
        raise DataValidationError(
            f"RSI thresholds need 0 < lower < upper < 100; got lower {rsi.get('lower'):g} and "
            f"upper {rsi.get('upper'):g}.")
    for name in ("ma_cross", "ma_cross_20_50", "macd"):
        p = signal_params.get(name)
        if p and p.get("fast", 0) >= p.get("slow", 1):
            raise DataValidationError(f"{SIGNALS[name].label}: the fast period "
                                      f"({p['fast']:g}) must be shorter than the slow one "
                                      f"({p['slow']:g}).")
    return spec.with_params(values)


def tuned_params(res: dict, method: str) -> dict | None:
    """The fixed parameters a tuning result recommends (``{dotted path: value}``; empty: the
    file as written): the grid's pick, or Compare's when it recommends the grid; None when
    the Q-learning tuner is the answer (its parameters move as it trades)."""
    if method == "grid":
        return dict(res.get("best_params") or {})
    rec = res.get("recommended") or {}
    if method == "both" and rec.get("method") == "grid":
        return dict(rec.get("params") or {})
    return None


def tuned_strategy(spec: Strategy, params: dict) -> Strategy:
    """``spec`` with tuned ``params``, named ``<name> (tuned)`` when any parameter changed.

    Raises: StrategySpecError for a parameter the strategy format refuses.
    """
    if not params:
        return spec
    return spec.with_params({**params, "name": f"{spec.name} (tuned)"[:120]})


SIZING_POLICIES = {"fixed": "Fixed share of equity", "vol_target": "Volatility target",
                   "atr_risk": "Risk to the ATR stop"}


def sizing_line(spec: Strategy) -> str:
    """The sizing policy in words (:class:`core.strategy.spec.Sizing`)."""
    z = spec.sizing
    if z.policy == "vol_target":
        return (f"sizing: {z.target_vol:.0%} annualised volatility target (EWMA), at most "
                f"{z.fraction:.0%} of equity")
    if z.policy == "atr_risk":
        return (f"sizing: {z.risk_per_trade:.2%} of equity lost at the stop, at most "
                f"{z.fraction:.0%} of equity")
    return f"sizing: {z.fraction:.0%} of equity per position"


def costs_line(spec: Strategy) -> str:
    """Costs per fill in words."""
    c = spec.costs
    return (f"costs per fill: {c.commission_bp:g} bp commission + {c.fill_bp:g} bp "
            f"half-spread and slippage")


# ---------------------------------------------------------------- backtest


def metrics_display(metrics: dict, bench: dict) -> pd.DataFrame:
    """Metrics table: one row per metric, the strategy beside buy-and-hold (text cells, the
    Sharpe and hit rate with their 95% CIs)."""
    rows = []
    for key, label, scale, spec in METRIC_ROWS:
        s = _fmt(metrics.get(key), scale, spec)
        if key == "sharpe" and _finite(metrics.get("sharpe_lo")):
            s += f" ({_fmt(metrics['sharpe_lo'])} .. {_fmt(metrics['sharpe_hi'])})"
        if key == "hit_rate" and _finite(metrics.get("hit_rate_lo")):
            s += (f" ({_fmt(metrics['hit_rate_lo'], 100, '.0f')} .. "
                  f"{_fmt(metrics['hit_rate_hi'], 100, '.0f')})")
        b = "–" if key in STRATEGY_ONLY else _fmt(bench.get(key), scale, spec)
        if key == "sharpe" and _finite(bench.get("sharpe_lo")):
            b += f" ({_fmt(bench['sharpe_lo'])} .. {_fmt(bench['sharpe_hi'])})"
        rows.append({"Metric": label, "Strategy": s, "Buy & hold": b})
    return pd.DataFrame(rows).set_index("Metric")


def headline_metrics(metrics: dict, bench: dict) -> list[Metric]:
    """Four headline figures, each with buy-and-hold's under it."""
    return [
        Metric("Sharpe", _fmt(metrics.get("sharpe")), f"buy & hold {_fmt(bench.get('sharpe'))}",
               "Annualised, zero risk-free rate, after costs."),
        Metric("CAGR", f"{_fmt(metrics.get('cagr'), 100, '.2f')}%",
               f"buy & hold {_fmt(bench.get('cagr'), 100, '.2f')}%"),
        Metric("Max drawdown", f"{_fmt(metrics.get('max_drawdown'), 100, '.1f')}%",
               f"buy & hold {_fmt(bench.get('max_drawdown'), 100, '.1f')}%"),
        Metric("Trades", _fmt(metrics.get("n_trades"), 1, ".0f"),
               f"exposure {_fmt(metrics.get('exposure'), 100, '.0f')}% of bars"),
    ]


def backtest_verdict(metrics: dict, bench: dict) -> str:
    """One plain sentence: does the strategy's Sharpe CI clear buy-and-hold's Sharpe?"""
    if not metrics.get("n_trades"):
        return "The strategy never traded on these bars: there is nothing to judge."
    sr, lo, hi = metrics.get("sharpe"), metrics.get("sharpe_lo"), metrics.get("sharpe_hi")
    b = bench.get("sharpe")
    if not (_finite(lo) and _finite(hi) and _finite(b)):
        return "Too few returns for a Sharpe confidence interval: no verdict."
    ci = f"Sharpe {sr:.2f} (95% CI {lo:.2f} .. {hi:.2f}) against buy-and-hold's {b:.2f}"
    if lo > b:
        return f"{ci}: the strategy's Sharpe is above holding the stock, with its CI clear of it."
    if hi < b:
        return f"{ci}: **worse than holding the stock** (the whole CI is below it)."
    return f"{ci}: **no evidence that the rule beats holding the stock** (the CI contains it)."


def trades_display(trades: pd.DataFrame) -> pd.DataFrame:
    """The trades list for reading and export: side in words, times as dates (or minutes
    intraday), prices to 4 decimals, P&L and costs in currency, return in %."""
    if trades.empty:
        return pd.DataFrame(columns=["Side", "Entry", "Entry price", "Exit", "Exit price",
                                     "Units", "Bars held", "P&L", "Return [%]", "Costs",
                                     "Exit reason"])

    def when(ts):
        ts = pd.DatetimeIndex(ts)
        daily = (ts == ts.normalize()).all()
        return ts.strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M")

    return pd.DataFrame({
        "Side": np.where(trades["side"] > 0, "long", "short"),
        "Entry": when(trades["entry_time"]), "Entry price": trades["entry_price"].round(4),
        "Exit": when(trades["exit_time"]), "Exit price": trades["exit_price"].round(4),
        "Units": trades["units"].round(4), "Bars held": trades["bars_held"].astype(int),
        "P&L": trades["pnl"].round(2), "Return [%]": (trades["return"] * 100).round(2),
        "Costs": trades["costs"].round(2), "Exit reason": trades["exit_reason"].astype(str),
    })


def folds_display(folds: list[dict]) -> pd.DataFrame:
    """Walk-forward folds: test period, the configuration picked on the bars before it and
    its training / test Sharpe."""
    return pd.DataFrame([{
        "Fold": f["fold"], "Test from": f["test_start"], "Test to": f["test_end"],
        "Picked on training bars": ", ".join(f"{k.split('.', 1)[-1]}={v:g}"
                                             for k, v in f["params"].items()) or "the file",
        "Training Sharpe": _fmt(f["train_sharpe"]), "Test Sharpe": _fmt(f["test_sharpe"]),
    } for f in folds])


# ---------------------------------------------------------------- tuning


def tune_split(index: pd.DatetimeIndex, share: float = TUNE_TRAIN_SHARE) -> pd.Timestamp:
    """The first bar of the held-out test: the bar at ``share`` of the history."""
    if len(index) < 2:
        raise DataValidationError("Tuning needs a history of bars; choose a longer range.")
    return index[min(int(len(index) * share), len(index) - 1)]


def check_grid(n_configs: int, limit: int = MAX_PAGE_CONFIGS) -> None:
    """Refuse a grid the page would take too long on.

    Raises: DataValidationError naming the size and the limit.
    """
    if n_configs > limit:
        raise DataValidationError(
            f"The strategy's [tune] grid has {n_configs} configurations; the page tunes at most "
            f"{limit}. Use `quantdesk tune --strategy FILE` for larger grids.")


def tune_headline(result: dict) -> list[Metric]:
    """Deflated Sharpe, PBO, PSR and the training Sharpe against the best of N unskilled."""
    t = result["train"]
    pbo = result.get("pbo")
    return [
        Metric("Configurations tried", f"{result['n_configs']}"),
        Metric("Deflated Sharpe", _fmt(result.get("deflated_sharpe")),
               "significant" if _finite(result.get("deflated_sharpe"))
               and result["deflated_sharpe"] > 0.95 else "not significant (≤ 0.95)",
               "Probability that the selected configuration's true Sharpe is above what the "
               "best of N unskilled configurations would show (Bailey & Lopez de Prado 2014)."),
        Metric("PBO", "n/a" if pbo is None else _fmt(pbo),
               None if pbo is None else f"{result.get('pbo_splits') or 0:,} CSCV splits",
               "Probability of backtest overfitting: share of splits where the in-sample "
               "winner ranks below the out-of-sample median (Bailey et al. 2017)."),
        Metric("Training Sharpe", _fmt(t.get("sharpe")),
               f"best of {result['n_configs']} unskilled: {_fmt(t.get('expected_max_sharpe'))}"),
    ]


def configs_display(result: dict) -> pd.DataFrame:
    """Every configuration tried, its annualised training Sharpe, the selected one marked."""
    best = result["best_params"]
    rows = []
    for c in result.get("configs", []):
        row = {k.split(".", 1)[-1] if k.startswith("signals.") else k: v
               for k, v in c["params"].items()}
        row["Training Sharpe"] = round(c["train_sharpe"], 3) if _finite(c["train_sharpe"]) \
            else None
        row["Selected"] = "✓" if c["params"] == best else ""
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.sort_values("Training Sharpe", ascending=False, na_position="last") \
        if len(out) else out


def tune_test_display(result: dict) -> pd.DataFrame:
    """Out-of-sample test: tuned, untuned file and buy-and-hold side by side."""
    return pd.DataFrame([{
        "Symbol": row["symbol"], "Test period": f"{row['start']} .. {row['end']}",
        "Bars": row["bars"], "Tuned Sharpe": _fmt(row["tuned"]["sharpe"]),
        "Tuned trades": row["tuned"]["n_trades"], "Untuned Sharpe": _fmt(row["untuned"]["sharpe"]),
        "Untuned trades": row["untuned"]["n_trades"],
        "Buy & hold Sharpe": _fmt(row["buy_and_hold"]["sharpe"]),
        "Tuned CAGR [%]": _fmt(row["tuned"]["cagr"], 100, ".2f"),
        "Untuned CAGR [%]": _fmt(row["untuned"]["cagr"], 100, ".2f"),
        "Buy & hold CAGR [%]": _fmt(row["buy_and_hold"]["cagr"], 100, ".2f"),
    } for row in result["test"]])


def tune_plain_lines(result: dict) -> list[str]:
    """Plain sentences on a tuning result: whether the tuned version beat the untuned file
    and buy-and-hold out of sample, and whether the search's penalty leaves anything."""
    s = result["summary"]
    n = s["n_tests"]
    lines = []
    tu, un, bh = (s["mean_sharpe_tuned"], s["mean_sharpe_untuned"],
                  s["mean_sharpe_buy_and_hold"])
    if s["tuned_beats_untuned"] < n or n == 0:
        lines.append(f"**The tuned version does not beat the untuned file out of sample** "
                     f"(Sharpe {_fmt(tu)} vs {_fmt(un)}; better in {s['tuned_beats_untuned']} "
                     f"of {n}). Keep the file as written.")
    else:
        lines.append(f"The tuned version beat the untuned file out of sample (Sharpe "
                     f"{_fmt(tu)} vs {_fmt(un)}).")
    if s["tuned_beats_buy_and_hold"] < n or n == 0:
        lines.append(f"**The tuned version does not beat buy-and-hold out of sample** "
                     f"(Sharpe {_fmt(tu)} vs {_fmt(bh)}).")
    else:
        lines.append(f"The tuned version beat buy-and-hold out of sample (Sharpe {_fmt(tu)} vs "
                     f"{_fmt(bh)}).")
    dsr = result.get("deflated_sharpe")
    if not (_finite(dsr) and dsr > 0.95):
        lines.append("The deflated Sharpe is not significant: the best training Sharpe is "
                     "within what trying this many configurations would produce by luck.")
    pbo = result.get("pbo")
    if pbo is not None and pbo >= 0.5:
        lines.append(f"A probability of backtest overfitting of {pbo:.2f} says the in-sample "
                     "winner usually ranks in the bottom half out of sample.")
    return lines


# ---------------------------------------------------------------- Q-learning and comparison

#: the tuning methods the page offers, key -> label
TUNE_METHODS = {"grid": "Grid search", "qlearning": "Q-learning",
                "both": "Compare (untuned · grid · Q-learning)"}
#: the button's label per method
TUNE_BUTTONS = {"grid": "Tune (grid)", "qlearning": "Tune (Q-learning)",
                "both": "Tune (compare)"}
#: the page's Q-learning budget at most, in grid configurations (keeps a run to seconds)
PAGE_BUDGET = 36


def _sr_ci(m: dict) -> str:
    s = _fmt(m.get("sharpe"))
    if _finite(m.get("sharpe_lo")):
        s += f" ({_fmt(m['sharpe_lo'])} .. {_fmt(m['sharpe_hi'])})"
    return s


def params_text(params: dict) -> str:
    return ", ".join(f"{k.split('.', 1)[-1] if k.startswith('signals.') else k}={v:g}"
                     for k, v in params.items()) or "the file as written"


def qlearning_headline(result: dict) -> list[Metric]:
    """Configurations the agent tried, its deflated Sharpe, PBO and training figures."""
    t = result["train"]
    pbo = result.get("pbo")
    dsr = result.get("deflated_sharpe")
    return [
        Metric("Configurations tried", f"{result['n_configs']}",
               f"{t['episodes']} episodes, {t['evaluations']:,} window backtests"),
        Metric("Deflated Sharpe", _fmt(dsr), "significant" if _finite(dsr) and dsr > 0.95
               else "not significant (≤ 0.95)",
               "Of the greedy policy's training Sharpe, for the configurations the agent "
               "tried (Bailey & Lopez de Prado 2014)."),
        Metric("PBO", "n/a" if pbo is None else _fmt(pbo),
               None if pbo is None else f"{result.get('pbo_splits') or 0:,} CSCV splits",
               "Probability of backtest overfitting over the configurations the agent tried "
               "(Bailey et al. 2017)."),
        Metric("Training Sharpe", _fmt(t.get("sharpe")), "greedy policy, training windows"),
    ]


def qlearning_test_display(result: dict) -> pd.DataFrame:
    """Out-of-sample test of the frozen Q-learning policy beside buy-and-hold."""
    return pd.DataFrame([{
        "Symbol": row["symbol"] + (" (held out)" if row.get("heldout_symbol") else ""),
        "Test period": f"{row['start']} .. {row['end']}", "Bars": row["bars"],
        "Q-learning Sharpe (95% CI)": _sr_ci(row["tuned"]),
        "Trades": row["tuned"]["n_trades"], "Parameter changes": row["changes"],
        "Last window's parameters": params_text(row["path"][-1]) if row["path"] else "",
        "Buy & hold Sharpe (95% CI)": _sr_ci(row["buy_and_hold"]),
    } for row in result["test"]])


def comparison_display(result: dict) -> pd.DataFrame:
    """One row per method (untuned file, grid, Q-learning) and buy-and-hold: what it tried,
    its multiple-testing penalty and its pooled out-of-sample Sharpe with the 95% CI."""
    rows = []
    for c in result["comparison"]:
        sr = _fmt(c["test_sharpe"])
        if _finite(c.get("test_sharpe_lo")):
            sr += f" ({_fmt(c['test_sharpe_lo'])} .. {_fmt(c['test_sharpe_hi'])})"
        rows.append({"Method": c["label"],
                     "Configurations tried": "–" if c["configs_tried"] is None
                     else str(c["configs_tried"]),
                     "Training Sharpe": _fmt(c.get("train_sharpe")),
                     "Deflated Sharpe": _fmt(c.get("deflated_sharpe")),
                     "PBO": "–" if c.get("pbo") is None else _fmt(c["pbo"]),
                     "Test Sharpe (95% CI)": sr,
                     "Mean Sharpe per symbol-period": _fmt(c.get("mean_test_sharpe"))})
    return pd.DataFrame(rows).set_index("Method")


def comparison_plain_lines(result: dict) -> list[str]:
    """The comparison's verdict as plain markdown lines: the answer first (bold when
    Q-learning loses), the grid result offered, and the caveat on the policy's windows."""
    by = {c["method"]: c for c in result["comparison"]}
    g = by["grid"]
    if result["qlearning_beats"]:
        head = ("Q-learning beat the untuned file and the grid search of the same budget "
                "out of sample.")
    else:
        head = ("**Q-learning does not beat the untuned file and the grid search of the same "
                "budget out of sample.** The grid result is offered instead: "
                f"{literal(params_text(g['params']))} (deflated Sharpe "
                f"{_fmt(g.get('deflated_sharpe'))}).")
    b = result["budget"]
    same = (f"Same budget: {b['configs']} configuration(s) x every training bar = "
            f"{b['grid_bars']:,} bars backtested by the grid and {b['qlearning_bars']:,} by "
            f"Q-learning ({b['qlearning_episodes']} episodes). Q-learning's test windows each "
            "start flat (a parameter change closes the position); the others run straight "
            "through the test bars.")
    return [head, literal(result["verdict"]), same]
