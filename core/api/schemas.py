"""Request and response bodies of the HTTP API (pydantic v2). Units follow
:class:`core.predictions.Prediction` and :class:`core.risk.sizing.RiskParameters`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.news.frame import MAX_HEADLINE_CHARS
from core.screener.filters import MAX_CONDITIONS
from core.screener.row import COLUMNS as SCAN_COLUMNS
from core.strategy.spec import Strategy
from core.universe import MAX_UNIVERSE as MAX_SCAN_SYMBOLS

#: most bars one request may carry
MAX_BARS = 20_000
#: most symbols scored by one ``POST /batch`` call (one page)
MAX_BATCH = 50
#: most symbols one ``POST /batch`` may list (a universe paged through ``offset``/``limit``)
MAX_UNIVERSE = 5_000
#: most headlines in one ``POST /predict/sentiment``
MAX_TEXTS = 200

SYMBOL_PATTERN = r"^[A-Za-z0-9^][A-Za-z0-9^.=\-]{0,19}$"
Interval = Literal["1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk",
                   "1mo", "3mo"]
Source = Literal["auto", "bundled"]


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: ``error`` (the exception class, e.g. ``UnknownSymbolError``),
    ``detail`` (a plain sentence saying what to fix), ``field`` (the offending input, dotted
    path, when one is to blame) and, for request validation, every problem in ``errors``."""

    error: str
    detail: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


class Bar(BaseModel):
    """One OHLCV bar; a timestamp without zone is read as UTC."""

    model_config = ConfigDict(extra="forbid")

    timestamp: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


class MarketInput(BaseModel):
    """Bars to predict on: ``symbol`` (+ ``interval``, ``as_of``, ``source``) loaded by
    :func:`core.data.load_ohlcv`, or ``bars`` given in the body (validated by
    :func:`core.data.validate_ohlcv`; ``symbol`` then only names them). ``as_of`` keeps bars on
    or before that date/time (a date means the end of that day, UTC)."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = Field(None, pattern=SYMBOL_PATTERN, examples=["MSFT"])
    interval: Interval = "1d"
    as_of: dt.datetime | dt.date | None = None
    source: Source = Field("auto", description="auto: live first (cache, Yahoo, bundled "
                           "fallback); bundled: the offline history only.")
    bars: list[Bar] | None = Field(None, max_length=MAX_BARS)

    @model_validator(mode="after")
    def _one_input(self):
        if self.symbol is None and self.bars is None:
            raise ValueError("give either 'symbol' (with interval, as_of) or 'bars'")
        return self


class RiskInput(MarketInput):
    """:class:`MarketInput` plus the sizing parameters of
    :class:`core.risk.sizing.RiskParameters` (units there: equity and cash in currency,
    ``risk_pct`` in % of equity, prices in the bars' currency, ``horizon`` in bars,
    ``target_vol`` annualised fraction)."""

    equity: float = Field(100_000.0, gt=0, le=1e15)
    risk_pct: float = Field(1.0, gt=0, le=100)
    cash: float | None = Field(None, ge=0, le=1e15)
    entry: float | None = Field(None, gt=0, le=1e12)
    direction: Literal["long", "short"] = "long"
    stop_method: Literal["atr", "volatility"] = "atr"
    atr_multiple: float = Field(2.0, gt=0, le=100)
    atr_window: int = Field(14, ge=2, le=1000)
    vol_multiple: float = Field(2.0, gt=0, le=100)
    take_profit_method: Literal["r_multiple", "forecast"] = "r_multiple"
    r_multiple: float = Field(2.0, gt=0, le=100)
    forecast_target: float | None = Field(None, gt=0, le=1e12)
    horizon: int = Field(10, ge=1, le=1000)
    target_vol: float = Field(0.15, gt=0, le=10)
    max_leverage: float = Field(1.0, gt=0, le=100)
    win_prob: float | None = Field(None, gt=0, lt=1)
    payoff_ratio: float | None = Field(None, gt=0, le=1000)
    kelly_cap: float = Field(0.25, gt=0, le=1)
    var_lookback: int = Field(500, ge=20, le=100_000)


class TextsInput(BaseModel):
    """Headlines to score (1-200, each at most 1,000 characters: the limit of every entry,
    :data:`core.news.frame.MAX_HEADLINE_CHARS`)."""

    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, Field(max_length=MAX_HEADLINE_CHARS)]] = Field(..., min_length=1,
                                                                max_length=MAX_TEXTS)


class PredictionOut(BaseModel):
    """One prediction (see :class:`core.predictions.Prediction`): ``value`` in the unit of
    ``kind`` (``log_return`` over ``horizon`` bars, ``variance`` of daily log returns summed
    over ``horizon`` bars, ``probability``, ``label``); ``lower``/``upper`` the 80% interval;
    ``skill``: whether this version beat its naive baseline walk-forward on this symbol and
    horizon (None: not evaluated)."""

    model_name: str
    model_version: str
    symbol: str
    interval: str
    kind: str
    horizon: int
    origin_ts: str
    target_ts: str | None = None
    value: float | None = None
    lower: float | None = None
    upper: float | None = None
    confidence: float | None = None
    latency_ms: float | None = None
    skill: bool | None = None
    output: dict[str, Any] = Field(default_factory=dict)


class _BarsResponse(BaseModel):
    """What every answer about one symbol's last bar carries: which bars (symbol, interval,
    last bar, source), which model versions, the request's compute time [ms], the naive
    baseline of the same bars and data notes."""

    family: str
    symbol: str
    interval: str
    last_bar: str
    source: str
    model_versions: list[str]
    latency_ms: float
    baseline: list[PredictionOut]
    notes: list[str] = Field(default_factory=list)


class PredictResponse(_BarsResponse):
    """``POST /predict/{family}``: the model's predictions for the last bar beside the naive
    baseline's. ``logged``: rows written to the prediction table."""

    predictions: list[PredictionOut]
    logged: int = 0


