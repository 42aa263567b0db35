"""What the HTTP routes compute, without FastAPI: bars from a request, predictions of one
family beside the naive baseline, the fused panel signal, the prediction log, health (with
the monitoring alerts) and model metadata.

Every function raises :class:`core.errors.QuantdeskError` subclasses for bad input or a
model that cannot serve; :mod:`core.api.app` maps them to 4xx/503 JSON bodies. Functions
that take ``caches`` (:class:`core.api.cache.ApiCaches`) reuse bars and answers of a bar
they have already seen; without it they compute everything, every time.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from core.api.cache import MARKET_TTL_S, VERSION_TTL_S, ApiCaches
from core.baseline.naive import naive_predictor
from core.config import get_settings
from core.data import BUNDLED_SYMBOLS, MarketData, load_ohlcv, network, validate_ohlcv
from core.data.bundled import load_bundled
from core.errors import DataValidationError, NotTrainedError, QuantdeskError, UnknownSymbolError
from core.families import FAMILIES
from core.family import ModelFamily, record_to_json
from core.forecasting.serve import slice_as_of
from core.monitoring.queries import monitoring_report
from core.panel.predictors import DOMAIN_PREDICTORS, loggable, running_experiments, with_skill
from core.panel.signals import BREAKOUT_EVENTS, FORECAST_FAMILIES, HOLD, PATTERN_FAMILIES
from core.panel.symbol import symbol_panel
from core.patterns.serve import BREAKOUT_FAMILY, breakout_prediction, load_breakout_model
from core.predictions import Prediction
from core.registry import list_versions, read_metadata
from core.risk.sizing import RiskParameters, size_position
from core.sentiment.scorers import FAMILY as SENTIMENT_FAMILY
from core.sentiment.scorers import load_scorers, score_texts
from core.serving import load_active, serving_key
from core.store import log_predictions, session_scope

log = logging.getLogger(__name__)

#: ``POST /predict/<name>`` -> the registry family that serves it (bars-based families)
PREDICT_FAMILIES: dict[str, str] = {"forecast": "forecast", "volatility": "volatility",
                                    "patterns": "patterns-cnn", "breakout": BREAKOUT_FAMILY}
#: every ``POST /predict/<name>`` route, with the family whose version it reports (signal:
#: every panel family, so none)
PREDICT_ROUTES: dict[str, str | None] = {**PREDICT_FAMILIES, "sentiment": SENTIMENT_FAMILY,
                                         "risk": "naive-baseline", "signal": None}
#: seconds a cached signal is reused: its sentiment part reads headlines that change
#: without a new bar (the news cache keeps them 30 minutes)
SIGNAL_TTL_S = 60.0


class UnknownFamilyError(UnknownSymbolError):
    """A model family (or predict route) that does not exist (HTTP 404)."""


class UnknownJobError(UnknownSymbolError):
    """A retrain job id the server does not know (HTTP 404)."""


def family_of(name: str) -> ModelFamily:
    """The declaration of registry family ``name``. Raises UnknownFamilyError."""
    fam = FAMILIES.get(name)
    if fam is None or not isinstance(fam, ModelFamily):
        raise UnknownFamilyError(f"Unknown model family {name!r}. Known: "
                                 f"{', '.join(sorted(FAMILIES))}.")
    return fam


# ---------------------------------------------------------------- bars

def bars_frame(bars: list, symbol: str, interval: str) -> MarketData:
    """:class:`MarketData` from request bars (dicts or objects with ``timestamp``, ``open``,
    ``high``, ``low``, ``close``, ``volume``), validated by :func:`validate_ohlcv`.

    Raises:
        DataValidationError: empty list, unparsable timestamps, or bars that break the
            OHLCV contract (message names the column / rows).
    """
    if not bars:
        raise DataValidationError("'bars' is empty: send at least one bar.")
    rows = [b if isinstance(b, dict) else b.model_dump() for b in bars]
    frame = pd.DataFrame(rows)
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(frame.pop("timestamp"), utc=True),
                               name="timestamp")
    except (ValueError, TypeError, OverflowError) as err:
        raise DataValidationError(f"bars: a timestamp cannot be read ({err}).") from None
    frame.index = idx
    try:
        rep = validate_ohlcv(frame.astype("float64"), symbol)
    except DataValidationError as err:
        err.field = "bars"  # the error body names the request field
        raise
    f = rep.frame
    return MarketData(f, symbol.upper(), interval, "request", f.index[-1], notes=rep.repairs)


def _load(symbol: str, interval: str, source: str, caches: ApiCaches | None) -> MarketData:
    """:func:`core.data.load_ohlcv`, reused for :data:`core.api.cache.MARKET_TTL_S` seconds
    per ``(symbol, interval, source)`` when ``caches`` is given. Returns a copy the caller
    may change (the cached frame itself is never modified)."""
    key = (symbol.upper(), interval, source)
    md = caches.markets.get(key, MARKET_TTL_S) if caches is not None else None
    if md is None:
        md = load_ohlcv(symbol, interval, source=source)
        if caches is not None:
            caches.markets.put(key, md)
    # a copy (tens of microseconds): no predictor can change the cached bars in place
    return dataclasses.replace(md, frame=md.frame.copy(), notes=list(md.notes))


def market(symbol: str | None, interval: str, as_of, source: str, bars=None,
           min_bars: int = 1, caches: ApiCaches | None = None) -> MarketData:
    """Bars for one request: ``bars`` when given (named ``symbol`` or ``BARS``), else
    :func:`core.data.load_ohlcv` (through ``caches.markets`` when given); then only bars on
    or before ``as_of``.

    Raises:
        UnknownSymbolError, DataSourceError, DataValidationError, InsufficientDataError.
    """
    if bars is not None:
        md = bars_frame(bars, symbol or "BARS", interval)
    else:
        md = _load(symbol or "", interval, source, caches)
    if as_of is not None:
        md.frame = slice_as_of(md.frame, as_of)
    if len(md.frame) < min_bars:
        raise DataValidationError(f"{md.symbol}: {len(md.frame)} bars; this model needs at "
                                  f"least {min_bars}. Send more history.")
    return md


# ---------------------------------------------------------------- JSON

def jsonable(obj):
    """``obj`` with NaN/inf -> None, numpy scalars -> Python, timestamps -> ISO strings."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, (pd.Timestamp,)) or hasattr(obj, "isoformat"):
        return obj.isoformat()
    if obj is None or isinstance(obj, str):
        return obj
    return json.loads(json.dumps(obj, default=str))


