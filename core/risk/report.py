"""What the Risk Sizing page shows, as text and display tables: the headline metrics of a
sized trade and of the book, the signal-quality note, the marginal-effect and policy tables.

Pure functions of :mod:`core.risk` results (no computation of risk here); percentages are
the fractions times 100, formatted as the page prints them.
"""

from __future__ import annotations

import pandas as pd

from core.display import Metric, pct
from core.risk.portfolio import PortfolioRisk
from core.risk.signal_quality import ATR_MULT, HORIZON, R_MULT
from core.risk.sizing import RiskParameters, SizingResult

#: policy-table columns that are fractions (shown x 100) and the table's display names
POLICY_PERCENT_COLUMNS = ["ann_return", "ann_vol", "max_drawdown", "avg_exposure",
                          "vol_reduction_vs_fixed", "dd_reduction_vs_fixed"]
POLICY_COLUMN_LABELS = {
    "ann_return": "Ann. return [%]", "ann_vol": "Ann. vol [%]", "sharpe": "Sharpe",
    "sortino": "Sortino", "max_drawdown": "Max DD [%]", "calmar": "Calmar",
    "turnover": "Turnover [x/yr]", "avg_exposure": "Avg exposure [%]",
    "vol_reduction_vs_fixed": "Vol cut vs fixed [%]",
    "dd_reduction_vs_fixed": "DD cut vs fixed [%]"}


def sizing_metrics(res: SizingResult) -> list[Metric]:
    """Five headline figures of a sized trade: position [% equity] with its shares, stop and
    take profit [price] with their distance from entry [%], risk at the stop [% equity] with
    its amount [$], and the volatility adjustment [x] with the forecast vol [% ann.]."""
    return [
        Metric("Position [% equity]", f"{res.position_pct_equity:.2f}%", f"{res.shares:,} shares"),
        Metric("Stop loss", f"{res.stop_price:,.4g}",
               f"{(res.stop_price / res.entry - 1) * 100:+.2f}%"),
        Metric("Take profit", f"{res.take_profit:,.4g}",
               f"{(res.take_profit / res.entry - 1) * 100:+.2f}%"),
        Metric("Risk at stop [% equity]", f"{res.risk_pct_actual:.2f}%",
               f"${res.risk_amount:,.0f}"),
        Metric("Vol adjustment [x]", f"{res.vol_adjustment:.2f}",
               f"forecast {res.vol_forecast_ann * 100:.1f}% ann."),
    ]


def inputs_line(p: RiskParameters, kelly_source: str) -> str:
    """The sizing inputs in one line, shown under the input popovers so the current values
    are read without opening them, e.g. ``Equity 100,000 · cash 100,000 · risk 1.00% · long
    at 56.1400 · horizon 10 bars · stop 2.0× ATR · take profit 2.0 R · target vol 15% ·
    max 1.00× equity · Kelly: History (triple barrier)`` (markdown-safe: numbers and fixed
    words only, ``kelly_source`` is one of the page's options)."""
    stop = (f"{p.atr_multiple:g}× ATR" if p.stop_method == "atr"
            else f"{p.vol_multiple:g} σ·√h")
    tp = (f"{p.r_multiple:g} R" if p.take_profit_method == "r_multiple"
          else "forecast target " + ("n/a" if p.forecast_target is None
                                     else f"{p.forecast_target:,.4f}"))
    entry = "last close" if p.entry is None else f"{p.entry:,.4f}"
    cash = p.equity if p.cash is None else p.cash
    return (f"Equity {p.equity:,.0f} · cash {cash:,.0f} · risk {p.risk_pct:.2f}% · "
            f"{p.direction} at {entry} · horizon {p.horizon} bars · stop {stop} · "
            f"take profit {tp} · target vol {p.target_vol:.0%} · max {p.max_leverage:.2f}× "
            f"equity · Kelly: {kelly_source}")