class RiskResponse(_BarsResponse):
    """``POST /predict/risk``: :class:`core.risk.sizing.SizingResult` as ``sizing`` (units in
    its docstring), with the naive baseline of the same bars. Sizing is a rule, not a
    registry model: ``model_versions`` names the volatility forecast it used."""

    family: str = "risk"
    sizing: dict[str, Any]


class SignalResponse(_BarsResponse):
    """``POST /predict/signal``: the Overview panel's fused signal for the last bar
    (:func:`core.panel.symbol.symbol_panel`, :func:`core.panel.signals.fuse`).

    ``action`` STRONG_BUY | BUY | HOLD | SELL | STRONG_SELL; ``score`` the pooled score in
    [-1, 1]; ``confidence`` ``|score| x`` the share of component weight present, in [0, 1]
    (descriptive, not a calibrated probability); ``reasons`` plain sentences, including the
    components left out for lack of skill; ``components`` component -> score in [-1, 1].
    ``skill``: True when a component driving the signal beat its naive baseline
    walk-forward, None when those components were never evaluated, False when none drives
    it. ``baseline_action``: the naive baseline's signal (zero-return forecasts: HOLD).
    ``predictions`` the domain predictions behind it; ``baseline`` the naive forecasts.
    ``skipped`` / ``fallbacks``: domains that produced nothing / families serving the naive
    baseline, with the reason; ``errors``: predictors that failed. ``regime``: volatility
    regime (low | normal | high) or None. ``logged``: rows written to the prediction table.
    """

    family: str = "signal"
    action: str
    score: float
    confidence: float
    reasons: list[str]
    components: dict[str, float]
    skill: bool | None = None
    baseline_action: str = "HOLD"
    regime: str | None = None
    predictions: list[PredictionOut]
    skipped: dict[str, str] = Field(default_factory=dict)
    fallbacks: dict[str, str] = Field(default_factory=dict)
    errors: list[str] = Field(default_factory=list)
    logged: int = 0


class SentimentResponse(BaseModel):
    """``POST /predict/sentiment``: one row per non-empty text (``ensemble`` in [-1, 1],
    ``label``, ``confidence`` in [0, 1], class probabilities, one score per scorer)."""

    family: str = "sentiment"
    model_versions: list[str]
    latency_ms: float
    results: list[dict[str, Any]]


