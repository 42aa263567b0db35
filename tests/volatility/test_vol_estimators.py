"""Each realised estimator against a hand computation on a tiny frame (4 bars)."""

import math
import statistics

import pandas as pd
import pytest

from core.errors import DataValidationError, InsufficientDataError
from core.targets import forward_range_var, forward_realized_var
from core.volatility.estimators import realized_var, realized_vol, volatility_cone

O = [100.0, 102.0, 101.0, 103.0]
H = [103.0, 104.0, 103.0, 106.0]
L = [99.0, 100.0, 99.5, 101.0]
C = [102.0, 101.0, 102.5, 105.0]


@pytest.fixture
def tiny():
    idx = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame({"open": O, "high": H, "low": L, "close": C, "volume": 1.0}, index=idx)


def _ln(a, b):
    return math.log(a / b)


def test_close_to_close(tiny):
    r = [_ln(C[i], C[i - 1]) for i in (1, 2, 3)]
    got = realized_var(tiny, 3, "close_to_close")
    assert got.iloc[:3].isna().all()
    assert got.iloc[-1] == pytest.approx(statistics.variance(r), rel=1e-12)
    vol = realized_vol(tiny, 3, "close_to_close", periods_per_year=252)
    assert vol.iloc[-1] == pytest.approx(math.sqrt(252 * statistics.variance(r)), rel=1e-12)


def test_parkinson(tiny):
    hand = sum(_ln(H[i], L[i]) ** 2 for i in (1, 2, 3)) / (4 * math.log(2) * 3)
    assert realized_var(tiny, 3, "parkinson").iloc[-1] == pytest.approx(hand, rel=1e-12)
    assert realized_var(tiny, 3, "parkinson").iloc[1] != realized_var(tiny, 3, "parkinson").iloc[1]


def test_garman_klass(tiny):
    hand = sum(0.5 * _ln(H[i], L[i]) ** 2 - (2 * math.log(2) - 1) * _ln(C[i], O[i]) ** 2
               for i in (1, 2, 3)) / 3
    assert realized_var(tiny, 3, "garman_klass").iloc[-1] == pytest.approx(hand, rel=1e-12)


def _rs(i):
    return _ln(H[i], C[i]) * _ln(H[i], O[i]) + _ln(L[i], C[i]) * _ln(L[i], O[i])


def test_rogers_satchell(tiny):
    hand = sum(_rs(i) for i in (1, 2, 3)) / 3
    assert realized_var(tiny, 3, "rogers_satchell").iloc[-1] == pytest.approx(hand, rel=1e-12)


def test_yang_zhang(tiny):
    on = [_ln(O[i], C[i - 1]) for i in (1, 2, 3)]
    oc = [_ln(C[i], O[i]) for i in (1, 2, 3)]
    k = 0.34 / (1.34 + (3 + 1) / (3 - 1))
    hand = (statistics.variance(on) + k * statistics.variance(oc)
            + (1 - k) * sum(_rs(i) for i in (1, 2, 3)) / 3)
    assert realized_var(tiny, 3, "yang_zhang").iloc[-1] == pytest.approx(hand, rel=1e-12)


def test_annualisation_is_explicit(tiny):
    v252 = realized_vol(tiny, 3, "parkinson", 252).iloc[-1]
    v52 = realized_vol(tiny, 3, "parkinson", 52).iloc[-1]
    assert v252 / v52 == pytest.approx(math.sqrt(252 / 52))


def test_bad_input_messages(tiny):
    with pytest.raises(ValueError, match="unknown estimator"):
        realized_var(tiny, 3, "bogus")
    with pytest.raises(InsufficientDataError, match="at least"):
        realized_var(tiny, 10, "parkinson")
    with pytest.raises(DataValidationError, match="needs columns"):
        realized_var(tiny[["close"]], 3, "yang_zhang")
    with pytest.raises(ValueError):
        realized_vol(tiny, 3, "parkinson", periods_per_year=0)


def test_forward_targets(tiny):
    r2 = [_ln(C[i], C[i - 1]) ** 2 for i in (1, 2, 3)]
    y = forward_realized_var(tiny["close"], 2)
    assert y.iloc[0] == pytest.approx(r2[0] + r2[1])
    assert y.iloc[1] == pytest.approx(r2[1] + r2[2])
    assert y.iloc[2:].isna().all()  # never filled from the future
    pk = [_ln(H[i], L[i]) ** 2 / (4 * math.log(2)) for i in range(4)]
    assert forward_range_var(tiny, 1).iloc[0] == pytest.approx(pk[1])


def test_cone_quantiles_are_ordered(synthetic_ohlcv):

    cone = volatility_cone(synthetic_ohlcv(400), windows=(5, 21, 63))  # synthetic series
    assert list(cone.index) == [5, 21, 63]
    assert (cone["q05"] <= cone["q50"]).all() and (cone["q50"] <= cone["q95"]).all()
    # 1 % daily synthetic noise -> roughly 16 % annualised
    assert 0.10 < cone.loc[63, "q50"] < 0.22
