"""Reads of the prediction store behind the Model Monitoring page, each in its own session."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from core.monitoring.figures import MonitoringReport, Thresholds, monitoring_figures
from core.store.db import session_scope
from core.store.tables import PredictionRow


def model_families() -> list[str]:
    """Model families (``model_name``) with at least one logged prediction, sorted.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the store cannot be reached or read.
    """
    with session_scope() as s:
        return sorted(s.execute(sa.select(PredictionRow.model_name).distinct()).scalars())


def monitoring_report(*, model_name: str | None = None, symbol: str | None = None,
                      window: int = 50, accuracy_floor: float = 0.5,
                      drift: pd.DataFrame | None = None) -> MonitoringReport:
    """Monitoring figures and alerts from the store (:func:`core.monitoring.monitoring_figures`).

    Args:
        model_name: one family, None for all. symbol: one symbol, None for all.
        window: realised predictions per rolling mean (>= 1).
        accuracy_floor: directional-accuracy alert floor [fraction], other alert rules at
            their :class:`core.monitoring.Thresholds` defaults.
        drift: optional drift table (``feature``, ``psi``, ...) for the drift alerts.
    Raises:
        ValueError: ``window`` < 1.
        sqlalchemy.exc.SQLAlchemyError: the store cannot be reached or read.
    """
    with session_scope() as s:
        return monitoring_figures(session=s, model_name=model_name, window=window,
                                  symbol=symbol,
                                  thresholds=Thresholds(accuracy_floor=accuracy_floor),
                                  drift=drift)
