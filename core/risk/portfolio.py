"""Portfolio holdings, weights, correlation, portfolio VaR/CVaR and Euler risk contributions.

Holdings are a table ``symbol, shares, entry`` (shares signed: negative = short; entry in
price units). Weights are position value / equity (fractions, signed). Returns are simple
per-bar returns aligned on common bars (inner join).

Risk decomposition (Euler allocation; Tasche 1999, Roncalli *Introduction to Risk Parity and
Budgeting* 2013, ch. 2): parametric ``RC_i = w_i (Sigma w)_i / sigma_p * z`` sums to the
Gaussian portfolio VaR; historical component CVaR ``CC_i = -E[w_i r_i | L_p >= VaR_p]`` sums
to the historical portfolio CVaR.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from core.display import csv_export
from core.errors import DataValidationError, InsufficientDataError
from core.risk.var import historical_cvar, historical_var, parametric_cvar, parametric_var

HOLDING_COLUMNS = ("symbol", "shares", "entry")
MIN_COMMON_BARS = 60


def empty_holdings() -> pd.DataFrame:
    """An empty holdings table with the right columns and dtypes."""
    return pd.DataFrame({"symbol": pd.Series(dtype="object"),
                         "shares": pd.Series(dtype="float64"),
                         "entry": pd.Series(dtype="float64")})


def parse_holdings(data) -> pd.DataFrame:
    """Validate a holdings table from a DataFrame, CSV bytes/str or path.

    Columns (case-insensitive): ``symbol``, ``shares`` (signed, units), ``entry`` (price,
    optional: blank = unknown). Blank rows are dropped; the same symbol on several rows is
    kept (summed later).

    Returns:
        DataFrame ``symbol`` (upper-case str), ``shares`` float64, ``entry`` float64 (NaN ok).
    Raises:
        DataValidationError: missing columns, non-numeric shares/entry, non-positive entry.
    """
    if isinstance(data, pd.DataFrame):
        df = data.copy()
    else:
        try:
            if isinstance(data, (bytes, bytearray)):
                df = pd.read_csv(io.BytesIO(data))
            elif isinstance(data, str) and "\n" in data:
                df = pd.read_csv(io.StringIO(data))
            else:
                df = pd.read_csv(data)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise DataValidationError(f"Could not read the portfolio CSV ({err}). Expected "
                                      "columns symbol, shares, entry.") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("symbol", "shares") if c not in df.columns]
    if missing:
        raise DataValidationError(f"Portfolio table lacks column(s) {', '.join(missing)}; "
                                  "expected symbol, shares, entry.")
    if "entry" not in df.columns:
        df["entry"] = np.nan
    df = df[list(HOLDING_COLUMNS)]
    df = df[df["symbol"].notna() & (df["symbol"].astype(str).str.strip() != "")]
    df["symbol"] = df["symbol"].astype(str).str.strip().str.upper()
    for col in ("shares", "entry"):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = df[col].notna() & num.isna()
        if bad.any():
            raise DataValidationError(f"Portfolio column '{col}' has non-numeric values in "
                                      f"row(s) {list(df.index[bad][:5])}.")
        df[col] = num.astype("float64")
    if df["shares"].isna().any():
        raise DataValidationError("Every portfolio row needs a number of shares.")
    if (df["entry"].dropna() <= 0).any():
        raise DataValidationError("Entry prices must be positive.")
    return df.reset_index(drop=True)


def holdings_to_csv(holdings: pd.DataFrame) -> bytes:
    """Holdings as CSV bytes (``symbol,shares,entry``) for download."""
    return csv_export(parse_holdings(holdings))


def aligned_returns(closes: dict[str, pd.Series], lookback: int | None = 500) -> pd.DataFrame:
    """Simple returns of several symbols on their common bars, last ``lookback`` bars.

    Args:
        closes: symbol -> close prices (DatetimeIndex).
    Returns:
        DataFrame (bars x symbols) of simple returns [fraction], no NaN.
    Raises:
        InsufficientDataError: fewer than 60 common bars (the histories barely overlap).
    """
    if not closes:
        raise InsufficientDataError("No price histories given.")
    px = pd.concat({s: c.astype("float64") for s, c in closes.items()}, axis=1, join="inner")
    rets = px.pct_change().iloc[1:].dropna()
    if lookback:
        rets = rets.tail(lookback)
    if len(rets) < MIN_COMMON_BARS:
        raise InsufficientDataError(
            f"Only {len(rets)} common bars for {', '.join(closes)} (need {MIN_COMMON_BARS}); "
            "their histories barely overlap. Pick symbols with overlapping dates.")
    return rets


def position_values(holdings: pd.DataFrame, prices: dict[str, float]) -> pd.Series:
    """Signed market value per symbol = sum(shares) * last price [currency]."""
    h = parse_holdings(holdings)
    missing = sorted(set(h["symbol"]) - set(prices))
    if missing:
        raise DataValidationError(f"No price for {', '.join(missing)}.")
    shares = h.groupby("symbol", sort=False)["shares"].sum()
    return pd.Series({s: float(n) * float(prices[s]) for s, n in shares.items()}, name="value")


def weights(values: pd.Series, equity: float) -> pd.Series:
    """Position value / equity (signed fractions)."""
    if not equity or equity <= 0:
        raise DataValidationError("Equity must be positive.")
    return (values / float(equity)).rename("weight")


def portfolio_returns(returns: pd.DataFrame, w: pd.Series) -> pd.Series:
    """Per-bar portfolio return on equity ``sum_i w_i r_i`` (constant weights)."""
    cols = [c for c in w.index if c in returns.columns]
    return (returns[cols] * w[cols].to_numpy()).sum(axis=1).rename("portfolio")


def correlation_risk(symbol_returns: pd.Series, portfolio_rets: pd.Series) -> float:
    """Pearson correlation of a symbol's returns with the portfolio's returns (common bars).

    Returns NaN when the portfolio has no variance (empty) or fewer than 60 common bars.
    A value near +1 means the new position adds to the risk the portfolio already has.
    """
    df = pd.concat([symbol_returns, portfolio_rets], axis=1, join="inner").dropna()
    if len(df) < MIN_COMMON_BARS or df.iloc[:, 1].std() == 0 or df.iloc[:, 0].std() == 0:
        return float("nan")
    return float(df.iloc[:, 0].corr(df.iloc[:, 1]))


@dataclass
class PortfolioRisk:
    """Portfolio risk at one confidence level; losses as positive fractions of equity.

    Attributes:
        weights: signed weights (fraction of equity) per symbol.
        ann_vol: annualised volatility of portfolio returns [fraction].
        var_hist, cvar_hist, var_param, cvar_param: 1-bar losses [fraction of equity].
        contrib_var_param: Euler contribution per symbol to the parametric VaR (sums to it).
        contrib_cvar_hist: component historical CVaR per symbol (sums to ``cvar_hist``).
        correlation: correlation matrix of symbol returns.
        level: confidence; bars: number of return bars used.
    """

    weights: pd.Series
    ann_vol: float
    var_hist: float
    cvar_hist: float
    var_param: float
    cvar_param: float
    contrib_var_param: pd.Series
    contrib_cvar_hist: pd.Series
    correlation: pd.DataFrame
    level: float
    bars: int

    def contributions_frame(self) -> pd.DataFrame:
        """Display table: weight, Euler VaR contribution and its share, component CVaR."""
        tot = self.var_param if self.var_param else np.nan
        return pd.DataFrame({
            "Weight [% equity]": self.weights * 100,
            "VaR contribution [% equity]": self.contrib_var_param * 100,
            "Share of VaR [%]": self.contrib_var_param / tot * 100,
            "CVaR contribution [% equity]": self.contrib_cvar_hist * 100,
        })


def portfolio_risk(returns: pd.DataFrame, w: pd.Series, level: float = 0.95,
                   periods_per_year: int = 252) -> PortfolioRisk:
    """Historical and Gaussian VaR/CVaR of a constant-weight portfolio and Euler contributions.

    Args:
        returns: bars x symbols simple returns (see :func:`aligned_returns`).
        w: signed weights [fraction of equity] indexed by symbol (symbols absent from
            ``returns`` raise).
        level: confidence (0.95, 0.99).
    Raises:
        DataValidationError: a weighted symbol has no returns, or all weights are zero.
    """
    w = w[w != 0]
    missing = sorted(set(w.index) - set(returns.columns))
    if missing:
        raise DataValidationError(f"No return history for {', '.join(missing)}.")
    if w.empty:
        raise DataValidationError("The portfolio is empty (all weights are zero).")
    R = returns[list(w.index)]
    wv = w.to_numpy("float64")
    rp = R.to_numpy() @ wv
    cov = np.cov(R.to_numpy(), rowvar=False, ddof=1).reshape(len(wv), len(wv))
    mu = R.mean().to_numpy()
    sig_p = float(np.sqrt(wv @ cov @ wv))
    z = norm.ppf(level)
    mrc = cov @ wv / sig_p if sig_p > 0 else np.zeros_like(wv)
    # Euler on VaR = -mu_p + z sigma_p: RC_i = w_i (-mu_i + z (Sigma w)_i / sigma_p)
    contrib = wv * (-mu + z * mrc)
    var_h = historical_var(rp, level)
    tail = -rp >= var_h
    comp_cvar = -(R.to_numpy()[tail] * wv).mean(axis=0)
    return PortfolioRisk(
        weights=w.astype("float64"),
        ann_vol=float(np.std(rp, ddof=1) * np.sqrt(periods_per_year)),
        var_hist=var_h, cvar_hist=historical_cvar(rp, level),
        var_param=parametric_var(float(rp.mean()), sig_p, level),
        cvar_param=parametric_cvar(float(rp.mean()), sig_p, level),
        contrib_var_param=pd.Series(contrib, index=w.index),
        contrib_cvar_hist=pd.Series(comp_cvar, index=w.index),
        correlation=R.corr(), level=level, bars=len(R),
    )


def marginal_effect(returns: pd.DataFrame, w_before: pd.Series, symbol: str, weight: float,
                    level: float = 0.95, periods_per_year: int = 252) -> dict:
    """Portfolio risk before and after adding ``weight`` (fraction of equity) of ``symbol``.

    Returns:
        dict with ``var_before``, ``var_after``, ``cvar_before``, ``cvar_after`` (historical,
        fraction of equity), ``vol_before``, ``vol_after`` (annualised fraction) and the
        ``delta_*`` differences. An empty portfolio has zero risk before.
    """
    w_after = w_before.copy().astype("float64")
    w_after.loc[symbol] = float(w_after.get(symbol, 0.0)) + float(weight)
    before = (portfolio_risk(returns, w_before, level, periods_per_year)
              if (w_before != 0).any() else None)
    after = portfolio_risk(returns, w_after, level, periods_per_year)
    out = {
        "var_before": before.var_hist if before else 0.0, "var_after": after.var_hist,
        "cvar_before": before.cvar_hist if before else 0.0, "cvar_after": after.cvar_hist,
        "vol_before": before.ann_vol if before else 0.0, "vol_after": after.ann_vol,
    }
    for k in ("var", "cvar", "vol"):
        out[f"delta_{k}"] = out[f"{k}_after"] - out[f"{k}_before"]
    return out