class BatchInput(BaseModel):
    """``POST /batch``: one family over a universe of up to 5,000 symbols, scored one page
    at a time: ``symbols[offset:offset + limit]`` (``limit`` at most 50). The answer's
    ``next_offset`` is the ``offset`` of the next page (None after the last one); send the
    same body with it until then."""

    model_config = ConfigDict(extra="forbid")

    family: Literal["forecast", "volatility", "patterns", "breakout"] = "forecast"
    symbols: list[str] = Field(..., min_length=1, max_length=MAX_UNIVERSE)
    interval: Interval = "1d"
    as_of: dt.datetime | dt.date | None = None
    source: Source = "auto"
    offset: int = Field(0, ge=0, le=MAX_UNIVERSE,
                        description="Index in `symbols` of the first symbol of this page.")
    limit: int = Field(MAX_BATCH, ge=1, le=MAX_BATCH,
                       description="Symbols scored in this page (at most 50).")


class BatchItem(BaseModel):
    """One symbol of a batch: ``result`` when it served, else ``error``."""

    symbol: str
    ok: bool
    result: PredictResponse | None = None
    error: ErrorBody | None = None


class BatchResponse(BaseModel):
    """One page of a batch: ``count`` results (``failed`` of them errors) for
    ``symbols[offset:offset + count]`` of the ``total`` listed; ``next_offset``: the offset
    of the next page, None after the last. ``latency_ms``: time for this page [ms]."""

    family: str
    count: int
    failed: int
    latency_ms: float
    results: list[BatchItem]
    total: int
    offset: int
    limit: int
    next_offset: int | None = None


class FamilyHealth(BaseModel):
    name: str
    active_version: str | None
    disabled: bool
    loads: bool
    detail: str | None = None


class AlertOut(BaseModel):
    """One firing monitoring alert (:class:`core.monitoring.Alert`): ``rule`` latency |
    accuracy | cache | errors | drift, ``level`` warning | critical, ``value`` beside its
    ``threshold`` (latency in ms, rates and accuracy as fractions, drift as PSI)."""

    rule: str
    level: str
    message: str
    target: str
    value: float | None = None
    threshold: float | None = None


class AlertStates(BaseModel):
    """The Model Monitoring page's alerts (its default settings): ``status`` the worst
    level firing (``ok`` when none, ``unknown`` when the store cannot be read)."""

    status: Literal["ok", "warning", "critical", "unknown"]
    count: int
    alerts: list[AlertOut]
    generated_at: str | None = None
    detail: str | None = None


class HealthResponse(BaseModel):
    """``GET /health``: ``status`` is ``ok`` when the database answers and every family that
    is not disabled loads, else ``degraded`` (monitoring alerts do not change it; they are
    in ``alerts``). ``uptime_s`` in seconds."""

    status: Literal["ok", "degraded"]
    database: dict[str, Any]
    yahoo: dict[str, Any]
    bundled_data: dict[str, Any]
    families: list[FamilyHealth]
    uptime_s: float
    version: str
    alerts: AlertStates


class ModelSummary(BaseModel):
    name: str
    title: str
    domain: str
    kind: str
    versions: list[str]
    serving_version: str | None
    disabled: bool
    predict_endpoint: str | None = None


class ModelDetail(ModelSummary):
    """``record``: the walk-forward evaluation record of the serving (else newest) version,
    ``{SYMBOL: {horizon: {metric, model, baseline, ratio, pvalue, skill}}}``."""

    record_version: str | None = None
    record: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)


class PromoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")


class AdminResult(BaseModel):
    family: str
    action: str
    version: str | None
    status: str
    who: str


class JobOut(BaseModel):
    """A retrain job: ``status`` queued | running | completed | failed, ``progress`` in
    [0, 1], ``version`` written when completed, ``error`` when failed."""

    id: str
    family: str
    who: str
    status: str
    progress: float
    message: str
    version: str | None
    error: str | None
    created_at: str
    finished_at: str | None


# ==================================================================== page routes
# What the Screener, Strategy Lab and Paper Book pages do, for scripts (core.api.pages).

#: most rows one ``POST /scan`` page returns
MAX_SCAN_PAGE = 500
#: most trades one ``POST /backtest`` returns (the most recent ones; ``trades_truncated``)
MAX_TRADES = 2_000
#: most equity-curve points one ``POST /backtest`` returns (evenly downsampled)
MAX_EQUITY_POINTS = 5_000
#: configurations a walk-forward backtest may try per fold (the Strategy Lab page's limit)
MAX_WALK_FORWARD_CONFIGS = 64
#: most bars one ``POST /paper/mark`` replays per symbol
MAX_MARK_STEPS = 1_000
#: a ticker as a scan or the paper book takes it (:data:`core.universe.TICKER`, any case)
TICKER_PATTERN = r"^[A-Za-z0-9^][A-Za-z0-9^.=\-]{0,14}$"
#: a universe name: bundled, sp500, nasdaq100, dow30 or watchlist:OWNER
UNIVERSE_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_:.@\-]{0,79}$"
Engine = Literal["auto", "serial", "ray"]
ScanColumn = Literal[SCAN_COLUMNS]  # type: ignore[valid-type]
SIMULATED_NOTE = "Simulated only: no order is ever sent to a broker."


