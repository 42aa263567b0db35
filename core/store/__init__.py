"""Quantdesk store: SQLModel tables, one engine per process, CRUD functions that take the
session keyword-only. Typical use::

    from core.store import session_scope, log_predictions, backfill_outcomes
    with session_scope() as session:
        log_predictions(records, session=session)
        backfill_outcomes(session=session, load_bars=load_ohlcv)

See :mod:`core.store.db` (engine, migrations, UTC), :mod:`core.store.tables`,
:mod:`core.store.predictions` (logging, realisers, backfill) and :mod:`core.store.ops`
(registry status, audit log, locks, metric counters).
"""

from core.store.db import (
    dispose_engines, get_engine, init_db, session_scope, store_error_message, to_utc, utcnow,
)
from core.store.ops import (
    RegistryOpError, active_version, audit, audit_log, break_lock, disable, enable,
    family_registered, is_disabled, list_model_versions, promote, record_metric, register_version, rollback, sync_models_dir,
)
from core.store.predictions import (
    RealiseContext, backfill_outcomes, log_predictions, pending_predictions, register_realiser,
)
from core.store.tables import (
    ABTest, AuditLog, Lock, MetricSnapshot, ModelVersion, Outcome, PredictionRow, ReplayCursor,
    SavedScreen, TrainingRun, Watchlist,
)
from core.store.screens import delete_screen, list_screens, save_screen
from core.store.watchlists import get_watchlist, normalise_symbols, save_watchlist

__all__ = [
    "ABTest", "AuditLog", "Lock", "MetricSnapshot", "ModelVersion", "Outcome", "PredictionRow",
    "RealiseContext", "RegistryOpError", "ReplayCursor", "SavedScreen", "TrainingRun",
    "Watchlist", "delete_screen", "list_screens", "save_screen",
    "active_version", "audit", "audit_log", "backfill_outcomes", "break_lock", "disable", "dispose_engines",
    "enable", "family_registered", "get_engine", "get_watchlist", "init_db", "is_disabled", "list_model_versions",
    "log_predictions", "normalise_symbols", "pending_predictions", "promote", "record_metric",
    "register_realiser", "register_version", "rollback", "save_watchlist", "session_scope",
    "store_error_message",
    "sync_models_dir", "to_utc", "utcnow",
]
