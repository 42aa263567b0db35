"""Per-trade sizing: stop, take profit, position size, Kelly, volatility adjustment, VaR.

Rules (all documented on the page):

- **Stop** (``stop_method``): ``"atr"`` = entry -/+ ``atr_multiple`` x ATR(``atr_window``)
  (Wilder 1978, TA-Lib ``ATR``); ``"volatility"`` = entry x (1 -/+ ``vol_multiple`` x
  sigma x sqrt(``horizon``)) with sigma the per-bar volatility forecast.
- **Take profit** (``take_profit_method``): ``"r_multiple"`` = entry +/- ``r_multiple`` x
  stop distance (Van Tharp's R); ``"forecast"`` = the given ``forecast_target`` price.
- **Size**: risk-based shares = floor(equity x risk_pct/100 / stop distance) (fixed
  fractional risk), then capped by the volatility budget (equity x min(max_leverage,
  target_vol / forecast_vol) / entry) and, for longs, by cash / entry. The binding cap is
  reported.
- **Volatility adjustment** = target_vol / forecast_vol (annualised, both fractions).
- **Expected max drawdown** of the position over ``horizon`` bars without a stop: Magdon-Ismail
  et al. (2004, J. Appl. Prob. 41) zero-drift result E[MDD] = sqrt(pi/2) x sigma x sqrt(T)
  for Brownian motion, times the position weight; a stop caps the loss near risk_pct except
  across gaps.
- **Kelly**: f* = p - (1 - p)/b (Kelly 1956; Thorp 2006), shown as half-Kelly capped at
  ``kelly_cap``; f* is the fraction of equity to *risk* on the trade (the loss at the stop),
  comparable to ``risk_pct``. p and b come from the user, else from the symbol's history:
  the share of past entries whose triple-barrier outcome (same stop/target in ATR units,
  ``horizon`` bars, :func:`core.targets.triple_barrier_outcome`) was positive, and their
  mean win / mean loss.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from core.data.validate import MAX_PRICE, MIN_PRICE
from core.errors import DataValidationError, InsufficientDataError
from core.market import periods_per_year, simple_returns
from core.risk.inputs import atr, forecast_sigma2
from core.risk.var import VaRRow, var_table
from core.targets import triple_barrier_outcome

MIN_BARS = 60
#: documented input ranges (the CLI, the page and the API refuse anything outside, naming
#: the range): equity and cash up to 10^12 [currency]; an entry price in the data's sane
#: range (core.data.validate MIN_PRICE..MAX_PRICE); a horizon of 1..1000 bars (about four
#: years of days: square-root-of-time VaR means little beyond); leverage up to 100
MAX_EQUITY = 1e12
MAX_HORIZON = 1000
MAX_LEVERAGE = 100.0


@dataclass
class RiskParameters:
    """Inputs of one sizing decision.

    Attributes:
        equity: account equity [currency] (> 0). cash: available cash [currency]
            (default = equity). risk_pct: loss at the stop [% of equity], e.g. 1.0.
        entry: entry price (default: last close). direction: ``long`` | ``short``.
        stop_method: ``atr`` | ``volatility``; atr_multiple, atr_window [bars];
            vol_multiple (sigmas over ``horizon``).
        take_profit_method: ``r_multiple`` | ``forecast``; r_multiple; forecast_target [price].
        horizon: holding horizon [bars] for VaR, drawdown and volatility stops.
        target_vol: annualised volatility budget [fraction], e.g. 0.15.
        max_leverage: largest position value / equity [fraction], e.g. 1.0.
        win_prob, payoff_ratio: Kelly inputs (None: estimated from history).
        win_prob_source: where a given ``win_prob`` comes from when ``payoff_ratio`` is
            estimated from history, e.g. ``"signal-quality model"`` (None: the user).
        kelly_cap: ceiling on the displayed half-Kelly risk [fraction of equity].
        var_lookback: bars of history for historical VaR (default 500, about 2 years).
    """
    equity: float
    risk_pct: float = 1.0
    cash: float | None = None
    entry: float | None = None
    direction: Literal["long", "short"] = "long"
    stop_method: Literal["atr", "volatility"] = "atr"
    atr_multiple: float = 2.0
    atr_window: int = 14
    vol_multiple: float = 2.0
    take_profit_method: Literal["r_multiple", "forecast"] = "r_multiple"
    r_multiple: float = 2.0
    forecast_target: float | None = None
    horizon: int = 10
    target_vol: float = 0.15
    max_leverage: float = 1.0
    win_prob: float | None = None
    payoff_ratio: float | None = None
    win_prob_source: str | None = None
    kelly_cap: float = 0.25
    var_lookback: int = 500

    def validate(self) -> None:
        """Raise :class:`DataValidationError` with a readable message on bad inputs."""
        numbers = {k: v for k, v in asdict(self).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        for k, v in numbers.items():
            if not math.isfinite(v):
                raise DataValidationError(f"{k} must be a finite number (got {v}).")
        checks = [
            (0 < self.equity <= MAX_EQUITY,
             f"Equity must be in (0, {MAX_EQUITY:g}] [currency]; got {self.equity:g}."),
            (self.cash is None or 0 <= self.cash <= MAX_EQUITY,
             f"Cash must be in [0, {MAX_EQUITY:g}] [currency]."),
            (0 < self.risk_pct <= 100, "Risk per trade must be in (0, 100] % of equity."),
            (self.entry is None or MIN_PRICE <= self.entry <= MAX_PRICE,
             f"Entry price must be in [{MIN_PRICE:g}, {MAX_PRICE:g}]; got "
             f"{self.entry if self.entry is None else f'{self.entry:g}'}."),
            (1 <= self.horizon <= MAX_HORIZON,
             f"Horizon must be in [1, {MAX_HORIZON}] bars; got {self.horizon}."),
            (self.max_leverage <= MAX_LEVERAGE,
             f"Max leverage must be at most {MAX_LEVERAGE:g}."),
            (self.direction in ("long", "short"), "Direction must be long or short."),
            (self.stop_method in ("atr", "volatility"), "Stop method must be atr or volatility."),
            (self.take_profit_method in ("r_multiple", "forecast"),
             "Take-profit method must be r_multiple or forecast."),
            (self.atr_multiple > 0 and self.vol_multiple > 0 and self.r_multiple > 0,
             "Stop and R multiples must be positive."),
            (self.atr_window >= 2 and self.horizon >= 1, "ATR window >= 2 and horizon >= 1 bar."),
            (self.target_vol > 0 and self.max_leverage > 0,
             "Target volatility and max leverage must be positive."),
            (self.win_prob is None or 0 < self.win_prob < 1, "Win probability must be in (0, 1)."),
            (self.payoff_ratio is None or self.payoff_ratio > 0, "Payoff ratio must be positive."),
        ]
        for ok, msg in checks:
            if not ok:
                raise DataValidationError(msg)


@dataclass
class SizingResult:
    """Outputs of :func:`size_position`; units in the attribute names/comments.

    shares: recommended whole shares (>= 0; direction given separately).
    position_value [currency], position_pct_equity [% equity].
    stop_price, take_profit [price]; stop_distance [price per share];
    risk_amount [currency] = shares x stop distance; risk_pct_actual [% equity].
    reward_risk: take-profit distance / stop distance.
    vol_forecast_ann [fraction, annualised]; vol_adjustment = target_vol / vol_forecast_ann.
    binding: which cap set the size (``risk``, ``volatility``, ``cash``).
    expected_max_drawdown_pct [% equity] over ``horizon`` bars without a stop.
    kelly_full, kelly_half_capped [fraction of equity to risk]; kelly_source (text).
    win_prob, payoff_ratio: the Kelly inputs used.
    var: VaR/CVaR rows (fractions of position value). notes: sentences for the user.
    """
    symbol: str
    direction: str
    entry: float
    shares: int
    position_value: float
    position_pct_equity: float
    stop_price: float
    stop_distance: float
    stop_rule: str
    take_profit: float
    take_profit_rule: str
    risk_amount: float
    risk_pct_actual: float
    reward_risk: float
    vol_forecast_ann: float
    vol_source: str
    vol_adjustment: float
    binding: str
    expected_max_drawdown_pct: float
    kelly_full: float
    kelly_half_capped: float
    kelly_source: str
    win_prob: float
    payoff_ratio: float
    horizon: int
    var: list[VaRRow] = field(default_factory=list)
    correlation_risk: float = float("nan")
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["var"] = [asdict(r) for r in self.var]
        return d


def kelly_fraction(win_prob: float, payoff_ratio: float) -> float:
    """Full Kelly ``p - (1 - p) / b`` (may be negative: no edge). Kelly (1956)."""
    if not 0 < win_prob < 1 or payoff_ratio <= 0:
        raise DataValidationError("Kelly needs 0 < p < 1 and payoff ratio b > 0.")
    return float(win_prob - (1 - win_prob) / payoff_ratio)


def half_kelly(win_prob: float, payoff_ratio: float, cap: float = 0.25) -> float:
    """``clip(kelly / 2, 0, cap)`` [fraction of equity to risk]."""
    return float(min(max(kelly_fraction(win_prob, payoff_ratio) / 2, 0.0), cap))


def stop_and_target(entry: float, direction: str, stop_distance: float, r_multiple: float,
                    forecast_target: float | None = None) -> tuple[float, float]:
    """(stop price, take-profit price) for a stop distance [price] and an R multiple."""
    sgn = 1.0 if direction == "long" else -1.0
    stop = entry - sgn * stop_distance
    tp = forecast_target if forecast_target is not None else entry + sgn * r_multiple * stop_distance
    return float(stop), float(tp)


def risk_shares(equity: float, risk_pct: float, stop_distance: float) -> int:
    """Fixed-fractional size: ``floor(equity * risk_pct / 100 / stop_distance)`` shares."""
    if stop_distance <= 0:
        raise DataValidationError("Stop distance must be positive.")
    return int(math.floor(equity * risk_pct / 100.0 / stop_distance + 1e-9))


def expected_max_drawdown(sigma_per_bar: float, bars: int) -> float:
    """Zero-drift expected maximum drawdown sqrt(pi/2) sigma sqrt(T) [fraction].

    Magdon-Ismail, Atiya, Pratap & Abu-Mostafa (2004), "On the maximum drawdown of a
    Brownian motion", J. Appl. Probab. 41(1). Conservative when the drift is positive.
    """
    return float(math.sqrt(math.pi / 2) * sigma_per_bar * math.sqrt(bars))


def historical_trade_stats(frame: pd.DataFrame, direction: str, atr_multiple: float,
                           r_multiple: float, horizon: int, atr_window: int = 14
                           ) -> tuple[float, float, int]:
    """Win rate and payoff ratio of past entries with the same rule (for Kelly's inputs).

    Every bar is an entry; outcome from :func:`core.targets.triple_barrier_outcome`.
    Returns (p, b, n): share of positive outcomes, mean win / mean loss, trades counted.
    """
    a = atr(frame, atr_window)
    out = triple_barrier_outcome(frame, a * atr_multiple, a * atr_multiple * r_multiple,
                                 horizon, 1 if direction == "long" else -1).dropna()
    if len(out) < 30:
        return float("nan"), float("nan"), len(out)
    wins, losses = out[out > 0], -out[out < 0]
    p = float((out > 0).mean())
    b = float(wins.mean() / losses.mean()) if len(wins) and len(losses) else float("nan")
    return p, b, len(out)


def default_entry(frame: pd.DataFrame) -> float:
    """The calculator's starting entry price: the last close, rounded to 4 decimals."""
    return round(float(frame["close"].iloc[-1]), 4)


def default_target(frame: pd.DataFrame, direction: str = "long") -> float:
    """The calculator's starting forecast target: 5% beyond the last close on the profit
    side of ``direction`` (x 1.05 long, x 0.95 short), rounded to 4 decimals."""
    return round(float(frame["close"].iloc[-1]) * (1.05 if direction == "long" else 0.95), 4)


def size_position(frame: pd.DataFrame, params: RiskParameters, symbol: str = "",
                  interval: str = "1d") -> SizingResult:
    """Size one trade on the last bar of ``frame``.

    Args:
        frame: validated OHLCV (>= 60 bars); only bars <= the last one are used.
        params: :class:`RiskParameters`.
    Returns:
        :class:`SizingResult`.
    Raises:
        DataValidationError: bad parameters (e.g. a stop on the wrong side).
        InsufficientDataError: fewer than 60 bars.
    """
    params.validate()
    if len(frame) < MIN_BARS:
        raise InsufficientDataError(f"Sizing needs at least {MIN_BARS} bars, got {len(frame)}.")
    ppy = periods_per_year(interval)
    entry = float(params.entry if params.entry is not None else frame["close"].iloc[-1])
    cash = float(params.cash if params.cash is not None else params.equity)
    sgn = 1.0 if params.direction == "long" else -1.0
    notes: list[str] = []

    sigma2, vol_source = forecast_sigma2(frame, 1)
    sigma = math.sqrt(sigma2)
    vol_ann = sigma * math.sqrt(ppy)

    if params.stop_method == "atr":
        a = float(atr(frame, params.atr_window).iloc[-1])
        dist = params.atr_multiple * a
        stop_rule = f"{params.atr_multiple:g} x ATR({params.atr_window}) = {dist:.4g}"
    else:
        dist = entry * params.vol_multiple * sigma * math.sqrt(params.horizon)
        stop_rule = (f"{params.vol_multiple:g} sigma over {params.horizon} bars "
                     f"({vol_source}) = {dist:.4g}")
    if not dist > 0 or dist >= entry and params.direction == "long":
        raise DataValidationError(f"Stop distance {dist:.4g} is not usable for entry {entry:.4g}.")
    target = params.forecast_target if params.take_profit_method == "forecast" else None
    if params.take_profit_method == "forecast":
        if target is None:
            raise DataValidationError("Enter a forecast target price or use the R-multiple rule.")
        if (target - entry) * sgn <= 0:
            raise DataValidationError(
                f"The forecast target {target:.4g} is not on the profit side of entry {entry:.4g} "
                f"for a {params.direction} trade.")
    stop, tp = stop_and_target(entry, params.direction, dist, params.r_multiple, target)
    tp_rule = (f"{params.r_multiple:g} R" if target is None else "forecast target")

    n_risk = risk_shares(params.equity, params.risk_pct, dist)
    vol_adj = params.target_vol / vol_ann if vol_ann > 0 else float("inf")
    n_vol = int(math.floor(params.equity * min(params.max_leverage, vol_adj) / entry + 1e-9))
    caps = {"risk": n_risk, "volatility": n_vol}
    if params.direction == "long":
        caps["cash"] = int(math.floor(cash / entry + 1e-9))
    binding = min(caps, key=caps.get)
    shares = max(int(caps[binding]), 0)
    if binding != "risk":
        notes.append(f"Size capped by the {binding} limit ({caps[binding]} shares) below the "
                     f"risk-based {n_risk} shares.")
    value = shares * entry
    w = value / params.equity

    rets = simple_returns(frame["close"]).dropna().tail(params.var_lookback)
    rows = var_table(sgn * rets.to_numpy(), params.horizon, sigma=sigma, mu=0.0,
                     cap=1.0 if params.direction == "long" else None)

    if params.win_prob is not None and params.payoff_ratio is not None:
        p, b, src = params.win_prob, params.payoff_ratio, "user input"
    else:
        p_h, b_h, n = historical_trade_stats(frame, params.direction, params.atr_multiple,
                                             params.r_multiple, params.horizon, params.atr_window)
        p = params.win_prob if params.win_prob is not None else p_h
        b = params.payoff_ratio if params.payoff_ratio is not None else b_h
        src = (f"history of {symbol or 'this symbol'}: {n} past entries with the same "
               f"{params.atr_multiple:g} ATR stop / {params.r_multiple:g} R target / "
               f"{params.horizon}-bar exit (triple barrier)")
        if params.win_prob is not None and params.win_prob_source and params.payoff_ratio is None:
            src = f"{params.win_prob_source} p; history b"
        elif params.win_prob is not None or params.payoff_ratio is not None:
            src = "user input + " + src
    if np.isfinite(p) and np.isfinite(b) and 0 < p < 1 and b > 0:
        kf = kelly_fraction(p, b)
        kh = half_kelly(p, b, params.kelly_cap)
        if kf <= 0:
            notes.append("Kelly fraction is <= 0: the inputs show no edge; Kelly says do not trade.")
        elif params.risk_pct / 100 > kh:
            notes.append(f"Risk per trade {params.risk_pct:g}% exceeds capped half-Kelly "
                         f"{kh * 100:.2f}%.")
    else:
        kf = kh = float("nan")
        notes.append("Not enough history to estimate Kelly inputs; enter them by hand.")

    return SizingResult(
        symbol=symbol, direction=params.direction, entry=entry, shares=shares,
        position_value=value, position_pct_equity=w * 100, stop_price=stop,
        stop_distance=dist, stop_rule=stop_rule, take_profit=tp, take_profit_rule=tp_rule,
        risk_amount=shares * dist, risk_pct_actual=shares * dist / params.equity * 100,
        reward_risk=abs(tp - entry) / dist, vol_forecast_ann=vol_ann, vol_source=vol_source,
        vol_adjustment=vol_adj, binding=binding,
        expected_max_drawdown_pct=w * expected_max_drawdown(sigma, params.horizon) * 100,
        kelly_full=kf, kelly_half_capped=kh, kelly_source=src, win_prob=float(p),
        payoff_ratio=float(b), horizon=params.horizon, var=rows, notes=notes,
    )


def summary_frame(res: SizingResult, equity: float) -> pd.DataFrame:
    """Every sizing output as (Output, Value, Unit) rows for display."""
    rows = [
        ("Position", res.position_pct_equity, "% equity"),
        ("Position", res.shares, "shares"),
        ("Position value", res.position_value, "currency"),
        ("Entry", res.entry, "price"),
        ("Stop loss", res.stop_price, f"price ({res.stop_rule})"),
        ("Take profit", res.take_profit, f"price ({res.take_profit_rule})"),
        ("Reward / risk", res.reward_risk, "R"),
        ("Risk at stop", res.risk_amount, "currency"),
        ("Risk at stop", res.risk_pct_actual, "% equity"),
        ("Volatility forecast", res.vol_forecast_ann * 100, f"% ann. ({res.vol_source})"),
        ("Volatility adjustment", res.vol_adjustment, "x (target vol / forecast vol)"),
        ("Binding limit", res.binding, ""),
        ("Expected max drawdown (no stop)", res.expected_max_drawdown_pct,
         f"% equity over {res.horizon} bars"),
        ("Correlation with portfolio", res.correlation_risk, "Pearson, daily returns"),
        ("Kelly fraction (full)", res.kelly_full * 100, "% equity risked"),
        ("Half-Kelly (capped)", res.kelly_half_capped * 100, "% equity risked"),
        ("Win probability p", res.win_prob * 100, "% (" + res.kelly_source + ")"),
        ("Payoff ratio b", res.payoff_ratio, "avg win / avg loss"),
    ]
    def fmt(v) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, (int, np.integer)):
            return f"{v:,d}"
        return "n/a" if not np.isfinite(v) else f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.2f}"

    return pd.DataFrame([(o, fmt(v), u) for o, v, u in rows], columns=["Output", "Value", "Unit"])