class ScanRequest(BaseModel):
    """``POST /scan``: the Screener page. One row per symbol of a universe from its last bar
    (:func:`core.screener.scan.scan`), filtered (``filters``, AND), sorted, and returned one
    page at a time: ``rows[offset:offset + limit]`` of the ``total`` rows that match. Send
    the same body with the answer's ``next_offset`` for the next page (None after the last):
    the scored rows are cached per fingerprint (the symbols' last bars and the pinned model
    versions), so paging never rescores."""

    model_config = ConfigDict(extra="forbid")

    universe: str | None = Field(
        None, pattern=UNIVERSE_PATTERN, examples=["bundled"],
        description="A named universe: bundled (offline), sp500, nasdaq100, dow30 or "
                    "watchlist:OWNER. Give this or `symbols`.")
    symbols: list[Annotated[str, Field(pattern=TICKER_PATTERN)]] | None = Field(
        None, min_length=1, max_length=MAX_SCAN_SYMBOLS,
        description=f"Tickers to scan instead of a universe (at most {MAX_SCAN_SYMBOLS:,}; "
                    "upper-cased, repeats dropped).")
    interval: Interval = "1d"
    filters: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=MAX_CONDITIONS,
        description="Conditions 'column OP value' combined with AND, OP one of "
                    "< <= > >= = != ~ (contains), e.g. 'rsi_14 < 35', 'trend = up', "
                    "'error = none'.")
    sort: ScanColumn | None = Field(None, description="Sort by this column (missing values "
                                                      "last); None keeps the universe's order.")
    descending: bool = False
    offset: int = Field(0, ge=0, le=MAX_SCAN_SYMBOLS,
                        description="Index of the first matching row of this page.")
    limit: int = Field(100, ge=1, le=MAX_SCAN_PAGE,
                       description=f"Rows in this page (at most {MAX_SCAN_PAGE}).")
    engine: Engine | None = Field(
        None, description="Batch engine: serial, ray or auto (serial up to "
                          "QUANTDESK_SCAN_SERIAL_MAX symbols); None: the server's setting "
                          "QUANTDESK_SCAN_ENGINE.")
    fresh: bool = Field(False, description="Score again even when the rows are cached (send "
                                           "it with the first page only).")

    @model_validator(mode="after")
    def _one_universe(self):
        if (self.universe is None) == (self.symbols is None):
            raise ValueError("give either 'universe' (e.g. \"bundled\") or 'symbols' "
                             "(a list of tickers), not both and not neither")
        return self


def _scan_row_model():
    from pydantic import create_model

    from core.screener.filters import TEXT_COLUMNS
    from core.screener.row import INT_COLUMNS

    bools = {"pattern_rule", "breakout_skill", "fc_skill"}
    fields: dict[str, Any] = {}
    for c in SCAN_COLUMNS:
        if c == "symbol":
            fields[c] = (str, ...)
        elif c in INT_COLUMNS:
            fields[c] = (int | None, None)
        elif c in bools:
            fields[c] = (bool | str | None, None)
        elif c in TEXT_COLUMNS:
            fields[c] = (str | None, None)
        else:
            fields[c] = (float | None, None)
    return create_model(
        "ScanRow", __doc__="One screener row (:mod:`core.screener.row`, units there): the "
        "symbol's last bar, technical columns, pattern, breakout, volatility, forecast with "
        "its 80% interval and skill, sentiment where cached, fused signal; ``error`` when the "
        "symbol could not be scored (the other columns then None).", **fields)


ScanRow = _scan_row_model()


class UniverseOut(BaseModel):
    """What was scanned: ``name`` (``custom`` for a list of symbols), ``title``, ``as_of``
    (where the list comes from and its date), ``symbols`` (how many)."""

    name: str
    title: str
    as_of: str
    symbols: int