def prediction_out(p: Prediction) -> dict:
    """The JSON form of one prediction (the ``PredictionOut`` schema)."""
    d = jsonable(p.to_dict())
    out = d.pop("output", None) or {}
    skill = out.get("skill")
    d.pop("inputs_hash", None)
    d.update(output=out, skill=skill if isinstance(skill, bool) else None)
    return d


# ---------------------------------------------------------------- predictions

def log_served(preds: list[Prediction]) -> int | None:
    """Write the loggable predictions (:func:`core.panel.predictors.loggable`) to the
    prediction table. Returns the rows inserted (0 for rows logged before), or None when the
    store could not be written: that is logged as a warning, not raised (the answer is
    still served)."""
    rows = loggable(preds)
    if not rows:
        return 0
    try:
        with session_scope() as s:
            return int(log_predictions(rows, session=s) or 0)
    except Exception as err:  # the store is down: serve, say nothing was logged
        log.warning("could not log %d API predictions: %s", len(rows), err)
        return None


@dataclasses.dataclass
class _Answer:
    """One route's computed answer for one bar (what :attr:`ApiCaches.predictions` keeps):
    the predictions to log, their JSON forms, the baseline's JSON form, route-specific
    ``extra`` fields, and the stores (database URLs) the predictions were logged to."""

    to_log: list[Prediction]
    predictions: list[dict]
    baseline: list[dict]
    versions: list[str]
    extra: dict = dataclasses.field(default_factory=dict)
    logged_to: set = dataclasses.field(default_factory=set)


