import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.errors import DataValidationError
from core.predictions import Prediction
from core.store import (
    AuditLog, PredictionRow, get_engine, init_db, log_predictions, session_scope,
)
from core.store.tables import STORE_TABLES
from tests.pg import both_backends, sqlite_only

pytestmark = both_backends


def _pred(**kw):
    base = dict(model_name="forecast", model_version="v1", symbol="msft", interval="1d",
                kind="log_return", horizon=1, origin_ts=pd.Timestamp("2010-01-04", tz="UTC"),
                value=0.01, lower=-0.02, upper=0.03, confidence=0.6, latency_ms=3.5,
                output={"members": [1, 2]})
    base.update(kw)
    return Prediction(**base)


def test_schema_from_alembic_matches_models_and_is_idempotent():
    engine = get_engine()
    init_db(engine)  # second run: no-op
    names = set(sa.inspect(engine).get_table_names())
    assert set(STORE_TABLES) <= names and "alembic_version" in names
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": lambda o, n, t, r, c:
                                                     t != "table" or n in STORE_TABLES})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


@sqlite_only
def test_sqlite_wal_and_busy_timeout():
    with get_engine().connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_one_engine_per_url():
    assert get_engine() is get_engine()


def test_round_trip_timestamps_are_utc_aware():
    ny = pd.Timestamp("2010-01-04 09:30", tz="America/New_York")
    with session_scope() as s:
        assert log_predictions([_pred(origin_ts=ny, target_ts=ny + pd.Timedelta(days=1))],
                               session=s) == 1
    with session_scope() as s:
        row = s.exec(select(PredictionRow)).one()
    assert row.origin_ts.tzinfo is not None and row.origin_ts.utcoffset() == dt.timedelta(0)
    assert row.origin_ts == ny.tz_convert("UTC").to_pydatetime()
    assert row.origin_ts.hour == 14  # 09:30 EST is 14:30 UTC
    assert row.target_ts.tzinfo is not None
    assert row.created_at.tzinfo is not None
    assert row.symbol == "MSFT" and row.output == {"members": [1, 2]} and row.latency_ms == 3.5


def test_log_predictions_idempotent():
    recs = [_pred(horizon=h) for h in (1, 5)]
    with session_scope() as s:
        assert log_predictions(recs + recs, session=s) == 2
    with session_scope() as s:
        assert log_predictions(recs, session=s) == 0
        assert log_predictions([_pred(model_version="v2")], session=s) == 1
        assert len(s.exec(select(PredictionRow)).all()) == 3


@pytest.mark.parametrize("bad", [dict(value=float("nan")), dict(horizon=0),
                                 dict(upper=float("inf")), dict(origin_ts="not a date")])
def test_bad_predictions_refused_with_message(bad):
    with session_scope() as s:
        with pytest.raises(DataValidationError):
            log_predictions([_pred(), _pred(**bad)], session=s)
        assert s.exec(select(PredictionRow)).all() == []


def test_session_scope_rolls_back_on_error():
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            s.add(AuditLog(who="a", action="x"))
            s.flush()
            raise RuntimeError("boom")
    with session_scope() as s:
        assert s.exec(select(AuditLog)).all() == []
