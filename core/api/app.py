"""The FastAPI application: :func:`create_app` builds it (``quantdesk serve-api`` serves it
with uvicorn). Routes, their bodies (:mod:`core.api.schemas`) and errors:

* read routes are open: ``GET /health``, ``GET /models``, ``GET /models/{family}``,
  ``POST /predict/{forecast|volatility|patterns|breakout|signal|sentiment|risk}``,
  ``POST /batch`` (paged: ``offset``/``limit`` in, ``next_offset`` out), and the newer
  pages' routes (:mod:`core.api.pages`): ``POST /scan`` (the Screener, paged like /batch),
  ``POST /backtest`` and ``GET /context/{symbol}`` (the Strategy Lab);
* the Paper Book (``GET /paper``, ``POST /paper/orders|mark|reset``,
  ``POST /paper/follow/{symbol}``, ``POST|DELETE /paper/strategies/{symbol}``,
  ``DELETE /paper/orders/{id}``) needs any valid
  ``X-API-Key``; each key has its own simulated book, owner ``api:<key name>``;
* warm predictions reuse the bars and the answer of a bar already served
  (:mod:`core.api.cache`, one set of caches per app);
* ``GET /jobs/{id}`` needs any valid ``X-API-Key``; ``POST /admin/...`` needs a key with the
  ``admin`` role (:mod:`core.api.keys`); every admin call is audited (``api_<action>``);
* every :class:`core.errors.QuantdeskError` becomes a JSON :class:`ErrorBody`
  (404 unknown family/symbol, 422 bad input, 409 conflicting admin request, 503 a model
  that is not trained or disabled); request validation gives 422 naming each field; an
  unexpected exception gives a 500 body without traceback (it is logged);
* a request body over ``max_body_bytes`` gets 413, a client over its rate limit 429 with
  ``Retry-After`` (:mod:`core.api.ratelimit`).
"""


import datetime as dt
import logging
import time
from importlib import metadata
from typing import Annotated

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.api import pages, service
from core.api.cache import ApiCaches
from core.api.jobs import JobStore
from core.api.keys import ApiKey, verify_key
from core.api.ratelimit import RateLimiter
from core.api.schemas import (
    MAX_BARS,
    SYMBOL_PATTERN,
    UNIVERSE_PATTERN,
    AdminResult,
    BacktestRequest,
    BacktestResponse,
    BatchInput,
    BatchResponse,
    ContextResponse,
    ErrorBody,
    HealthResponse,
    Interval,
    JobOut,
    MarketInput,
    ModelDetail,
    ModelSummary,
    PaperCancelResponse,
    PaperFollowInput,
    PaperStrategyInput,
    PaperStrategyResponse,
    PaperFollowResponse,
    PaperMarkInput,
    PaperMarkResponse,
    PaperOrderInput,
    PaperOrderResponse,
    PaperResetInput,
    PaperStatus,
    PredictResponse,
    PromoteInput,
    RiskInput,
    RiskResponse,
    ScanRequest,
    ScanResponse,
    SentimentResponse,
    SignalResponse,
    Source,
    TextsInput,
)
from core.config import get_settings
from core.errors import (
    ArtifactIntegrityError,
    DataSourceError,
    DataValidationError,
    ModelUnavailableError,
    NotTrainedError,
    QuantdeskError,
    SourceUnreachableError,
    TrainingInProgressError,
    UnknownSymbolError,
)
from core.families import FAMILIES
from core.family import ModelFamily
from core.store import RegistryOpError, audit, disable, enable, promote, rollback, session_scope

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024

#: QuantdeskError subclass -> HTTP status (first match in this order wins)
STATUS: list[tuple[type[QuantdeskError], int]] = [
    (SourceUnreachableError, 503),
    (UnknownSymbolError, 404),
    (DataSourceError, 404),
    (DataValidationError, 422),
    (NotTrainedError, 503),
    (ModelUnavailableError, 503),
    (ArtifactIntegrityError, 503),
    (TrainingInProgressError, 409),
    (RegistryOpError, 409),
]


class AuthError(QuantdeskError):
    """No, unknown or revoked API key (HTTP 401)."""


class ForbiddenError(QuantdeskError):
    """A valid key without the role the route needs (HTTP 403)."""


def _err(*codes: int) -> dict:
    """OpenAPI ``responses`` for ``codes`` (and 400: a body that is not JSON), all
    :class:`ErrorBody`."""
    return {c: {"model": ErrorBody} for c in sorted({400, *codes})}