def _serving(family: str, caches: ApiCaches) -> tuple[str | None, bool]:
    """``(version, disabled)`` of ``family`` per :func:`core.serving.serving_key`, with
    ``disk:<version>`` for a family the store never registered (the disk's newest serves
    it); reused for :data:`VERSION_TTL_S` seconds."""
    found = caches.versions.get(family, VERSION_TTL_S)
    if found is None:
        active, disabled = serving_key(family)
        if active is None and not disabled:
            newest = _versions(family)[-1:]
            active = f"disk:{newest[0]}" if newest else None
        found = (active, disabled)
        caches.versions.put(family, found)
    return found


def _serving_versions(families, caches: ApiCaches) -> tuple | None:
    """``((family, version), ...)`` serving now, the part of a cache key that changes when an
    admin promotes, rolls back, disables or enables; None when one of them is disabled
    (then nothing is cached: the route answers whatever :func:`core.serving.load_active`
    says)."""
    out = []
    for f in families:
        version, disabled = _serving(f, caches)
        if disabled:
            return None
        out.append((f, version))
    return tuple(out)


def _key(route: str, versions: tuple, md: MarketData, extra=()) -> tuple:
    last = md.frame.iloc[-1]
    # the last bar's values too: a forming intraday bar keeps its timestamp but changes
    bar = tuple(float(last[c]) for c in ("open", "high", "low", "close", "volume"))
    return (route, versions, md.symbol.upper(), md.interval, md.source, len(md.frame),
            md.frame.index[-1], bar, tuple(extra))


def _answer_key(route: str, families, md: MarketData, caches: ApiCaches,
                extra=()) -> tuple | None:
    """Cache key of ``route``'s answer on the last bar of ``md`` (None: do not cache: bars
    from the request body, or a disabled family)."""
    if md.source == "request" or md.frame.empty:
        return None
    versions = _serving_versions(families, caches)
    return None if versions is None else _key(route, versions, md, extra)


def _cached_answer(caches: ApiCaches | None, key, compute: Callable[[], _Answer],
                   max_age_s: float | None = None) -> tuple[_Answer, int]:
    """``(answer, rows logged)``: the cached answer under ``key`` or ``compute()`` (cached
    when ``key`` is not None), its predictions logged unless they already were in this
    store (the table keeps one row per model, version, symbol, bar and horizon, so a
    repeat would insert nothing anyway)."""
    ans = caches.predictions.get(key, max_age_s) if caches is not None and key else None
    if ans is None:
        ans = compute()
        if caches is not None and key is not None:
            caches.predictions.put(key, ans)
    store = get_settings().db_url
    if store in ans.logged_to:
        return ans, 0
    logged = log_served(ans.to_log)
    if logged is not None:
        ans.logged_to.add(store)
    return ans, logged or 0


def _latest(name: str, fam: ModelFamily) -> tuple[Callable, tuple[str, ...]]:
    """The predictor of bars-based route ``name`` (``md -> (predictions, baseline)``) and the
    registry families its answer depends on."""
    if name == "breakout":
        return breakout_latest, (BREAKOUT_FAMILY,)

    def run(md: MarketData) -> tuple[list[Prediction], list[Prediction]]:
        return ([with_skill(p) for p in (fam.predict_latest(md) or [])], naive_predictor(md))
    # predict_latest of a domain may load every family of it (patterns: CNN and breakout)
    return run, tuple(f.name for f in FAMILIES.values()
                      if isinstance(f, ModelFamily) and f.domain == fam.domain)


