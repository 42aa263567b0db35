"""What the HTTP routes compute, without FastAPI: bars from a request, predictions of one
family beside the naive baseline, the prediction log, health and model metadata.

Every function raises :class:`core.errors.QuantdeskError` subclasses for bad input or a
model that cannot serve; :mod:`core.api.app` maps them to 4xx/503 JSON bodies.
"""

from __future__ import annotations

import json
import logging
import math
import time

import numpy as np
import pandas as pd
import sqlalchemy as sa

from core.baseline.naive import naive_predictor
from core.config import get_settings
from core.data import BUNDLED_SYMBOLS, MarketData, load_ohlcv, network, validate_ohlcv
from core.data.bundled import load_bundled
from core.errors import DataValidationError, NotTrainedError, QuantdeskError, UnknownSymbolError
from core.families import FAMILIES
from core.family import ModelFamily, record_to_json
from core.forecasting.serve import slice_as_of
from core.panel.predictors import loggable, with_skill
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
                                    "patterns": "patterns-cnn"}
#: every ``POST /predict/<name>`` route, with the family whose version it reports
PREDICT_ROUTES: dict[str, str] = {**PREDICT_FAMILIES, "sentiment": SENTIMENT_FAMILY,
                                  "risk": "naive-baseline"}


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


def market(symbol: str | None, interval: str, as_of, source: str, bars=None,
           min_bars: int = 1) -> MarketData:
    """Bars for one request: ``bars`` when given (named ``symbol`` or ``BARS``), else
    :func:`core.data.load_ohlcv`; then only bars on or before ``as_of``.

    Raises:
        UnknownSymbolError, DataSourceError, DataValidationError, InsufficientDataError.
    """
    if bars is not None:
        md = bars_frame(bars, symbol or "BARS", interval)
    else:
        md = load_ohlcv(symbol or "", interval, source=source)
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

def log_served(preds: list[Prediction]) -> int:
    """Write the loggable predictions (:func:`core.panel.predictors.loggable`) to the
    prediction table; a store that cannot be written is logged, not raised (the answer is
    still served). Returns the rows written."""
    rows = loggable(preds)
    if not rows:
        return 0
    try:
        with session_scope() as s:
            return int(log_predictions(rows, session=s) or 0)
    except Exception as err:  # the store is down: serve, say nothing was logged
        log.warning("could not log %d API predictions: %s", len(rows), err)
        return 0


def predict(name: str, md: MarketData) -> dict:
    """``POST /predict/{name}`` for a bars-based family (``forecast``, ``volatility``,
    ``patterns``) on the last bar of ``md``: the family's ``predict_latest`` (skill-annotated
    by :func:`core.panel.predictors.with_skill`), the naive baseline of the same bars, and
    the rows logged to the prediction table.

    Returns:
        A ``PredictResponse`` dict.
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
    preds = [with_skill(p) for p in (fam.predict_latest(md) or [])]
    baseline = naive_predictor(md)
    latency = (time.perf_counter() - t0) * 1000.0
    logged = log_served(preds)
    return {"family": name, "symbol": md.symbol, "interval": md.interval,
            "last_bar": md.frame.index[-1].isoformat(), "source": md.source,
            "model_versions": sorted({p.model_version for p in preds}),
            "latency_ms": latency, "predictions": [prediction_out(p) for p in preds],
            "baseline": [prediction_out(p) for p in baseline], "notes": list(md.notes),
            "logged": logged}


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


def health(started: float, version: str, probe_yahoo: bool = True) -> dict:
    """``HealthResponse``; ``started`` is the app's start on :func:`time.monotonic`."""
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
            "uptime_s": time.monotonic() - started, "version": version}