def status_of(err: QuantdeskError) -> int:
    """The HTTP status of ``err`` (:data:`STATUS`; auth 401/403; any other 400)."""
    if isinstance(err, AuthError):
        return 401
    if isinstance(err, ForbiddenError):
        return 403
    return next((code for cls, code in STATUS if isinstance(err, cls)), 400)


def error_response(status: int, error: str, detail: str, field: str | None = None,
                   errors: list | None = None, headers: dict | None = None) -> JSONResponse:
    body = ErrorBody(error=error, detail=detail, field=field, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _loc(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "path", "query", "header")]
    return ".".join(parts) or "body"


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for e in exc.errors():
        msg = str(e.get("msg", "invalid value"))
        if e.get("type") == "too_long" and "bars" in [str(x) for x in e.get("loc", ())]:
            msg = f"at most {MAX_BARS} bars per request; send fewer bars or a symbol"
        out.append({"field": _loc(e.get("loc", ())), "message": msg,
                    "type": str(e.get("type", ""))})
    return out


class _Guard:
    """Pure ASGI middleware: per-client rate limit (429 + Retry-After) and request body size
    limit (413), before any route runs."""

    def __init__(self, app, limiter: RateLimiter, max_body_bytes: int) -> None:
        self.app, self.limiter, self.max_body = app, limiter, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        found = verify_key(headers.get("x-api-key")) if self.limiter.enabled else None
        # a valid key has its own bucket; anything else (no key, made-up keys) shares the
        # client address's, so rotating junk keys does not escape the limit
        client = f"key:{found.name}" if found is not None else (
            "ip:" + (scope.get("client") or ("unknown", 0))[0])
        wait = self.limiter.take(client)
        if wait > 0:
            secs = RateLimiter.retry_after(wait)
            return await error_response(
                429, "RateLimitError", f"Too many requests: at most "
                f"{self.limiter.rate * 60:g} per minute (bursts of {self.limiter.burst:g}). "
                f"Retry after {secs} s.", headers={"Retry-After": str(secs)})(scope, receive, send)
        too_big = error_response(
            413, "RequestTooLargeError", f"The request body exceeds the limit of "
            f"{self.max_body:,} bytes; send fewer bars or split the batch.", field="body")
        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_body:
            return await too_big(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                chunks.append(message)
                break
            size += len(message.get("body", b""))
            if size > self.max_body:
                return await too_big(scope, receive, send)
            chunks.append(message)
            more = message.get("more_body", False)

        async def replay():
            return chunks.pop(0) if chunks else await receive()

        return await self.app(scope, replay, send)


def create_app(*, rate_per_minute: float | None = None, burst: int | None = None,
               max_body_bytes: int = MAX_BODY_BYTES, probe_yahoo: bool = True,
               jobs: JobStore | None = None) -> FastAPI:
    """The Quantdesk API.

    Args:
        rate_per_minute, burst: per-client token bucket (default from settings
            ``QUANTDESK_API_RATE_PER_MINUTE`` / ``QUANTDESK_API_BURST``; 0 turns it off).
        max_body_bytes: largest request body [bytes] (413 above it).
        probe_yahoo: ``GET /health`` probes Yahoo through :mod:`core.data.network`.
        jobs: where retrain jobs run (default a fresh :class:`JobStore`).
    """
    settings = get_settings()
    try:
        version = metadata.version("quantdesk")
    except metadata.PackageNotFoundError:
        version = "unknown"
    app = FastAPI(title="Quantdesk API", version=version, description=__doc__)
    app.state.started = time.monotonic()
    app.state.jobs = jobs or JobStore()
    app.state.caches = ApiCaches()
    app.state.limiter = RateLimiter(
        settings.api_rate_per_minute if rate_per_minute is None else rate_per_minute,
        settings.api_burst if burst is None and rate_per_minute is None else burst)
    app.add_middleware(_Guard, limiter=app.state.limiter, max_body_bytes=max_body_bytes)
    key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="A key from `quantdesk admin create-key`.")

    # ------------------------------------------------------------ errors

    @app.exception_handler(QuantdeskError)
    async def _quantdesk_error(request: Request, exc: QuantdeskError):
        return error_response(status_of(exc), type(exc).__name__, str(exc),
                              getattr(exc, "field", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        if len(errors) > 5:
            detail += f" (+{len(errors) - 5} more)"
        return error_response(422, "RequestValidationError", detail or "invalid request",
                              errors[0]["field"] if errors else None, jsonable_encoder(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        name = {400: "MalformedBodyError", 404: "NotFound",
                405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return error_response(exc.status_code, name, str(exc.detail),
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "InternalError", "An internal error occurred; it was "
                              "logged on the server. Try again, or report it with the time.")

    # ------------------------------------------------------------ auth

    def api_key(key: Annotated[str | None, Depends(key_header)]) -> ApiKey:
        found = verify_key(key)
        if found is None:
            raise AuthError("A valid X-API-Key header is required (issue one with "
                            "`quantdesk admin create-key NAME --role admin`)."
                            if not key else "The X-API-Key is unknown or was revoked.")
        return found

    def admin_key(found: Annotated[ApiKey, Depends(api_key)]) -> ApiKey:
        if found.role != "admin":
            raise ForbiddenError(f"The key '{found.name}' has the '{found.role}' role; this "
                                 "route needs an admin key.")
        return found

    def audited(key: ApiKey, action: str, family: str, fn):
        who = f"api:{key.name}"
        try:
            result = fn(who)
        except QuantdeskError as err:
            with session_scope() as s:
                audit(who, f"api_{action}", family, {"ok": False, "error": str(err)[:500]},
                      session=s)
            raise
        with session_scope() as s:
            audit(who, f"api_{action}", family, {"ok": True, "result": result}, session=s)
        return result

    # ------------------------------------------------------------ read routes

    @app.get("/health", response_model=HealthResponse, tags=["status"])
    def health() -> dict:
        """Database, Yahoo reachability, bundled data, every family's serving version and
        whether it loads, uptime [s], and the alerts the Model Monitoring page computes
        (``alerts.status``: the worst level firing)."""
        return service.health(app.state.started, version, probe_yahoo=probe_yahoo)

    @app.get("/models", response_model=list[ModelSummary], tags=["models"])
    def models() -> list[dict]:
        """Every model family: versions on disk, the serving one, disabled or not."""
        return [service.model_summary(f) for f in FAMILIES.values()
                if isinstance(f, ModelFamily)]

    @app.get("/models/{family}", response_model=ModelDetail, responses=_err(404, 422),
             tags=["models"])
    def model(family: str) -> dict:
        """One family with the walk-forward evaluation record of its serving version."""
        return service.model_detail(family)

    def _bars_route(name: str):
        def cold(body: MarketInput) -> dict:
            fam = FAMILIES.get(service.PREDICT_FAMILIES[name])
            md = service.market(body.symbol, body.interval, body.as_of, body.source, body.bars,
                                min_bars=getattr(fam, "min_bars", 1),
                                caches=app.state.caches)
            return service.predict(name, md, app.state.caches)

        async def route(body: MarketInput) -> dict:
            # a warm answer is in memory: serve it on the event loop (no thread hand-off);
            # anything that reads the store or disk or runs a model goes to a worker thread
            if body.bars is None:
                warm = service.predict_warm(name, body.symbol, body.interval, body.as_of,
                                            body.source, app.state.caches)
                if warm is not None:
                    return warm
            return await run_in_threadpool(cold, body)
        route.__name__ = f"predict_{name}"
        route.__doc__ = (f"Predict with the serving `{service.PREDICT_FAMILIES[name]}` version "
                         "on the last bar (of `symbol` up to `as_of`, or of `bars`), beside "
                         "the naive baseline; logged to the prediction table.")
        return route

    for _name in service.PREDICT_FAMILIES:
        app.post(f"/predict/{_name}", response_model=PredictResponse, tags=["predict"],
                 responses=_err(404, 413, 422, 429, 503))(_bars_route(_name))

    @app.post("/predict/signal", response_model=SignalResponse, tags=["predict"],
              responses=_err(404, 413, 422, 429, 503))
    def predict_signal(body: MarketInput) -> dict:
        """The Overview panel's fused BUY/SELL/HOLD signal on the last bar, with its reasons,
        the domain predictions behind it (logged like the panel's) and the naive baseline."""
        md = service.market(body.symbol, body.interval, body.as_of, body.source, body.bars,
                            caches=app.state.caches)
        return service.predict_signal(md, app.state.caches)

    @app.post("/predict/risk", response_model=RiskResponse, tags=["predict"],
              responses=_err(404, 413, 422, 429, 503))
    def predict_risk(body: RiskInput) -> dict:
        """Position size, stop loss, take profit, expected drawdown, volatility adjustment
        (:func:`core.risk.sizing.size_position`) on the last bar."""
        md = service.market(body.symbol, body.interval, body.as_of, body.source, body.bars,
                            caches=app.state.caches)
        params = body.model_dump(exclude={"symbol", "interval", "as_of", "source", "bars"})
        return service.predict_risk(md, params)

    @app.post("/predict/sentiment", response_model=SentimentResponse, tags=["predict"],
              responses=_err(413, 422, 429, 503))
    def predict_sentiment(body: TextsInput) -> dict:
        """Sentiment of headlines (lexicons + the MiniLM head when trained)."""
        return service.predict_sentiment(body.texts)

    @app.post("/predict/{family}", responses=_err(404, 422), tags=["predict"],
              response_model=ErrorBody, include_in_schema=False)
    def predict_unknown(family: str) -> dict:
        raise service.UnknownFamilyError(f"No predict route {family!r}. Known: "
                                         f"{', '.join(sorted(service.PREDICT_ROUTES))}.")

    @app.post("/batch", response_model=BatchResponse, tags=["predict"],
              responses=_err(413, 422, 429))
    def batch(body: BatchInput) -> dict:
        """One family over a universe, one page at a time (``symbols[offset:offset +
        limit]``, ``next_offset`` for the next page): a result or an error per symbol, never
        a failed batch."""
        t0 = time.perf_counter()
        fam = FAMILIES.get(service.PREDICT_FAMILIES[body.family])
        page = body.symbols[body.offset:body.offset + body.limit]
        end = body.offset + len(page)
        results = []
        for sym in page:
            try:
                if not sym or len(sym) > 20 or not sym.strip():
                    raise UnknownSymbolError(f"{sym[:40]!r} is not a ticker: use 1-20 "
                                             "characters such as MSFT or ^GSPC.")
                md = service.market(sym.strip(), body.interval, body.as_of, body.source,
                                    min_bars=getattr(fam, "min_bars", 1),
                                    caches=app.state.caches)
                results.append({"symbol": sym, "ok": True,
                                "result": service.predict(body.family, md, app.state.caches)})
            except QuantdeskError as err:
                results.append({"symbol": sym, "ok": False, "error": {
                    "error": type(err).__name__, "detail": str(err), "field": "symbols"}})
            except Exception:  # one symbol's bug must not fail the batch
                log.exception("batch %s: %s failed", body.family, sym)
                results.append({"symbol": sym, "ok": False, "error": {
                    "error": "InternalError", "detail": "An internal error occurred for this "
                    "symbol; it was logged on the server."}})
        return {"family": body.family, "count": len(results),
                "failed": sum(not r["ok"] for r in results),
                "latency_ms": (time.perf_counter() - t0) * 1000.0, "results": results,
                "total": len(body.symbols), "offset": body.offset, "limit": body.limit,
                "next_offset": end if end < len(body.symbols) else None}

    # ------------------------------------------------------------ page routes

    @app.post("/scan", response_model=ScanResponse, tags=["screener"],
              responses=_err(404, 413, 422, 429))
    def scan(body: ScanRequest) -> dict:
        """The Screener page: scan a universe (or a list of symbols) on its last bars, filter
        with 'column OP value' conditions, sort, and page (``offset``/``limit`` in,
        ``next_offset`` out, like ``POST /batch``). Rows are cached per fingerprint (the
        symbols' last bars and pinned model versions): paging through a scan never
        rescores. A symbol that cannot be scored is a row with ``error``, never a failed
        scan."""
        return pages.scan(body, app.state.caches)

    @app.post("/backtest", response_model=BacktestResponse, tags=["strategy"],
              responses=_err(404, 413, 422, 429))
    def backtest(body: BacktestRequest) -> dict:
        """The Strategy Lab page: backtest a strategy (JSON, or an example file of
        ``strategies/``) on a symbol's bars or bars from the body, after costs, beside
        buy-and-hold; optionally walk-forward over the strategy's ``tune`` grid. Returns
        the metrics side by side, the verdict, the trades (bounded) and the equity curves
        (downsampled)."""
        return pages.backtest(body, app.state.caches)

    @app.get("/context/{symbol}", response_model=ContextResponse, tags=["strategy"],
             responses=_err(404, 422, 429))
    def context(
        symbol: Annotated[str, Path(pattern=SYMBOL_PATTERN, examples=["MSFT"])],
        interval: Annotated[Interval, Query(description="Bar interval of the symbol.")] = "1d",
        universe: Annotated[str, Query(
            pattern=UNIVERSE_PATTERN, description="Universe whose breadth is measured: "
            "bundled, sp500, nasdaq100, dow30 or watchlist:OWNER.")] = "bundled",
        as_of: Annotated[dt.date | None, Query(
            description="The symbol's last bar on or before this date (default: its last "
                        "bar).")] = None,
        source: Annotated[Source, Query(description="auto: live first (cache, Yahoo, "
                                        "bundled fallback); bundled: the offline history "
                                        "only.")] = "auto",
    ) -> dict:
        """The Strategy Lab's market context beside a symbol, as of one of its bars, from
        data at or before it only: ^VIX and its regime, ^GSPC's trend, the universe's
        breadth and the symbol's liquidity, each with the date of the data it used."""
        return pages.context(symbol, interval, universe, as_of, source, app.state.caches)

    # ------------------------------------------------------------ paper book (any key)

    paper_responses = _err(401, 404, 422, 429)

    @app.get("/paper", response_model=PaperStatus, tags=["paper"],
             responses=_err(401, 429))
    def paper_status(key: Annotated[ApiKey, Depends(api_key)]) -> dict:
        """The Paper Book of this key (owner ``api:<key name>``): cash, equity, P&L,
        drawdown, exposure, positions, open orders. Simulated only: nothing is ever sent
        to a broker."""
        return pages.paper_status(pages.owner_of(key.name))

    @app.post("/paper/orders", response_model=PaperOrderResponse, status_code=201,
              tags=["paper"], responses=paper_responses)
    def paper_order(body: PaperOrderInput,
                    key: Annotated[ApiKey, Depends(api_key)]) -> dict:
        """Place a simulated order at the book's current bar of ``symbol``; it fills at the
        next bar's open (``POST /paper/mark``). Simulated only."""
        return pages.paper_order(pages.owner_of(key.name), body, app.state.caches)

    @app.delete("/paper/orders/{order_id}", response_model=PaperCancelResponse,
                tags=["paper"], responses=paper_responses)
    def paper_cancel(order_id: Annotated[int, Path(ge=1, le=2**62)],
                     key: Annotated[ApiKey, Depends(api_key)]) -> dict:
        """Cancel a pending order of this key's book."""
        return pages.paper_cancel(pages.owner_of(key.name), order_id)

    @app.post("/paper/mark", response_model=PaperMarkResponse, tags=["paper"],
              responses=paper_responses)
    def paper_mark(key: Annotated[ApiKey, Depends(api_key)],
                   body: Annotated[PaperMarkInput | None, Body()] = None) -> dict:
        """Show the book the next ``steps`` bars of each of its symbols (replayed from the
        bundled history offline): pending orders fill at the next open, the book is marked
        at every close. Simulated only."""
        return pages.paper_mark(pages.owner_of(key.name), body or PaperMarkInput(),
                                app.state.caches)

    @app.post("/paper/follow/{symbol}", response_model=PaperFollowResponse, tags=["paper"],
              responses=_err(401, 404, 422, 429, 503))
    def paper_follow(symbol: Annotated[str, Path(pattern=r"^[A-Za-z0-9^][A-Za-z0-9^.=\-]{0,14}$",
                                                 examples=["MSFT"])],
                     key: Annotated[ApiKey, Depends(api_key)],
                     body: Annotated[PaperFollowInput | None, Body()] = None) -> dict:
        """Follow the desk's fused signal for ``symbol`` at the book's current bar (the
        Overview's signal on the bars the book has seen): an order towards the target
        position, linked to the logged prediction that caused it. Simulated only."""
        b = body or PaperFollowInput()
        return pages.paper_follow(pages.owner_of(key.name), symbol, b.interval, b.source,
                                  app.state.caches)

    @app.post("/paper/strategies/{symbol}", response_model=PaperStrategyResponse,
              status_code=201, tags=["paper"], responses=_err(401, 404, 422, 429, 503))
    def paper_follow_strategy(
            symbol: Annotated[str, Path(pattern=r"^[A-Za-z0-9^][A-Za-z0-9^.=\-]{0,14}$",
                                        examples=["MSFT"])],
            body: PaperStrategyInput, key: Annotated[ApiKey, Depends(api_key)]) -> dict:
        """Follow a strategy for ``symbol`` from the book's current bar: at every new bar
        (``POST /paper/mark``) the book takes the strategy's decision, as the backtest would
        on the same bars; orders fill at the next open with the book's costs. Simulated
        only."""
        return pages.paper_follow_strategy(pages.owner_of(key.name), symbol, body,
                                           app.state.caches)

    @app.delete("/paper/strategies/{symbol}", response_model=PaperCancelResponse,
                tags=["paper"], responses=paper_responses)
    def paper_unfollow(symbol: Annotated[str, Path(pattern=r"^[A-Za-z0-9^][A-Za-z0-9^.=\-]{0,14}$",
                                                   examples=["MSFT"])],
                       key: Annotated[ApiKey, Depends(api_key)]) -> dict:
        """Stop following a strategy for ``symbol`` (the position and its orders stay)."""
        return pages.paper_unfollow(pages.owner_of(key.name), symbol)

    @app.post("/paper/reset", response_model=PaperStatus, tags=["paper"],
              responses=paper_responses)
    def paper_reset(key: Annotated[ApiKey, Depends(api_key)],
                    body: Annotated[PaperResetInput | None, Body()] = None) -> dict:
        """Start this key's book again (orders, positions and marks deleted; logged
        predictions kept) with the given cash, costs, signal fraction and shorting."""
        return pages.paper_reset(pages.owner_of(key.name), body or PaperResetInput())

    # ------------------------------------------------------------ admin routes

    @app.post("/admin/retrain/{family}", response_model=JobOut, status_code=202,
              tags=["admin"], responses=_err(401, 403, 404, 422, 429))
    def retrain(family: str, key: Annotated[ApiKey, Depends(admin_key)]) -> dict:
        """Start retraining ``family`` in the background; follow it at ``GET /jobs/{id}``."""
        service.family_of(family)
        return audited(key, "retrain", family,
                       lambda who: app.state.jobs.start(family, who).to_dict())

    @app.get("/jobs/{job_id}", response_model=JobOut, tags=["admin"],
             responses=_err(401, 404, 422, 429))
    def job(job_id: str, key: Annotated[ApiKey, Depends(api_key)]) -> dict:
        """A retrain job's status, progress [0, 1], version written or error."""
        found = app.state.jobs.get(job_id)
        if found is None:
            raise service.UnknownJobError(f"No job {job_id[:64]!r} (jobs are kept in memory "
                                             "until the server restarts).")
        return found.to_dict()

    def _registry_op(action: str, family: str, key: ApiKey, version: str | None = None):
        service.family_of(family)

        def run(who: str) -> dict:
            with session_scope() as s:
                if action == "promote":
                    row = promote(family, version, who=who, session=s)
                else:
                    row = {"rollback": rollback, "disable": disable,
                           "enable": enable}[action](family, who=who, session=s)
                return {"family": family, "action": action, "version": row.version,
                        "status": row.status, "who": who}
        try:
            return audited(key, action, family, run)
        finally:  # the next prediction (and scan) reads the serving version again
            app.state.caches.versions.clear()
            app.state.caches.scans.clear()

    admin_responses = _err(401, 403, 404, 409, 422, 429)

    @app.post("/admin/promote/{family}", response_model=AdminResult, tags=["admin"],
              responses=admin_responses)
    def admin_promote(family: str, body: PromoteInput,
                      key: Annotated[ApiKey, Depends(admin_key)]) -> dict:
        """Make ``version`` the serving one."""
        return _registry_op("promote", family, key, body.version)

    @app.post("/admin/rollback/{family}", response_model=AdminResult, tags=["admin"],
              responses=admin_responses)
    def admin_rollback(family: str, key: Annotated[ApiKey, Depends(admin_key)]) -> dict:
        """Serve the previously deployed version again."""
        return _registry_op("rollback", family, key)

    @app.post("/admin/disable/{family}", response_model=AdminResult, tags=["admin"],
              responses=admin_responses)
    def admin_disable(family: str, key: Annotated[ApiKey, Depends(admin_key)]) -> dict:
        """Switch the family off (its predictions answer 503, the panel shows the baseline)."""
        return _registry_op("disable", family, key)

    @app.post("/admin/enable/{family}", response_model=AdminResult, tags=["admin"],
              responses=admin_responses)
    def admin_enable(family: str, key: Annotated[ApiKey, Depends(admin_key)]) -> dict:
        """Undo disable."""
        return _registry_op("enable", family, key)

    return app