def breakout_latest(md: MarketData) -> tuple[list[Prediction], list[Prediction]]:
    """The serving breakout model on the last bar of ``md``: ``([prediction], [base rate])``
    when that bar is a breakout, ``([], [base rate])`` when it is not. The naive baseline of
    a breakout probability is the base rate (share of training breakouts that reached the
    target before the stop), predicted for every breakout.

    Raises:
        NotTrainedError: no breakout model, or it is disabled. InsufficientDataError: too
            few bars for support/resistance levels.
    """
    bm = load_breakout_model()
    p = breakout_prediction(md, bm)
    params = bm.metadata.get("params", {})
    base_rate = bm.metadata.get("base_rate")
    event = (p.output or {}).get("event") if p is not None else None
    base = Prediction(
        model_name="naive", model_version="naive", symbol=md.symbol, interval=md.interval,
        kind="probability", horizon=int(params.get("horizon", 10)),
        origin_ts=md.frame.index[-1], value=None if base_rate is None else float(base_rate),
        output={"event": event, "method": "base rate of the training breakouts"})
    return ([with_skill(p)] if p is not None else []), [base]


def predict(name: str, md: MarketData, caches: ApiCaches | None = None) -> dict:
    """``POST /predict/{name}`` for a bars-based route (``forecast``, ``volatility``,
    ``patterns``, ``breakout``) on the last bar of ``md``: the family's ``predict_latest``
    (skill-annotated by :func:`core.panel.predictors.with_skill`; breakout:
    :func:`breakout_latest`), the naive baseline of the same bars, and the rows logged to
    the prediction table. With ``caches``, an answer for the same bar and serving versions
    is reused.

    Returns:
        A ``PredictResponse`` dict; ``latency_ms`` is this call's time [ms] (small when the
        answer was cached).
    Raises:
        UnknownFamilyError: ``name`` is not a bars-based predict route.
        NotTrainedError: no version, or the family is disabled (HTTP 503).
        InsufficientDataError / DataValidationError: too few or bad bars.
    """
    if name not in PREDICT_FAMILIES:
        raise UnknownFamilyError(f"No predict route {name!r}. Known: "
                                 f"{', '.join(sorted(PREDICT_ROUTES))}.")
    fam = family_of(PREDICT_FAMILIES[name])
    if len(md.frame) < fam.min_bars:
        raise DataValidationError(f"{md.symbol}: {len(md.frame)} bars; {fam.name} needs at "
                                  f"least {fam.min_bars}. Send more history.")
    t0 = time.perf_counter()
    run, families = _latest(name, fam)

    def compute() -> _Answer:
        preds, baseline = run(md)
        return _Answer(preds, [prediction_out(p) for p in preds],
                       [prediction_out(p) for p in baseline],
                       sorted({p.model_version for p in preds}))

    key = _answer_key(name, families, md, caches) if caches is not None else None
    ans, logged = _cached_answer(caches, key, compute)
    return _bars_answer(name, md, ans, logged, t0)


def _bars_answer(name: str, md: MarketData, ans: _Answer, logged: int, t0: float) -> dict:
    """The ``PredictResponse`` dict of ``ans`` for the bars ``md``; latency since ``t0``."""
    notes = list(md.notes)
    if name == "breakout" and not ans.predictions:
        notes.append(f"The last bar ({md.frame.index[-1].date()}) is not a breakout through "
                     "support or resistance: no breakout probability for it.")
    return {"family": name, "symbol": md.symbol, "interval": md.interval,
            "last_bar": md.frame.index[-1].isoformat(), "source": md.source,
            "model_versions": list(ans.versions),
            "latency_ms": (time.perf_counter() - t0) * 1000.0,
            "predictions": list(ans.predictions), "baseline": list(ans.baseline),
            "notes": notes, "logged": logged}


