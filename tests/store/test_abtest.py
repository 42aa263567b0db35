import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.panel.abtest import (
    CHALLENGER, compare, diebold_mariano, route, running_ab_test, start_ab_test, stop_ab_test,
    two_proportion_z,
)
from core.errors import InsufficientDataError, QuantdeskError
from core.predictions import Prediction
from core.store import backfill_outcomes, log_predictions, session_scope
from tests.pg import both_backends

KEYS = [(s, ts) for s in ("AAPL", "MSFT", "IBM", "GOOG") for ts in
        pd.bdate_range("2000-01-03", periods=2500, tz="UTC")]


def test_route_deterministic():
    assert [route(s, t, 0.3, "exp1") for s, t in KEYS[:200]] == \
           [route(s.lower(), t.tz_convert("America/New_York"), 0.3, "exp1") for s, t in KEYS[:200]]
    assert {route("AAPL", KEYS[0][1], 0.0)} == {"champion"}
    assert route("AAPL", KEYS[0][1], 1.0) == CHALLENGER
    with pytest.raises(ValueError):
        route("AAPL", KEYS[0][1], 1.5)


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5])
def test_route_share_within_3_points(share):
    got = np.mean([route(s, t, share, "exp") == CHALLENGER for s, t in KEYS])
    assert len(KEYS) == 10_000 and abs(got - share) < 0.03
    other = np.array([route(s, t, share, "other-salt") == CHALLENGER for s, t in KEYS[:2000]])
    same = np.array([route(s, t, share, "exp") == CHALLENGER for s, t in KEYS[:2000]])
    assert (other != same).any()  # a different salt splits differently


def test_dm_h1_equals_paired_t_test():
    rng = np.random.default_rng(1)
    e1, e2 = rng.normal(0, 1.2, 80), rng.normal(0, 1.0, 80)
    r = diebold_mariano(e1, e2, horizon=1)
    t = stats.ttest_1samp(e1 ** 2 - e2 ** 2, 0.0)
    assert r.statistic == pytest.approx(t.statistic) and r.p_value == pytest.approx(t.pvalue)


def test_two_proportion_z_hand_value():
    r = two_proportion_z(60, 100, 45, 100)
    p = 105 / 200
    z = (0.60 - 0.45) / np.sqrt(p * (1 - p) * (2 / 100))
    assert r.statistic == pytest.approx(z) and r.p_value == pytest.approx(2 * stats.norm.sf(z))


@both_backends
def test_compare_on_logged_outcomes_and_test_lifecycle(synthetic_frame):
    f = synthetic_frame
    lr = np.log(f["close"]).diff().shift(-1)  # TEST ONLY: the realised next-bar return
    rng = np.random.default_rng(2)
    recs = []
    for i in range(30, 130):
        ts = f.index[i]
        recs.append(Prediction("fc", "A", "SYN", "1d", "log_return", 1, ts, float(rng.normal(0, 0.01))))
        recs.append(Prediction("fc", "B", "SYN", "1d", "log_return", 1, ts,
                               float(lr.iloc[i] + rng.normal(0, 0.002))))
    with session_scope() as s:
        log_predictions(recs, session=s)
        backfill_outcomes(session=s, load_bars=lambda *_: f)
        res = compare(session=s, family="fc", champion_version="A", challenger_version="B")
        assert res.n_pairs == 100 and res.challenger_mse < res.champion_mse
        assert res.dm.statistic > 0 and res.dm.p_value < 0.01 and "challenger" in res.verdict
        assert res.challenger_hit_rate > res.champion_hit_rate
        with pytest.raises(InsufficientDataError, match="Only 0 outcomes"):
            compare(session=s, family="fc", champion_version="A", challenger_version="C")
        start_ab_test("fc-ab", "fc", "A", "B", share=0.2, who="alice", session=s)
        with pytest.raises(QuantdeskError, match="already running"):
            start_ab_test("fc-ab2", "fc", "A", "B", share=0.2, who="alice", session=s)
        assert running_ab_test("fc", session=s).salt == "fc-ab"
        stop_ab_test("fc-ab", who="alice", session=s, result=res.to_dict())
        assert running_ab_test("fc", session=s) is None
