import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError, InsufficientDataError
from core.risk.portfolio import (aligned_returns, correlation_risk, holdings_to_csv,
                                 marginal_effect, parse_holdings, portfolio_returns,
                                 portfolio_risk, position_values, weights)

IDX = pd.bdate_range("2021-01-01", periods=800, tz="UTC")


def synthetic_returns(seed=0):
    """SYNTHETIC independent daily returns for tests only."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"AAA": rng.normal(0, 0.01, 800), "BBB": rng.normal(0, 0.01, 800),
                         "CCC": rng.normal(0, 0.02, 800)}, index=IDX)


def test_correlation_risk_constructed_portfolios():
    R = synthetic_returns()
    x = R["AAA"]
    assert correlation_risk(x, portfolio_returns(R, pd.Series({"AAA": 0.5}))) == pytest.approx(1)
    assert correlation_risk(x, portfolio_returns(R, pd.Series({"AAA": -0.3}))) == pytest.approx(-1)
    assert abs(correlation_risk(x, portfolio_returns(R, pd.Series({"BBB": 1.0})))) < 0.1
    # equal weights of x and an independent same-vol series -> 1/sqrt(2)
    half = correlation_risk(x, portfolio_returns(R, pd.Series({"AAA": 0.5, "BBB": 0.5})))
    assert half == pytest.approx(1 / np.sqrt(2), abs=0.05)
    assert np.isnan(correlation_risk(x, pd.Series(0.0, index=IDX)))


def test_euler_contributions_sum_and_independence():
    R = synthetic_returns(1)
    w = pd.Series({"AAA": 0.4, "BBB": 0.4, "CCC": 0.2})
    pr = portfolio_risk(R, w, 0.95)
    assert pr.contrib_var_param.sum() == pytest.approx(pr.var_param, rel=1e-9)
    assert pr.contrib_cvar_hist.sum() == pytest.approx(pr.cvar_hist, rel=1e-9)
    # near-independent assets: contributions ~ w_i^2 sigma_i^2 -> AAA ~ BBB ~ CCC (0.2*0.02)^2
    shares = pr.contrib_var_param / pr.var_param
    assert shares.to_numpy() == pytest.approx([1 / 3] * 3, abs=0.08)
    assert pr.correlation.shape == (3, 3)


def test_marginal_effect_and_empty_portfolio():
    R = synthetic_returns(2)
    m = marginal_effect(R, pd.Series({"AAA": 0.5}), "AAA", 0.5)
    assert m["var_after"] == pytest.approx(2 * m["var_before"])  # same asset, doubled weight
    m0 = marginal_effect(R, pd.Series(dtype=float), "BBB", 0.3)
    assert m0["var_before"] == 0 and m0["delta_var"] == m0["var_after"] > 0


def test_holdings_parse_roundtrip_and_errors():
    csv = b"Symbol,Shares,Entry\nmsft,10,25.5\nIBM,-5,\n\n"
    h = parse_holdings(csv)
    assert list(h["symbol"]) == ["MSFT", "IBM"] and h["shares"].tolist() == [10, -5]
    assert parse_holdings(holdings_to_csv(h)).equals(h)
    vals = position_values(h, {"MSFT": 30.0, "IBM": 100.0})
    assert weights(vals, 1000).to_dict() == {"MSFT": 0.3, "IBM": -0.5}
    with pytest.raises(DataValidationError, match="lacks column"):
        parse_holdings(b"ticker,qty\nA,1\n")
    with pytest.raises(DataValidationError, match="non-numeric"):
        parse_holdings(b"symbol,shares\nA,abc\n")
    with pytest.raises(DataValidationError, match="No price"):
        position_values(h, {"MSFT": 1.0})


def test_aligned_returns_needs_overlap():
    a = pd.Series(np.linspace(1, 2, 100), index=IDX[:100])
    b = pd.Series(np.linspace(1, 2, 100), index=IDX[90:190])
    with pytest.raises(InsufficientDataError, match="overlap"):
        aligned_returns({"A": a, "B": b})