class ScanResponse(BaseModel):
    """One page of a scan: ``rows`` are ``matching[offset:offset + count]`` of the ``total``
    rows that pass every filter (``scanned`` rows in all, ``failed`` of them with an
    ``error``); ``next_offset`` the offset of the next page (None after the last).
    ``engine``: serial, ray, or cache (``cached``: the rows came from the scan cache);
    ``versions`` the model versions pinned for every row; ``seconds`` the scoring time [s]
    (0 when cached); ``latency_ms`` this request's time [ms]; ``notes`` data notes
    (fallbacks to the bundled or cached history)."""

    rows: list[ScanRow]  # type: ignore[valid-type]
    count: int
    total: int
    scanned: int
    offset: int
    limit: int
    next_offset: int | None = None
    universe: UniverseOut
    interval: str
    filters: list[str]
    sort: str | None = None
    descending: bool = False
    engine: str
    cached: bool
    failed: int
    versions: dict[str, str | None]
    seconds: float
    latency_ms: float
    notes: list[str] = Field(default_factory=list)


class BacktestRequest(BaseModel):
    """``POST /backtest``: the Strategy Lab page. A strategy (``strategy``: the JSON form of a
    strategy file, validated by :class:`core.strategy.spec.Strategy`; or ``example``: the
    name of a file in ``strategies/``) on ``symbol``'s bars (+ ``interval``, ``start``,
    ``end``, ``source``) or on ``bars`` from the body, after costs, beside buy-and-hold.
    ``walk_forward``: re-pick the best configuration of the strategy's ``tune`` grid on each
    expanding training window and trade it on the next 252 bars only (at most
    64 configurations)."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = Field(None, pattern=SYMBOL_PATTERN, examples=["MSFT"])
    interval: Interval = "1d"
    start: dt.date | None = Field(None, description="First date (inclusive), YYYY-MM-DD.")
    end: dt.date | None = Field(None, description="Last date (inclusive), YYYY-MM-DD.")
    source: Source = "auto"
    bars: list[Bar] | None = Field(None, max_length=MAX_BARS)
    strategy: Strategy | None = Field(
        None, description="A strategy as in a strategy file (see strategies/*.json): name, "
                          "side, entry, exit, sizing, costs, signals, tune.")
    example: str | None = Field(None, pattern=r"^[A-Za-z0-9_\-]{1,64}$",
                                examples=["rsi_reversal"],
                                description="A strategy file of strategies/ by its name "
                                            "without extension (e.g. rsi_reversal, "
                                            "ma_cross, macd_both).")
    walk_forward: bool = False
    initial_equity: float = Field(100_000.0, gt=0, le=1e12, description="Starting cash.")
    max_trades: int = Field(200, ge=0, le=MAX_TRADES,
                            description="Most trades returned (the most recent ones).")
    equity_points: int = Field(500, ge=2, le=MAX_EQUITY_POINTS,
                               description="Most equity-curve points returned (evenly "
                                           "downsampled, first and last kept).")

    @model_validator(mode="after")
    def _inputs(self):
        if self.symbol is None and self.bars is None:
            raise ValueError("give either 'symbol' (with interval, start, end) or 'bars'")
        if (self.strategy is None) == (self.example is None):
            raise ValueError("give either 'strategy' (a strategy as JSON) or 'example' "
                             "(a file name of strategies/), not both and not neither")
        return self


class BacktestMetrics(BaseModel):
    """:func:`core.strategy.backtest.performance` of one equity curve, fractions not %
    (None where undefined, e.g. the Sharpe of a flat curve): ``total_return``, ``cagr``,
    ``ann_vol`` (annualised), ``sharpe`` with its 95% CI ``sharpe_lo``..``sharpe_hi``,
    ``sortino``, ``max_drawdown`` (>= 0), ``calmar`` (CAGR / max drawdown), ``n_trades``,
    ``hit_rate`` with its Wilson 95% CI, ``turnover`` (traded notional / mean equity, per
    year), ``exposure`` (share of bars in a position), ``avg_exposure`` (mean |position| /
    equity), ``n_bars``. Buy-and-hold has no trades: its ``n_trades`` is 0."""

    total_return: float | None = None
    cagr: float | None = None
    ann_vol: float | None = None
    sharpe: float | None = None
    sharpe_lo: float | None = None
    sharpe_hi: float | None = None
    sortino: float | None = None
    max_drawdown: float | None = None
    calmar: float | None = None
    n_trades: int = 0
    hit_rate: float | None = None
    hit_rate_lo: float | None = None
    hit_rate_hi: float | None = None
    turnover: float | None = None
    exposure: float | None = None
    avg_exposure: float | None = None
    n_bars: int = 0


class TradeOut(BaseModel):
    """One completed trade: ``side`` +1 long / -1 short, fills after spread and slippage,
    ``units`` (negative short), ``bars_held``, ``pnl`` [currency] net of every cost,
    ``return`` = pnl / entry notional, ``costs`` [currency], ``exit_reason`` signal | stop |
    max_hold | reverse | end."""

    model_config = ConfigDict(populate_by_name=True)

    side: int
    entry_time: str
    entry_price: float | None = None
    exit_time: str
    exit_price: float | None = None
    units: float | None = None
    bars_held: int
    pnl: float | None = None
    return_: float | None = Field(None, alias="return")
    costs: float | None = None
    exit_reason: str


class EquityPoint(BaseModel):
    """Equity at one close [currency]: the strategy's and buy-and-hold's."""

    timestamp: str
    strategy: float | None = None
    buy_and_hold: float | None = None


class BacktestResponse(BaseModel):
    """``POST /backtest``: the strategy's metrics beside buy-and-hold's on the same bars,
    ``verdict`` (does the Sharpe CI clear buy-and-hold's?), the trades (``trades_total`` in
    all; the most recent ``max_trades`` returned, ``trades_truncated`` when some were left
    out) and the equity curves (``equity_total`` closes, downsampled to at most
    ``equity_points``). ``mode``: full history or walk-forward (then ``folds`` and
    ``n_configs``; else ``params``, the strategy's parameters as run). ``first``/``last``:
    the dates of the trading window; ``costs_bp`` per fill. ``latency_ms``: this request's
    time [ms]."""

    symbol: str
    interval: str
    source: str
    strategy: str
    side: str
    mode: Literal["full history", "walk-forward"]
    first: str
    last: str
    bars: int
    costs_bp: dict[str, float]
    metrics: BacktestMetrics
    buy_and_hold: BacktestMetrics
    verdict: str
    trades: list[TradeOut]
    trades_total: int
    trades_truncated: bool
    equity: list[EquityPoint]
    equity_total: int
    equity_downsampled: bool
    params: dict[str, Any] = Field(default_factory=dict)
    folds: list[dict[str, Any]] = Field(default_factory=list)
    n_configs: int = 1
    latency_ms: float
    notes: list[str] = Field(default_factory=list)


class _Reading(BaseModel):
    model_config = ConfigDict(extra="allow")


class VixReading(_Reading):
    """^VIX close ``level`` [index points], ``percentile`` among the previous 5 years'
    closes [0..1], ``regime`` low | normal | high | n/a, ``history`` (closes ranked against),
    ``as_of`` (date of the close used; None: no close near the as-of date), ``note``."""

    symbol: str = "^VIX"
    level: float | None = None
    percentile: float | None = None
    regime: str = "n/a"
    history: int = 0
    as_of: str | None = None
    history_range: list[str | None] = Field(default_factory=list)
    source: str | None = None
    note: str | None = None


class BenchmarkReading(_Reading):
    """^GSPC ``close`` against its 50/200-bar averages [index points]: ``trend`` up | down |
    mixed | n/a, ``as_of`` the date used."""

    symbol: str
    close: float | None = None
    sma50: float | None = None
    sma200: float | None = None
    trend: str = "n/a"
    as_of: str | None = None
    source: str | None = None
    note: str | None = None


class BreadthReading(_Reading):
    """Share [0..1] of the universe's symbols with data whose close is above their 50-bar
    average: ``above`` of ``with_data`` (``symbols`` listed), ``as_of`` the latest close
    used."""

    share: float | None = None
    above: int = 0
    with_data: int = 0
    symbols: int = 0
    as_of: str | None = None
    without_data: list[str] = Field(default_factory=list)
    universe: str | None = None
    title: str | None = None
    list_as_of: str | None = None
    window: int | None = None
    sources: list[str] = Field(default_factory=list)


class LiquidityReading(_Reading):
    """Amihud (2002) illiquidity over the last 20 bars (``amihud`` [fraction of price per
    currency unit traded], ``amihud_per_million``) and the median dollar volume [currency per
    bar]; None for an index or without volume (``note`` says why)."""

    amihud: float | None = None
    amihud_per_million: float | None = None
    median_dollar_volume: float | None = None
    bars: int = 0
    window: int | None = None
    as_of: str | None = None
    note: str | None = None


class ContextResponse(BaseModel):
    """``GET /context/{symbol}``: the market context beside a symbol as of one of its bars
    (:func:`core.context.market_context`, from data at or before that bar only), each
    reading with the date of the data it used. ``as_of`` the symbol's bar; ``source`` and
    ``fallback`` how its bars were served."""

    symbol: str
    interval: str
    as_of: str
    source: str | None = None
    fallback: str | None = None
    vix: VixReading
    benchmark: BenchmarkReading
    breadth: BreadthReading
    liquidity: LiquidityReading
    latency_ms: float
    notes: list[str] = Field(default_factory=list)


class PaperOrderInput(BaseModel):
    """``POST /paper/orders``: a simulated order at the book's current bar of ``symbol``; it
    fills at the next bar's open (``POST /paper/mark``). ``source`` auto: live bars (offline
    the bundled history, which the book replays from 250 bars before its end); bundled:
    always the bundled history."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(..., pattern=TICKER_PATTERN, examples=["MSFT"])
    side: Literal["buy", "sell"]
    qty: float = Field(..., gt=0, le=1e9, description="Units (> 0).")
    interval: Interval = "1d"
    source: Source = "auto"


