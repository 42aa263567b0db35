"""SQLModel tables of the Quantdesk store. The schema itself is created by the Alembic
migrations in ``core/store/migrations`` (keep both in step; ``tests/store`` checks it).

All timestamps are aware UTC (:class:`core.store.db.UTCDateTime`). JSON columns hold plain
dicts. Status/kind values are plain strings (documented below) so PostgreSQL and SQLite
behave the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from core.store.db import UTCDateTime, utcnow

# model_versions.status
ACTIVE, CANDIDATE, DEPRECATED, DISABLED = "active", "candidate", "deprecated", "disabled"
MODEL_STATUSES = (ACTIVE, CANDIDATE, DEPRECATED, DISABLED)
# training_runs.status
TRAINING, COMPLETED, FAILED = "TRAINING", "COMPLETED", "FAILED"


class ModelVersion(SQLModel, table=True):
    """One registered artifact version of a model family.

    status: ``active`` (serves; at most one per family), ``candidate`` (trained, may be
    promoted; a formerly active version returns to candidate when another is promoted),
    ``deprecated`` (rolled back from), ``disabled`` (family switched off by an admin).
    sha256: digest of the version's ``metadata.json`` (which lists every file's sha256).
    deployed_at: last time it became active (rollback goes to the most recent one).
    """

    __tablename__ = "model_versions"
    __table_args__ = (sa.UniqueConstraint("family", "version", name="uq_model_versions_family_version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    family: str = Field(index=True)
    version: str
    kind: Optional[str] = None
    status: str = Field(default=CANDIDATE, index=True)
    metrics: dict = Field(default_factory=dict, sa_type=JSON)
    artifact_path: str = ""
    sha256: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deployed_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)


class PredictionRow(SQLModel, table=True):
    """A logged prediction (see :class:`core.predictions.Prediction` for the units)."""

    __tablename__ = "predictions"
    __table_args__ = (sa.UniqueConstraint(
        "model_name", "model_version", "symbol", "interval", "kind", "horizon", "origin_ts",
        name="uq_predictions_key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    model_name: str = Field(index=True)
    model_version: str
    symbol: str = Field(index=True)
    interval: str
    kind: str
    horizon: int
    origin_ts: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    target_ts: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    inputs_hash: str = ""
    value: float
    lower: Optional[float] = None
    upper: Optional[float] = None
    confidence: Optional[float] = None
    output: dict = Field(default_factory=dict, sa_type=JSON)
    latency_ms: Optional[float] = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Outcome(SQLModel, table=True):
    """The realised value of one prediction, written once its target bar exists.

    error = value - realized (prediction units). hit: direction agreement for return kinds
    (None when the prediction made no directional call, i.e. value == 0), ``value >= 0.5``
    vs the event for probabilities. covered: realized within [lower, upper] when both given.
    """

    __tablename__ = "outcomes"

    id: Optional[int] = Field(default=None, primary_key=True)
    prediction_id: int = Field(foreign_key="predictions.id", unique=True, ondelete="CASCADE")
    realized: float
    realized_ts: dt.datetime = Field(sa_type=UTCDateTime)
    error: float
    hit: Optional[bool] = None
    covered: Optional[bool] = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MetricSnapshot(SQLModel, table=True):
    """A named measurement or counter (e.g. ``cache_hits``, ``cache_misses``, ``errors``,
    ``requests``, ``psi``) for a model/horizon at a time; the monitoring page aggregates them."""

    __tablename__ = "metric_snapshots"

    id: Optional[int] = Field(default=None, primary_key=True)
    ts: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    name: str = Field(index=True)
    value: float
    model_name: Optional[str] = Field(default=None, index=True)
    model_version: Optional[str] = None
    horizon: Optional[int] = None
    detail: dict = Field(default_factory=dict, sa_type=JSON)


class TrainingRun(SQLModel, table=True):
    """One retrain attempt: ``TRAINING`` -> ``COMPLETED`` (version set) or ``FAILED`` (error)."""

    __tablename__ = "training_runs"

    id: Optional[int] = Field(default=None, primary_key=True)
    family: str = Field(index=True)
    status: str = TRAINING
    error: Optional[str] = None
    who: str = ""
    started_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    version: Optional[str] = None


class ABTest(SQLModel, table=True):
    """A champion/challenger experiment on one model family (see :mod:`core.panel.abtest`)."""

    __tablename__ = "ab_tests"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    family: str = Field(index=True)
    champion_version: str
    challenger_version: str
    share: float = 0.1
    salt: str = ""
    status: str = "running"  # running | stopped
    started_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    stopped_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    result: dict = Field(default_factory=dict, sa_type=JSON)


class AuditLog(SQLModel, table=True):
    """Who did what to which target, when (every registry/training/admin operation)."""

    __tablename__ = "audit_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    ts: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    who: str
    action: str
    target: str = ""
    detail: dict = Field(default_factory=dict, sa_type=JSON)


class Lock(SQLModel, table=True):
    """A named single-flight lock held in the database (one row while held), as a lease.

    host/pid: the holding process (``socket.gethostname()``, ``os.getpid()``).
    heartbeat_at: last sign of life (the holder refreshes it every ~20 s while it works); a
    lease whose heartbeat is older than :data:`core.store.ops.LEASE` (60 s), or whose holder
    runs on this host and its pid is gone, is reclaimed by the next
    :func:`core.store.ops.acquire_lock`. run_id: the ``training_runs`` row it guards (marked
    ``FAILED`` when the lease is reclaimed or broken by an admin).
    """

    __tablename__ = "locks"

    name: str = Field(primary_key=True)
    holder: str
    detail: str = ""
    acquired_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    host: str = Field(default="", sa_column_kwargs={"server_default": ""})
    pid: Optional[int] = None
    heartbeat_at: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    run_id: Optional[int] = None


class ReplayCursor(SQLModel, table=True):
    """Where a replay (``quantdesk replay``) stopped, so the next call continues."""

    __tablename__ = "replay_cursors"

    key: str = Field(primary_key=True)
    position: int
    cursor_ts: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Watchlist(SQLModel, table=True):
    """A trader's watchlist: ``owner`` is ``user:<name>`` for a signed-in user or
    ``session:<id>`` for an anonymous browser session; ``symbols`` an ordered JSON list of
    upper-case tickers."""

    __tablename__ = "watchlists"

    owner: str = Field(primary_key=True)
    symbols: list = Field(default_factory=list, sa_type=JSON)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SavedScreen(SQLModel, table=True):
    """A saved screener screen: ``owner`` as for :class:`Watchlist`; ``name`` the user's
    label; ``spec`` the JSON ``{universe, interval, conditions, sort, descending}``
    (:mod:`core.store.screens`)."""

    __tablename__ = "saved_screens"

    owner: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    spec: dict = Field(default_factory=dict, sa_type=JSON)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


STORE_TABLES = ("model_versions", "predictions", "outcomes", "metric_snapshots",
                "training_runs", "ab_tests", "audit_log", "locks", "replay_cursors",
                "watchlists", "saved_screens")


# paper_orders.status / side / reason
PENDING, FILLED, CANCELLED = "pending", "filled", "cancelled"
BUY_SIDE, SELL_SIDE = "buy", "sell"
REASON_SIGNAL, REASON_CLICK, REASON_STRATEGY = "signal", "click", "strategy"


class PaperAccount(SQLModel, table=True):
    """A paper (forward-test) book: simulated only, nothing is ever sent to a broker.

    owner: as for :class:`Watchlist` (``user:<name>``, ``session:<id>``; ``cli`` for the
    command line). cash / initial_cash [currency]. Costs in basis points of traded notional:
    ``commission_bp`` per fill, ``spread_bp`` the full spread (half paid per fill),
    ``slippage_bp`` per fill (the convention of :mod:`core.strategy.backtest`).
    fraction: notional of a signal-driven position as a share of equity (0, 1].
    allow_short: a SELL signal goes short (True) or flat (False)."""

    __tablename__ = "paper_accounts"

    owner: str = Field(primary_key=True)
    cash: float
    initial_cash: float
    commission_bp: float = 1.0
    spread_bp: float = 2.0
    slippage_bp: float = 1.0
    fraction: float = 0.5
    allow_short: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaperOrder(SQLModel, table=True):
    """A simulated order. Placed at bar ``placed_at`` (the bar whose close the decision
    saw), filled at the next bar's open (``fill_ts``, ``fill_price`` after half the spread
    and slippage, ``commission`` [currency]); never on the bar it was placed on.

    side: ``buy | sell``; quantity [units, > 0]; reason: ``signal | click | strategy``;
    status: ``pending | filled | cancelled``; prediction_id: the logged prediction that
    caused a signal order (None for clicks or when none was logged); signal: the fused
    action (``BUY``, ``SELL``, ...) or the strategy and rule (``RSI reversal: entry rsi+1``)
    that placed it."""

    __tablename__ = "paper_orders"

    id: Optional[int] = Field(default=None, primary_key=True)
    owner: str = Field(foreign_key="paper_accounts.owner", ondelete="CASCADE", index=True)
    symbol: str
    interval: str = "1d"
    side: str
    quantity: float
    reason: str = REASON_CLICK
    signal: Optional[str] = None
    prediction_id: Optional[int] = Field(default=None, foreign_key="predictions.id",
                                         ondelete="SET NULL")
    placed_at: dt.datetime = Field(sa_type=UTCDateTime)
    status: str = PENDING
    fill_price: Optional[float] = None
    fill_ts: Optional[dt.datetime] = Field(default=None, sa_type=UTCDateTime)
    commission: Optional[float] = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaperPosition(SQLModel, table=True):
    """One symbol of a paper book and its clock: ``quantity`` [units, < 0 short, 0 flat],
    ``avg_price`` [currency per unit, cost basis of the open quantity incl. price
    concessions], ``realised`` [currency, net of commissions], ``last_price`` / ``last_ts``:
    the close and time of the last bar marked (the book has seen bars <= last_ts)."""

    __tablename__ = "paper_positions"

    owner: str = Field(foreign_key="paper_accounts.owner", ondelete="CASCADE",
                       primary_key=True)
    symbol: str = Field(primary_key=True)
    interval: str = "1d"
    quantity: float = 0.0
    avg_price: float = 0.0
    realised: float = 0.0
    last_price: float
    last_ts: dt.datetime = Field(sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaperMark(SQLModel, table=True):
    """The book's value at one bar's close (written as bars arrive): ``equity`` = cash +
    market value [currency]; ``gross`` / ``net`` exposure [currency, sum |value| / sum
    value]; ``realised`` / ``unrealised`` P&L [currency] since the account was opened."""

    __tablename__ = "paper_marks"

    id: Optional[int] = Field(default=None, primary_key=True)
    owner: str = Field(foreign_key="paper_accounts.owner", ondelete="CASCADE", index=True)
    ts: dt.datetime = Field(sa_type=UTCDateTime)
    cash: float
    equity: float
    gross: float
    net: float
    realised: float
    unrealised: float


class PaperStrategy(SQLModel, table=True):
    """A strategy a paper book follows for one symbol (:mod:`core.paper.follow`): ``spec``
    holds the validated fields of :class:`core.strategy.spec.Strategy` (validated again when
    read), ``name`` its name, ``started_ts`` the bar the book started following it at (the
    strategy's decisions are replayed from there, as in a backtest)."""

    __tablename__ = "paper_strategies"

    owner: str = Field(foreign_key="paper_accounts.owner", ondelete="CASCADE",
                       primary_key=True)
    symbol: str = Field(primary_key=True)
    interval: str = "1d"
    name: str
    spec: dict = Field(default_factory=dict, sa_type=JSON)
    started_ts: dt.datetime = Field(sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


STORE_TABLES = STORE_TABLES + ("paper_accounts", "paper_orders", "paper_positions",
                               "paper_marks", "paper_strategies")