def predict_warm(name: str, symbol: str | None, interval: str, as_of, source: str,
                 caches: ApiCaches) -> dict | None:
    """What ``predict(name, market(symbol, interval, as_of, source))`` answers, when all of
    it is already in ``caches``: the bars, the serving versions, the answer, logged to this
    store. None otherwise; the caller then runs :func:`predict` in a worker thread (it reads
    the store or the disk, or runs the model). Touches nothing but memory, so it may run
    on the server's event loop: a warm request then costs no thread hand-off.

    Raises:
        InsufficientDataError: no bar on or before ``as_of``.
    """
    if name not in PREDICT_FAMILIES or not symbol:
        return None
    t0 = time.perf_counter()
    md = caches.markets.get((symbol.upper(), interval, source), MARKET_TTL_S)
    fam = FAMILIES.get(PREDICT_FAMILIES[name])
    if md is None or not isinstance(fam, ModelFamily):
        return None
    frame = slice_as_of(md.frame, as_of) if as_of is not None else md.frame
    if len(frame) < fam.min_bars:
        return None
    versions = []
    for f in _latest(name, fam)[1]:
        found = caches.versions.get(f, VERSION_TTL_S)
        if found is None or found[1]:  # unknown or disabled: the worker path decides
            return None
        versions.append((f, found[0]))
    # no copy of the frame: nothing below changes it
    md = dataclasses.replace(md, frame=frame, notes=list(md.notes))
    ans = caches.predictions.get(_key(name, tuple(versions), md))
    if ans is None or get_settings().db_url not in ans.logged_to:
        return None
    return _bars_answer(name, md, ans, 0, t0)


def _component_skill(component: str, preds: list[Prediction]) -> list[bool | None]:
    """Skill labels of the predictions behind one fused signal component (the same
    selection as :func:`core.panel.signals.fuse`)."""
    def skill(p):
        return (p.output or {}).get("skill")
    if component == "forecast":
        return [skill(p) for p in preds
                if p.model_name in FORECAST_FAMILIES and p.kind == "log_return"]
    if component == "pattern":
        return [skill(p) for p in preds if p.model_name in PATTERN_FAMILIES]
    if component == "breakout":
        return [skill(p) for p in preds
                if p.kind == "probability" and (p.output or {}).get("event") in BREAKOUT_EVENTS]
    if component == "sentiment":
        return [skill(p) for p in preds if p.model_name.startswith("sentiment")][:1]
    return []


def signal_skill(components: dict, preds: list[Prediction]) -> bool | None:
    """Skill label of a fused signal: True when a component that drives it comes from a
    model that beat its naive baseline walk-forward, None when the components that drive
    it were never evaluated, False when no component drives it (the signal is HOLD for
    lack of skilled evidence)."""
    if not components:
        return False
    labels = [s for c in components for s in _component_skill(c, preds) if s is not False]
    return True if any(s is True for s in labels) else None


def _experiments() -> dict:
    """Running A/B tests, as the panel routes them (empty when the store cannot be read)."""
    try:
        with session_scope() as s:
            return running_experiments(session=s)
    except Exception as err:  # no store: the champions serve, as in the panel
        log.warning("could not read A/B tests: %s", err)
        return {}


