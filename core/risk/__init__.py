"""Risk and position sizing: per-trade sizing, VaR/CVaR, portfolio risk, sizing policies
(fixed, volatility targeting, DQN), signal-quality scorer and the walk-forward backtest.

Heavy pieces (torch DQN, scikit-learn scorer) live in their own modules and are imported
lazily by callers.
"""

from core.risk.backtest import BacktestResult, backtest, compare
from core.risk.policies import fixed_exposure, vol_target_exposure
from core.risk.portfolio import (aligned_returns, correlation_risk, marginal_effect,
                                 parse_holdings, portfolio_risk, portfolio_returns)
from core.risk.sizing import RiskParameters, SizingResult, size_position
from core.risk.var import historical_cvar, historical_var, parametric_cvar, parametric_var

__all__ = [
    "BacktestResult", "RiskParameters", "SizingResult", "aligned_returns", "backtest",
    "compare", "correlation_risk", "fixed_exposure", "historical_cvar", "historical_var",
    "marginal_effect", "parametric_cvar", "parametric_var", "parse_holdings",
    "portfolio_returns", "portfolio_risk", "size_position", "vol_target_exposure",
]
