"""Request and response bodies of the HTTP API (pydantic v2). Units follow
:class:`core.predictions.Prediction` and :class:`core.risk.sizing.RiskParameters`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.news.frame import MAX_HEADLINE_CHARS

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