def predict_signal(md: MarketData, caches: ApiCaches | None = None) -> dict:
    """``POST /predict/signal``: the Overview panel's fused BUY/SELL/HOLD signal for the
    last bar of ``md`` (:func:`core.panel.symbol.symbol_panel` with the running A/B tests),
    with its reasons, the domain predictions behind it (logged like the panel's) and the
    naive baseline (zero-return forecasts, whose signal is always HOLD). With ``caches``, an
    answer for the same bar and serving versions is reused for :data:`SIGNAL_TTL_S` s.

    Returns:
        A ``SignalResponse`` dict.
    Raises:
        InsufficientDataError: ``md`` has no bars.
    """
    t0 = time.perf_counter()
    experiments = _experiments()
    families = tuple(dict.fromkeys(f for dp in DOMAIN_PREDICTORS for f in dp.families))

    def compute() -> _Answer:
        sp = symbol_panel(md, experiments=experiments)
        naive = [p for p in sp.predictions if p.model_version == "naive"]
        preds = [p for p in sp.predictions if p.model_version != "naive"]
        sig = sp.signal
        return _Answer(
            sp.predictions + sp.shadow, [prediction_out(p) for p in preds],
            [prediction_out(p) for p in naive], sorted({p.model_version for p in preds}),
            extra={"action": sig.action, "score": float(sig.score),
                   "confidence": float(sig.confidence), "reasons": list(sig.reasons),
                   "components": {k: float(v) for k, v in sig.components.items()},
                   "skill": signal_skill(sig.components, preds), "baseline_action": HOLD,
                   "regime": sp.regime, "skipped": dict(sp.skipped),
                   "fallbacks": dict(sp.fallbacks), "errors": list(sp.errors)})

    key = None
    if caches is not None:
        exp = tuple(sorted((k, dataclasses.astuple(v)) for k, v in experiments.items()))
        key = _answer_key("signal", families, md, caches, exp)
    ans, logged = _cached_answer(caches, key, compute, SIGNAL_TTL_S)
    out = {"family": "signal", "symbol": md.symbol, "interval": md.interval,
           "last_bar": md.frame.index[-1].isoformat(), "source": md.source,
           "model_versions": list(ans.versions),
           "latency_ms": (time.perf_counter() - t0) * 1000.0,
           "predictions": list(ans.predictions), "baseline": list(ans.baseline),
           "notes": list(md.notes), "logged": logged}
    out.update(jsonable(ans.extra))
    return out


def predict_risk(md: MarketData, params: dict) -> dict:
    """Position sizing (:func:`core.risk.sizing.size_position`) on the last bar of ``md``
    with :class:`RiskParameters` fields ``params``. Returns a ``RiskResponse`` dict.

    Raises:
        DataValidationError: bad parameters (e.g. a stop on the wrong side).
        InsufficientDataError: fewer than 60 bars.
    """
    t0 = time.perf_counter()
    res = size_position(md.frame, RiskParameters(**params), md.symbol, md.interval)
    baseline = naive_predictor(md)
    return {"symbol": md.symbol, "interval": md.interval,
            "last_bar": md.frame.index[-1].isoformat(), "source": md.source,
            "model_versions": [str(res.vol_source)],
            "latency_ms": (time.perf_counter() - t0) * 1000.0, "sizing": jsonable(res.to_dict()),
            "baseline": [prediction_out(p) for p in baseline], "notes": list(md.notes)}


def predict_sentiment(texts: list[str]) -> dict:
    """Scores of ``texts`` (:func:`core.sentiment.scorers.score_texts` with the offline
    scorers: lexicons and the MiniLM head when trained). Returns a ``SentimentResponse``
    dict. Raises DataValidationError for no non-empty text."""
    t0 = time.perf_counter()
    df = score_texts(texts, load_scorers(finbert=False, finbert_download=False))
    active, _ = serving_key(SENTIMENT_FAMILY)
    versions = [active] if active else (list_versions(SENTIMENT_FAMILY)[-1:] or [])
    return {"model_versions": versions, "latency_ms": (time.perf_counter() - t0) * 1000.0,
            "results": jsonable(df.to_dict("records"))}


# ---------------------------------------------------------------- models and health

def _versions(name: str) -> list[str]:
    try:
        return list_versions(name)
    except QuantdeskError:
        return []


def model_summary(fam: ModelFamily) -> dict:
    """``ModelSummary`` of one family: versions on disk, the serving one, disabled."""
    active, disabled = serving_key(fam.name)
    versions = _versions(fam.name)
    serving = None if disabled else (active or (versions[-1] if versions else None))
    route = next((r for r, f in PREDICT_ROUTES.items() if f == fam.name and r != "risk"), None)
    return {"name": fam.name, "title": fam.title, "domain": fam.domain, "kind": fam.kind,
            "versions": versions, "serving_version": serving, "disabled": disabled,
            "predict_endpoint": f"/predict/{route}" if route else None}


