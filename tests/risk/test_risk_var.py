import numpy as np
import pytest

from core.errors import InsufficientDataError
from core.risk.var import (historical_cvar, historical_var, horizon_returns, parametric_cvar,
                           parametric_var, var_table)

R = np.round(np.linspace(-0.05, 0.049, 100), 6)  # -5.0% .. +4.9% in 0.1% steps


def test_historical_var_cvar_by_hand():
    # losses sorted ascending: -0.049 ... 0.050; ceil(0.95*100) = 95th smallest = 0.045
    assert historical_var(R, 0.95) == pytest.approx(0.045)
    # tail losses >= 0.045: 0.045, 0.046, ..., 0.050 -> mean 0.0475
    assert historical_cvar(R, 0.95) == pytest.approx(0.0475)
    # 99%: 99th smallest = 0.049, tail {0.049, 0.050}
    assert historical_var(R, 0.99) == pytest.approx(0.049)
    assert historical_cvar(R, 0.99) == pytest.approx(0.0495)


def test_historical_ignores_order_and_nan():
    rng = np.random.default_rng(1)
    shuffled = rng.permutation(np.append(R, np.nan))
    assert historical_var(shuffled, 0.95) == pytest.approx(0.045)


def test_parametric_by_hand():
    # z95 = 1.644854, phi(z95) = 0.103136
    assert parametric_var(0.0, 0.02, 0.95) == pytest.approx(0.02 * 1.644854, rel=1e-5)
    assert parametric_cvar(0.0, 0.02, 0.95) == pytest.approx(0.02 * 0.103136 / 0.05, rel=1e-4)
    # 4 bars: sqrt(4) = 2 times sigma, mean scales by 4
    assert parametric_var(0.001, 0.02, 0.99, 4) == pytest.approx(-0.004 + 2.326348 * 0.04,
                                                                 rel=1e-5)
    assert parametric_cvar(0.0, 0.02, 0.99) > parametric_var(0.0, 0.02, 0.99)


def test_horizon_returns_compound():
    r = np.array([0.1, -0.1, 0.05] * 20)
    h = horizon_returns(r, 2)
    assert len(h) == len(r) - 1
    assert h[0] == pytest.approx(1.1 * 0.9 - 1)
    assert h[1] == pytest.approx(0.9 * 1.05 - 1)


def test_var_table_rows_and_errors():
    rows = var_table(R, horizon=5, sigma=0.02)
    assert {(r.method, r.horizon, r.level) for r in rows} == {
        (m, h, lv) for m in ("historical", "parametric") for h in (1, 5) for lv in (0.95, 0.99)}
    assert all(r.cvar >= r.var for r in rows)
    with pytest.raises(InsufficientDataError):
        historical_var(R[:10])
    with pytest.raises(ValueError):
        historical_var(R, 1.5)