class PaperMarkInput(BaseModel):
    """``POST /paper/mark``: show the book the next ``steps`` bars of each of its symbols
    (pending orders fill at the first new open; the book is marked at every close)."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(1, ge=0, le=MAX_MARK_STEPS,
                       description=f"Bars to advance per symbol (at most {MAX_MARK_STEPS}).")
    source: Source = "auto"


class PaperFollowInput(BaseModel):
    """``POST /paper/follow/{symbol}``: the bars the desk's signal is computed on."""

    model_config = ConfigDict(extra="forbid")

    interval: Interval = "1d"
    source: Source = "auto"


class PaperStrategyInput(BaseModel):
    """``POST /paper/strategies/{symbol}``: follow a strategy (``strategy``: the JSON form of
    a strategy file; or ``example``: a file of ``strategies/`` by name) for the symbol from
    the book's current bar, on these bars."""

    model_config = ConfigDict(extra="forbid")

    interval: Interval = "1d"
    source: Source = "auto"
    strategy: Strategy | None = Field(
        None, description="A strategy as in a strategy file (see strategies/*.json).")
    example: str | None = Field(None, pattern=r"^[A-Za-z0-9_\-]{1,64}$",
                                examples=["rsi_reversal"],
                                description="A strategy file of strategies/ by its name.")

    @model_validator(mode="after")
    def _one(self):
        if (self.strategy is None) == (self.example is None):
            raise ValueError("give either 'strategy' (a strategy as JSON) or 'example' "
                             "(a file name of strategies/), not both and not neither")
        return self