def signal_quality_note(score: dict, metadata: dict) -> str:
    """Markdown note on the signal-quality model's P(success) used as the Kelly ``p``.

    Args:
        score: :func:`core.risk.signal_quality.score_latest`'s dict (``probability``,
            ``decision``, ``base_rate``, ``version``).
        metadata: the scorer artifact's metadata; its ``walk_forward`` figures (``brier``,
            ``brier_base``, ``auc``, ``years``, ``execute_hit_rate``, ``test_base_rate``) add
            a warning when the scorer did not beat the base rate out of sample.
    """
    note = (f"Signal-quality model {score['version']}: P(success) = "
            f"{score['probability']:.1%} → **{score['decision']}** (threshold 60%; "
            f"training base rate {score['base_rate']:.1%}). Its trade: "
            f"{ATR_MULT:g} ATR stop, {R_MULT:g} R target, {HORIZON}-bar exit.")
    wf = metadata.get("walk_forward", {})
    if wf and wf.get("brier", 1) >= wf.get("brier_base", 0):
        note += (f"  \n⚠️ In walk-forward testing ({wf['years'][0]}-{wf['years'][1]}, six "
                 f"symbols) this scorer did **not** beat the base rate: Brier "
                 f"{wf['brier']:.4f} vs {wf['brier_base']:.4f}, AUC {wf['auc']:.3f}; EXECUTE "
                 f"trades won {wf['execute_hit_rate']:.0%} vs a {wf['test_base_rate']:.0%} "
                 "base rate.")
    return note


def overlap_caption(returns: pd.DataFrame) -> str:
    """``"<n> common daily bars <first> → <last> (the histories' overlap)."`` for the
    aligned returns (bars x symbols, DatetimeIndex)."""
    return (f"{len(returns)} common daily bars {returns.index[0].date()} → "
            f"{returns.index[-1].date()} (the histories' overlap).")


def book_metrics(risk: PortfolioRisk) -> list[Metric]:
    """Four headline figures of the book: gross exposure [% equity], volatility [% ann.],
    1-day VaR and CVaR at ``risk.level`` [% equity] (historical as value, Gaussian as delta)."""
    lvl = f"{risk.level:.0%}"
    return [
        Metric("Gross exposure [% equity]", pct(risk.weights.abs().sum(), 1)),
        Metric("Portfolio vol [% ann.]", pct(risk.ann_vol, 1)),
        Metric(f"VaR {lvl} 1-day [% equity]", f"{risk.var_hist * 100:.2f}% hist",
               f"{risk.var_param * 100:.2f}% param"),
        Metric(f"CVaR {lvl} 1-day [% equity]", f"{risk.cvar_hist * 100:.2f}% hist",
               f"{risk.cvar_param * 100:.2f}% param"),
    ]


def marginal_effect_table(effect: dict, level: float) -> pd.DataFrame:
    """The book's volatility [% ann.], historical VaR and CVaR [% equity] before and after a
    trade and the change, from :func:`core.risk.book.trade_marginal_effect`'s dict.

    Returns:
        DataFrame 3 rows (volatility, VaR, CVaR) x ``Before``, ``After``, ``Change`` [%].
    """
    return pd.DataFrame({
        "Before": [effect["vol_before"] * 100, effect["var_before"] * 100,
                   effect["cvar_before"] * 100],
        "After": [effect["vol_after"] * 100, effect["var_after"] * 100,
                  effect["cvar_after"] * 100],
        "Change": [effect["delta_vol"] * 100, effect["delta_var"] * 100,
                   effect["delta_cvar"] * 100]},
        index=["Volatility [% ann.]", f"VaR {level:.0%} hist [% equity]",
               f"CVaR {level:.0%} hist [% equity]"])


def policy_table(table: pd.DataFrame) -> pd.DataFrame:
    """The policy backtest's metrics table (:func:`core.risk.backtest.compare`, one row per
    policy) with fractions in percent and display column names (``POLICY_COLUMN_LABELS``)."""
    show = table.copy()
    show[POLICY_PERCENT_COLUMNS] = show[POLICY_PERCENT_COLUMNS] * 100
    return show.rename(columns=POLICY_COLUMN_LABELS)


def heldout_table(metadata: dict) -> pd.DataFrame | None:
    """The DQN artifact's held-out evaluation (``heldout_metrics`` records) rounded to 3
    decimals, or None when the metadata has none."""
    rows = metadata.get("heldout_metrics")
    return pd.DataFrame(rows).round(3) if rows else None
