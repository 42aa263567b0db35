"""GARCH recovery on SIMULATED series (arch's simulate), JSON round trips, HAR/ML basics."""

import numpy as np
import pandas as pd
import pytest

from core.errors import InsufficientDataError, NotTrainedError
from core.volatility.garch import GarchForecaster, horizon_sum


def _simulated(kind: str, params, n=4000, seed=11) -> pd.Series:
    """A SIMULATED GARCH path (percent units in arch) as fraction log returns."""
    from arch.univariate import GARCH, Normal, StudentsT, ZeroMean

    o = 1 if kind == "gjr" else 0
    dist = StudentsT(seed=seed) if kind == "gjr" else Normal(seed=seed)
    am = ZeroMean(None, volatility=GARCH(p=1, o=o, q=1), distribution=dist)
    sim = am.simulate(params, nobs=n, burn=500)
    idx = pd.bdate_range("2000-01-03", periods=n, tz="UTC", name="timestamp")
    return pd.Series(sim["data"].to_numpy() / 100.0, index=idx, name="log_return")


def test_garch11_recovers_simulated_parameters():
    true = {"omega": 0.05, "alpha[1]": 0.08, "beta[1]": 0.90}
    r = _simulated("garch", list(true.values()))
    p = GarchForecaster("garch").fit(r).params_
    assert p["alpha[1]"] == pytest.approx(true["alpha[1]"], abs=0.03)
    assert p["beta[1]"] == pytest.approx(true["beta[1]"], abs=0.04)
    assert p["omega"] == pytest.approx(true["omega"], rel=0.6)
    assert p["alpha[1]"] + p["beta[1]"] == pytest.approx(0.98, abs=0.02)


def test_gjr_t_recovers_simulated_parameters():
    true = [0.03, 0.02, 0.12, 0.88, 8.0]  # omega alpha gamma beta nu
    r = _simulated("gjr", true, n=5000, seed=3)
    p = GarchForecaster("gjr").fit(r).params_
    assert p["gamma[1]"] == pytest.approx(0.12, abs=0.05)
    assert p["beta[1]"] == pytest.approx(0.88, abs=0.04)
    assert p["alpha[1]"] == pytest.approx(0.02, abs=0.03)
    assert 5.0 < p["nu"] < 14.0


def test_closed_form_matches_arch_analytic_forecast():
    from arch import arch_model

    r = _simulated("gjr", [0.03, 0.02, 0.12, 0.88, 8.0], n=1500, seed=5)
    m = GarchForecaster("gjr").fit(r)
    am = arch_model(r * 100, mean="Zero", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False)
    res = am.fix(pd.Series(m.params_)[m._names()].to_numpy())
    ref = res.forecast(horizon=21, reindex=False).variance.iloc[-1].to_numpy() / 1e4
    for h in (1, 5, 21):
        assert m.forecast(r, h) == pytest.approx(ref[:h].sum(), rel=1e-8)


def test_json_round_trip_gives_identical_forecasts():
    r = _simulated("garch", [0.05, 0.08, 0.90], n=1200, seed=2)
    for kind in ("garch", "gjr"):
        m = GarchForecaster(kind).fit(r)
        back = GarchForecaster.from_json(m.to_json())
        for h in (1, 5, 21):
            assert back.forecast(r, h) == m.forecast(r, h)
    with pytest.raises(ValueError, match="unsupported"):
        GarchForecaster.from_dict({"kind": "gjr", "spec": {"vol": "EGARCH"}, "params": {}})


def test_not_fitted_and_short_input():
    with pytest.raises(NotTrainedError):
        GarchForecaster("gjr").forecast(pd.Series([0.01] * 300), 1)
    with pytest.raises(InsufficientDataError, match="at least 250"):
        GarchForecaster("garch").fit(pd.Series(np.zeros(50)))
    with pytest.raises(ValueError):
        GarchForecaster("egarch")


def test_horizon_sum_stationary_limit():
    # far horizon: average per-bar variance tends to omega / (1 - phi)
    tot = horizon_sum(np.array([4.0]), omega=0.1, phi=0.9, horizon=20000)
    assert tot[0] / 20000 == pytest.approx(1.0, rel=0.01)
    assert horizon_sum(np.array([2.0]), 0.1, 0.9, 2)[0] == pytest.approx(2.0 + 0.1 + 0.9 * 2.0)


def test_har_round_trip_and_no_lookahead(synthetic_ohlcv):
    from core.volatility.har import HARForecaster

    f = synthetic_ohlcv(600, seed=4)  # synthetic series
    m = HARForecaster(5).fit(f)
    back = HARForecaster.from_dict(m.to_dict())
    pd.testing.assert_series_equal(back.predict_path(f), m.predict_path(f))
    # a forecast at bar t does not change when later bars change
    g = f.copy()
    g.iloc[500:, :4] *= 1.5
    assert m.predict_path(g).iloc[499] == m.predict_path(f).iloc[499]
    assert (m.predict_path(f).dropna() > 0).all()
    with pytest.raises(NotTrainedError):
        HARForecaster(1).predict_path(f)


def test_ml_files_round_trip(synthetic_ohlcv):
    from core.targets import forward_realized_var
    from core.volatility.api import base_paths
    from core.volatility.ml import MLForecaster, ml_features

    f = synthetic_ohlcv(900, seed=8)  # synthetic series
    base = base_paths(f, 5)
    x = ml_features(f, base, 5)
    y = forward_realized_var(f["close"], 5)
    m = MLForecaster(5, rounds=20).fit(x, y, base["gjr"])
    back = MLForecaster.from_files(m.to_files("ml-test-h5"), "ml-test-h5", 5)
    a, b = m.predict(x.tail(50), base["gjr"].tail(50)), back.predict(x.tail(50), base["gjr"].tail(50))
    pd.testing.assert_frame_equal(a, b)
    assert (a["ml-lo-80"] <= a["ml-hi-80"]).all() and (a["ml"] > 0).all()
    with pytest.raises(NotTrainedError):
        MLForecaster(5).predict(x, base["gjr"])