class PaperResetInput(BaseModel):
    """``POST /paper/reset``: start the book again (orders, positions and marks deleted) with
    these settings: starting ``cash``, costs per fill [bp] (the full spread: half per fill),
    ``fraction`` of equity a followed signal holds, ``allow_short`` (SELL signals go
    short)."""

    model_config = ConfigDict(extra="forbid")

    cash: float = Field(100_000.0, gt=0, le=1e12)
    commission_bp: float = Field(1.0, ge=0, le=500)
    spread_bp: float = Field(2.0, ge=0, le=500)
    slippage_bp: float = Field(1.0, ge=0, le=500)
    fraction: float = Field(0.5, gt=0, le=1)
    allow_short: bool = False


class PaperOrderOut(BaseModel):
    """A stored paper order (times ISO, UTC): ``status`` pending | filled | cancelled,
    ``reason`` click (placed by hand or API) | signal; ``fill_price`` after spread and
    slippage; ``prediction_id`` the logged prediction a followed signal links to."""

    id: int
    symbol: str
    side: str
    quantity: float
    reason: str
    signal: str | None = None
    prediction_id: int | None = None
    placed_at: str
    status: str
    fill_price: float | None = None
    fill_ts: str | None = None
    commission: float | None = None


class PaperPositionOut(BaseModel):
    symbol: str
    interval: str
    quantity: float
    avg_price: float | None = None
    last_price: float | None = None
    last_bar: str
    market_value: float | None = None
    unrealised_pnl: float | None = None
    realised_pnl: float | None = None


