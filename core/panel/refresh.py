"""The store side of a panel refresh: log what the panel shows, backfill the watchlist's
outcomes, and report each family's serving state.

:func:`refresh_panel` runs in the caller's session (one transaction). A loop that must
survive the database going away (restarted, unreachable) uses :func:`refresh_panel_queued`:
its own short sessions, predictions through the bounded retry queue
(:func:`core.store.predictions.log_or_queue`), so a refresh made while the database is down
still predicts, holds its predictions and says "database unavailable, retrying"; they are
logged by the first refresh that reaches the database again, or reported as not logged.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from core import registry
from core.data import MarketData
from core.errors import DataSourceError, QuantdeskError
from core.panel import predictors as panel_predictors
from core.panel.predictors import DomainPredictor, loggable, running_experiments
from core.panel.symbol import SymbolPanel, symbol_panel
from core.predictions import Prediction
from core.serving import serving_key
from core.store.db import session_scope, store_error_message, utcnow
from core.store.ops import active_version, family_registered, is_disabled, record_metric
from core.store.predictions import (
    LogOutcome, PredictionQueue, backfill_outcomes, log_or_queue, log_predictions,
)


@dataclass
class ModelStatus:
    """Serving state of one family (the rule of :func:`core.serving.load_active`):
    ``state`` in active | disabled | candidates (registered, none promoted: nothing serves) |
    disk (no row in the store: newest on disk) | not trained | last known (store
    unreadable: the version this process last served)."""

    family: str
    state: str
    version: str | None
    message: str


def model_status(families: list[str] | None = None, *, session=None) -> list[ModelStatus]:
    """Serving state of each family (default: every family of every domain predictor)."""
    fams = families or [f for dp in panel_predictors.DOMAIN_PREDICTORS for f in dp.families]
    out = []
    for fam in fams:
        act, dis, registered, unreadable = None, False, False, False  # no session: disk
        try:
            if session is not None:
                act = active_version(fam, session=session)
                dis = is_disabled(fam, session=session)
                registered = family_registered(fam, session=session)
        except Exception:  # store unreachable: what this process last served
            act, dis = serving_key(fam)
            registered, unreadable = act is not None or dis, True
        if dis:
            out.append(ModelStatus(fam, "disabled", None, "disabled by an admin: naive "
                                   "baseline shown"))
        elif act and unreadable:
            out.append(ModelStatus(fam, "last known", act, f"model store unavailable: serving "
                                   f"the last known version {act}"))
        elif act:
            out.append(ModelStatus(fam, "active", act, f"active {act}"))
        elif registered:
            out.append(ModelStatus(fam, "candidates", None, "no promoted version (candidates "
                                   "only): naive baseline shown; promote one on the Admin page"))
        else:
            versions = registry.list_versions(fam)
            if versions:
                out.append(ModelStatus(fam, "disk", versions[-1],
                                       f"newest on disk {versions[-1]} (not registered)"))
            else:
                out.append(ModelStatus(fam, "not trained", None, "no trained version"))
    return out


def log_panel(panels: list[SymbolPanel], *, session) -> tuple[int, list[str]]:
    """Log the loggable predictions of ``panels`` (idempotent per symbol/bar/model version);
    each (symbol, model) batch is validated on its own so a bad record cannot block the
    others, and the valid ones go to the store in one statement (not one per batch: each
    compiled anew, ~1 ms apiece on every refresh and Overview visit, issue 15). Also counts
    ``requests``/``errors`` for the monitoring error rate.

    Returns:
        ``(rows inserted, error messages)``.
    """
    good, errors = _loggable_batches(panels)
    inserted = log_predictions(good, session=session)
    for sp in panels:
        record_metric("requests", 1, session=session, detail={"source": "panel",
                                                               "symbol": sp.symbol})
        if sp.errors:
            record_metric("errors", len(sp.errors), session=session,
                          detail={"source": "panel", "symbol": sp.symbol})
    return inserted, errors


def backfill_watchlist(bars: dict[tuple[str, str], pd.DataFrame], *, session) -> int:
    """Fill outcomes of pending predictions of the watchlist only, from the bars known now
    (``bars[(SYMBOL, interval)]``: the visible frame; other symbols stay pending)."""
    def load(symbol: str, interval: str):
        try:
            return bars[(symbol.upper(), interval)]
        except KeyError:
            raise DataSourceError("not on the watchlist") from None

    return backfill_outcomes(session=session, load_bars=load)


@dataclass
class PanelRefresh:
    """One refresh of the watchlist: panels, what was logged and backfilled, and when."""

    generated_at: dt.datetime
    panels: list[SymbolPanel]
    logged: int
    outcomes: int
    errors: list[str]
    seconds: float
    #: :func:`refresh_panel_queued`: "database unavailable, retrying ..." (or "database
    #: back ...") when the store was not reached; None when all went to the store.
    store_message: str | None = None
    #: :func:`refresh_panel_queued`: the retry queue's account of this refresh.
    log: LogOutcome | None = None


def refresh_panel(markets: list[MarketData], *, session,
                  predictors: list[DomainPredictor] | None = None,
                  panels: list[SymbolPanel] | None = None) -> PanelRefresh:
    """The panel's core step: predict each symbol's latest bar (unless ``panels`` are given,
    e.g. from a cache), log the predictions, backfill the watchlist's outcomes.

    Args:
        markets: the watchlist's bars as known now (replayed symbols: visible bars only).
        session: store session (the caller commits).
        predictors: domain predictors (default :data:`DOMAIN_PREDICTORS`).
        panels: precomputed :class:`SymbolPanel` list (same order as ``markets``).
    """
    t0 = time.perf_counter()
    errors: list[str] = []
    if panels is None:
        panels = []
        experiments = running_experiments(session=session)
        for md in markets:
            try:
                panels.append(symbol_panel(md, predictors, experiments))
            except QuantdeskError as err:
                errors.append(f"{md.symbol}: {err}")
    logged, errs = log_panel(panels, session=session)
    errors += errs
    bars = {(md.symbol.upper(), md.interval): md.frame for md in markets}
    outcomes = backfill_watchlist(bars, session=session)
    return PanelRefresh(utcnow(), panels, logged, outcomes, errors, time.perf_counter() - t0)


def _loggable_batches(panels: list[SymbolPanel]) -> tuple[list[Prediction], list[str]]:
    """Every loggable prediction of ``panels`` that validates, one batch per (symbol,
    model) as in :func:`log_panel`; invalid batches become error messages."""
    from core.store.predictions import _row  # validation only

    good, errors = [], []
    for sp in panels:
        groups: dict[str, list[Prediction]] = {}
        for p in loggable(sp.predictions + sp.shadow):
            groups.setdefault(p.model_name, []).append(p)
        for name, preds in groups.items():
            try:
                for p in preds:
                    _row(p)
            except QuantdeskError as err:
                errors.append(f"{sp.symbol} {name}: {err}")
                continue
            good += preds
    return good, errors


def refresh_panel_queued(markets: list[MarketData], *,
                         predictors: list[DomainPredictor] | None = None,
                         panels: list[SymbolPanel] | None = None,
                         queue: PredictionQueue | None = None) -> PanelRefresh:
    """:func:`refresh_panel` for a loop that outlives database outages: its own short
    sessions; predictions go through the retry queue (``queue``, default the process-wide
    one); when the store cannot be reached, running A/B tests are taken as none (the
    champion serves), backfill waits for the next refresh (it is idempotent) and
    ``store_message`` says "database unavailable, retrying ...". Never raises for a store
    fault."""
    t0 = time.perf_counter()
    errors: list[str] = []
    store_down: str | None = None
    if panels is None:
        experiments = {}
        try:
            with session_scope() as s:
                experiments = running_experiments(session=s)
        except SQLAlchemyError as err:
            store_down = store_error_message(err)
        panels = []
        for md in markets:
            try:
                panels.append(symbol_panel(md, predictors, experiments))
            except QuantdeskError as err:
                errors.append(f"{md.symbol}: {err}")
    preds, errs = _loggable_batches(panels)
    errors += errs
    outcome = log_or_queue(preds, queue=queue)
    outcomes = 0
    if not outcome.queued:  # the store took the predictions: backfill and count
        bars = {(md.symbol.upper(), md.interval): md.frame for md in markets}
        try:
            with session_scope() as s:
                outcomes = backfill_watchlist(bars, session=s)
                for sp in panels:
                    record_metric("requests", 1, session=s,
                                  detail={"source": "panel", "symbol": sp.symbol})
                    if sp.errors:
                        record_metric("errors", len(sp.errors), session=s,
                                      detail={"source": "panel", "symbol": sp.symbol})
        except SQLAlchemyError as err:  # went away after the log: next refresh backfills
            store_down = store_down or store_error_message(err)
    message = outcome.message
    if message is None and store_down is not None:
        message = f"database unavailable, retrying: {store_down.split('. Check')[0]}"
    return PanelRefresh(utcnow(), panels, outcome.inserted, outcomes, errors,
                        time.perf_counter() - t0, store_message=message, log=outcome)


def replay_table(rows: list[dict]) -> pd.DataFrame:
    """The replay's monitoring rows (:func:`core.monitoring.summary_rows`) as the Overview
    shows them: model beside its naive baseline, rates in percent, labelled columns."""
    t = pd.DataFrame(rows)
    t = t[[c for c in ("model_name", "model_version", "kind", "horizon", "n", "n_realised",
                       "directional_accuracy", "baseline_accuracy", "mae", "baseline_mae",
                       "coverage") if c in t]]
    for c in ("directional_accuracy", "baseline_accuracy", "coverage"):
        if c in t:
            t[c] = (t[c] * 100).round(1)
    return t.rename(columns={
        "model_name": "Model", "model_version": "Version", "kind": "Kind",
        "horizon": "h [bars]", "n": "Predictions", "n_realised": "Outcomes",
        "directional_accuracy": "Dir. accuracy [%]", "baseline_accuracy": "Always-up [%]",
        "coverage": "Coverage 80 [%]", "mae": "MAE", "baseline_mae": "Naive MAE"})
