import numpy as np
import pandas as pd
import pytest
from sqlmodel import select

from core.predictions import Prediction
from core.store import (
    Outcome, PredictionRow, backfill_outcomes, log_predictions, register_realiser, session_scope,
)
from tests.pg import both_backends

pytestmark = both_backends


@pytest.fixture
def bars(synthetic_frame):
    """SYNTHETIC bars (test only)."""
    return synthetic_frame.iloc[:40]


def _p(frame, pos, kind="log_return", horizon=1, value=0.01, **kw):
    return Prediction(model_name="m", model_version="v", symbol="SYN", interval="1d", kind=kind,
                      horizon=horizon, origin_ts=frame.index[pos], value=value, **kw)


def test_realised_values_by_kind_and_idempotent(bars):
    c = bars["close"].to_numpy()
    recs = [
        _p(bars, 10, horizon=5, value=0.02, lower=-0.05, upper=0.001),
        _p(bars, 10, kind="variance", horizon=3, value=1e-4),
        _p(bars, 10, kind="probability", horizon=2, value=0.7, output={"event": "up"}),
        _p(bars, 37, horizon=5),  # target beyond the last bar: stays pending
        _p(bars, 12, kind="label", value=1.0),  # no realiser registered: stays pending
    ]
    loader = lambda sym, interval: bars  # noqa: E731
    with session_scope() as s:
        log_predictions(recs, session=s)
        assert backfill_outcomes(session=s, load_bars=loader) == 3
    with session_scope() as s:
        assert backfill_outcomes(session=s, load_bars=loader) == 0  # twice: nothing changes
        rows = {(p.kind, p.horizon): (p, o) for p, o in s.exec(
            select(PredictionRow, Outcome).join(Outcome, Outcome.prediction_id == PredictionRow.id))}
        assert len(s.exec(select(Outcome)).all()) == 3
    p, o = rows[("log_return", 5)]
    lr = np.log(c[15] / c[10])
    assert o.realized == pytest.approx(lr)
    assert o.error == pytest.approx(0.02 - lr)
    assert o.hit == (lr > 0) and o.covered == (-0.05 <= lr <= 0.001)
    assert p.target_ts == bars.index[15].to_pydatetime() == o.realized_ts
    _, o = rows[("variance", 3)]
    assert o.realized == pytest.approx(sum(np.log(c[i] / c[i - 1]) ** 2 for i in (11, 12, 13)))
    assert o.hit is None and o.covered is None
    _, o = rows[("probability", 2)]
    up = float(c[12] > c[10])
    assert o.realized == up and o.hit == (up == 1.0)


def test_backfill_only_uses_known_bars_then_completes(bars):
    with session_scope() as s:
        log_predictions([_p(bars, 20, horizon=5)], session=s)
        assert backfill_outcomes(session=s, load_bars=lambda *_: bars.iloc[:25]) == 0
        assert backfill_outcomes(session=s, load_bars=lambda *_: bars.iloc[:26]) == 1


def test_zero_forecast_makes_no_directional_call(bars):
    with session_scope() as s:
        log_predictions([_p(bars, 5, value=0.0)], session=s)
        backfill_outcomes(session=s, load_bars=lambda *_: bars)
        assert s.exec(select(Outcome)).one().hit is None


def test_registered_realiser_and_unloadable_symbol(bars):
    from core.errors import DataSourceError

    register_realiser("breakout_test", lambda ctx: float(
        ctx.frame["high"].iloc[ctx.target_pos] > ctx.frame["high"].iloc[ctx.origin_pos]))
    with session_scope() as s:
        log_predictions([_p(bars, 5, kind="probability", value=0.2,
                            output={"event": "breakout_test"})], session=s)

        def down(*_):
            raise DataSourceError("offline")
        assert backfill_outcomes(session=s, load_bars=down) == 0
        assert backfill_outcomes(session=s, load_bars=lambda *_: bars) == 1
        o = s.exec(select(Outcome)).one()
    assert o.realized == float(bars["high"].iloc[6] > bars["high"].iloc[5])


@pytest.mark.parametrize("index", [
    pd.date_range("2024-01-01", periods=6, freq="D", tz="UTC"),
    pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"], tz="UTC"),
    pd.DatetimeIndex(["2024-01-03", "2024-01-01", "2024-01-03", "2024-01-02"], tz="UTC"),
    pd.date_range("2024-01-01", periods=4, freq="D"),  # naive: a UTC origin is not found
])
def test_bar_positions_match_a_dict_of_every_bar(index):
    """The index lookup that replaced {bar time: position} gives what that dict gave: the
    last position of a repeated time, None for a time not in the index."""
    from core.store.predictions import _positions

    frame = pd.DataFrame({"close": range(len(index))}, index=index)
    as_dict = {ts: i for i, ts in enumerate(frame.index)}
    found = _positions(frame)
    probes = list(index) + [pd.Timestamp("2023-12-31", tz="UTC"),
                            pd.Timestamp("2024-01-02", tz="UTC")]
    for ts in probes:
        assert found.get(ts) == as_dict.get(ts), ts