class PaperFollowedOut(BaseModel):
    """A strategy the book follows: ``symbol``, ``interval``, ``strategy`` (its name),
    ``side`` (long / short / both), ``sizing`` (policy) and ``from_bar`` (ISO time of the
    bar it started at)."""

    symbol: str
    interval: str
    strategy: str
    side: str | None = None
    sizing: str
    from_bar: str


class PaperDecisionOut(BaseModel):
    """A followed strategy's decision at ``bar``: the side it holds (``side``) and wants
    after the next open (``wants``; +1 long, -1 short, 0 flat), why (``reason``: entry,
    signal, reverse, max_hold, stop or hold), the entry ``signals`` firing, the ``target``
    and ``current`` position [units] and the order placed (None: none needed)."""

    symbol: str
    strategy: str
    bar: str
    side: int
    wants: int
    reason: str
    signals: dict[str, int] = Field(default_factory=dict)
    target: float
    current: float
    message: str
    order: PaperOrderOut | None = None


class PaperStrategyResponse(PaperDecisionOut):
    """``POST /paper/strategies/{symbol}``: the first decision of the followed strategy."""

    simulated: Literal[True] = True
    note: str = SIMULATED_NOTE


class PaperStatus(BaseModel):
    """``GET /paper``: the book of ``owner`` (``api:<key name>``) [currency unless named]:
    cash, equity, realised / unrealised / total P&L, drawdown now and its worst (fractions
    <= 0), gross / net exposure (currency; ``exposure`` gross / equity), costs per fill [bp],
    positions and open orders. Simulated only."""

    owner: str
    simulated: Literal[True] = True
    note: str = SIMULATED_NOTE
    cash: float
    initial_cash: float
    equity: float
    realised_pnl: float
    unrealised_pnl: float
    total_pnl: float
    drawdown: float
    max_drawdown: float
    gross_exposure: float
    net_exposure: float
    exposure: float | None = None
    costs: dict[str, float]
    fraction: float
    allow_short: bool
    positions: list[PaperPositionOut]
    open_orders: list[PaperOrderOut]
    strategies: list[PaperFollowedOut] = Field(default_factory=list)


class PaperOrderResponse(BaseModel):
    """``POST /paper/orders``: the pending order (it fills at the next bar's open)."""

    simulated: Literal[True] = True
    note: str = SIMULATED_NOTE
    order: PaperOrderOut
    message: str


class PaperFill(BaseModel):
    order_id: int | None = None
    side: str
    quantity: float
    ts: str
    open: float | None = None
    price: float | None = None
    commission: float | None = None


class PaperMarkSymbol(BaseModel):
    """One symbol's advance: ``bars`` new bars seen, the clock after it (``last_bar``),
    ``at_end`` when the data have no later bar, the fills, and a followed strategy's
    decision at each new bar."""

    symbol: str
    bars: int
    last_bar: str
    at_end: bool
    fills: list[PaperFill]
    decisions: list[PaperDecisionOut] = Field(default_factory=list)


class PaperMarkResponse(BaseModel):
    """``POST /paper/mark``: what each symbol of the book did, and the book after it."""

    simulated: Literal[True] = True
    note: str = SIMULATED_NOTE
    symbols: list[PaperMarkSymbol]
    status: PaperStatus


class PaperFollowResponse(BaseModel):
    """``POST /paper/follow/{symbol}``: the desk's fused signal at the book's current bar
    (``bar``; the panel sees bars up to it only), the ``target`` and ``current`` position
    [units], the order placed (None: none needed) and the logged prediction it links to.
    ``model_versions`` the versions behind the signal, ``logged`` the predictions submitted
    to the prediction table (the store keeps each once), ``latency_ms`` this request's time
    [ms]."""

    simulated: Literal[True] = True
    note: str = SIMULATED_NOTE
    symbol: str
    action: str
    bar: str
    target: float
    current: float
    message: str
    order: PaperOrderOut | None = None
    prediction_id: int | None = None
    reasons: list[str] = Field(default_factory=list)
    model_versions: list[str] = Field(default_factory=list)
    logged: int = 0
    latency_ms: float


class PaperCancelResponse(BaseModel):
    simulated: Literal[True] = True
    note: str = SIMULATED_NOTE
    cancelled: int
    message: str