def model_detail(name: str) -> dict:
    """``ModelDetail``: :func:`model_summary` plus the evaluation record and metrics of the
    serving version (else the newest). Raises UnknownFamilyError."""
    fam = family_of(name)
    out = model_summary(fam)
    version = out["serving_version"] or (out["versions"][-1] if out["versions"] else None)
    meta: dict = {}
    if version is not None:
        try:
            meta = read_metadata(name, version)
        except QuantdeskError:
            meta = {}
    out.update(record_version=version, record=jsonable(record_to_json(fam.record(meta))),
               metrics=jsonable(meta.get("metrics") or {}))
    return out


def family_health(fam: ModelFamily) -> dict:
    """``FamilyHealth``: the serving version and whether its artifact loads (sha256 checked)."""
    active, disabled = serving_key(fam.name)
    try:
        art = load_active(fam.name)
        return {"name": fam.name, "active_version": active or art.version,
                "disabled": disabled, "loads": True, "detail": None}
    except NotTrainedError as err:
        return {"name": fam.name, "active_version": active, "disabled": disabled,
                "loads": False, "detail": str(err)}
    except QuantdeskError as err:
        return {"name": fam.name, "active_version": active, "disabled": disabled,
                "loads": False, "detail": str(err)}


#: alert level -> rank, for the worst level of a list of alerts
ALERT_RANK = {"ok": 0, "warning": 1, "critical": 2}


def alert_states() -> dict:
    """``AlertStates``: the alerts the Model Monitoring page computes with its default
    settings (:func:`core.monitoring.queries.monitoring_report`: every family and symbol,
    50-outcome window, 50% accuracy floor, drift from the stored PSI snapshots), and the
    worst level among them (``ok`` when none fires, ``unknown`` when the store cannot be
    read)."""
    try:
        rep = monitoring_report()
    except Exception as err:  # the store is unreadable: say so, health still answers
        return {"status": "unknown", "count": 0, "alerts": [],
                "detail": f"{type(err).__name__}: {str(err)[:200]}"}
    items = [jsonable(dataclasses.asdict(a)) for a in rep.alerts]
    worst = max((a["level"] if a["level"] in ALERT_RANK else "warning" for a in items),
                key=ALERT_RANK.__getitem__, default="ok")
    return {"status": worst, "count": len(items), "alerts": items,
            "generated_at": rep.generated_at.isoformat()}


def health(started: float, version: str, probe_yahoo: bool = True) -> dict:
    """``HealthResponse``; ``started`` is the app's start on :func:`time.monotonic`;
    ``alerts`` from :func:`alert_states`."""
    settings = get_settings()
    try:
        with session_scope() as s:
            s.connection().execute(sa.text("SELECT 1"))
        db = {"ok": True, "url": settings.db_url.split("://", 1)[0]}
    except Exception as err:  # any driver error means "not reachable"
        db = {"ok": False, "url": settings.db_url.split("://", 1)[0],
              "detail": f"{type(err).__name__}: {str(err)[:200]}"}
    if settings.offline:
        yahoo = {"reachable": False, "detail": "offline mode (QUANTDESK_OFFLINE)"}
    elif probe_yahoo:
        yahoo = {"reachable": bool(network.yahoo_reachable(settings.probe_timeout))}
    else:
        yahoo = {"reachable": None, "detail": "not probed"}
    try:
        present = [s for s in BUNDLED_SYMBOLS if len(load_bundled(s)) > 0]
        bundled = {"present": len(present) == len(BUNDLED_SYMBOLS), "symbols": present}
    except Exception as err:  # a broken install: say so
        bundled = {"present": False, "symbols": [], "detail": f"{type(err).__name__}: {err}"}
    fams = [family_health(f) for f in FAMILIES.values() if isinstance(f, ModelFamily)]
    ok = db["ok"] and all(f["loads"] or f["disabled"] for f in fams)
    return {"status": "ok" if ok else "degraded", "database": db, "yahoo": yahoo,
            "bundled_data": bundled, "families": fams,
            "uptime_s": time.monotonic() - started, "version": version,
            "alerts": alert_states()}
