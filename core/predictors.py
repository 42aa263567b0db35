"""The domain predictors of the live panel and the replay, in one place, and the panel's
core loop (predict -> fuse -> log -> backfill), testable without streamlit.

Each domain module exposes ``predict_latest(md: MarketData) -> list[Prediction]`` for the
last bar of ``md``. They are listed in :data:`DOMAIN_PREDICTORS` as ``"module:function"``
and imported lazily: a module that is not installed yet (or has no ``predict_latest``) is
skipped with a recorded reason ("forecast model not installed"), never raised.

* A family an admin disabled raises ``NotTrainedError("Model family 'X' is disabled ...")``
  from ``core.registry.load_active``: it is recorded as a *fallback* (the naive baseline
  serves, the panel shows a banner), see :func:`run_domain`.
* Every domain prediction is annotated with ``output["skill"]`` (True / False / None) from
  its artifact's metadata (:func:`artifact_skill`), so :func:`core.signals.fuse` ignores a
  model that did not beat its naive baseline walk-forward.
* Importing this module registers :func:`domain_predictor` with
  :func:`core.data.replay.register_predictor`, so ``quantdesk replay`` logs the same
  predictions the panel shows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from core.data import MarketData
from core.data.replay import DEFAULT_START_BARS, ReplaySource, cursor_key, naive_predictor
from core.data.replay import register_predictor
from core.errors import DataSourceError, NotTrainedError, QuantdeskError
from core.predictions import Prediction
from core.signals import Signal, fuse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainPredictor:
    """One domain's latest-bar predictor.

    Attributes:
        name: domain name shown in the panel (``forecast``, ``volatility``...).
        target: ``"module:function"`` with ``function(md) -> list[Prediction]`` (or, in
            tests, the callable itself).
        families: registry families it serves from (for the model status and fallbacks).
        missing: reason shown while the module is not installed.
    """

    name: str
    target: str | Callable[[MarketData], list[Prediction]]
    families: tuple[str, ...]
    missing: str


DOMAIN_PREDICTORS: list[DomainPredictor] = [
    DomainPredictor("forecast", "core.forecasting.service:predict_latest", ("forecast",),
                    "forecast model not installed"),
    DomainPredictor("volatility", "core.volatility.serve:predict_latest", ("volatility",),
                    "volatility model not installed"),
    DomainPredictor("patterns", "core.patterns.service:predict_latest",
                    ("patterns-cnn", "breakout"), "pattern models not installed"),
    DomainPredictor("sentiment", "core.sentiment.service:predict_latest", ("sentiment-head",),
                    "sentiment model not installed"),
]

#: panel replays start here when no cursor is stored (volatility needs >= 300 bars)
PANEL_START_BARS = max(DEFAULT_START_BARS, 300)


def resolve(dp: DomainPredictor) -> Callable[[MarketData], list[Prediction]] | None:
    """The predictor function, or None when its module/function is not installed."""
    if callable(dp.target):
        return dp.target
    module, func = dp.target.split(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        if err.name and not module.startswith(err.name):  # the module exists, a dependency not
            log.warning("%s predictor unavailable: %s", dp.name, err)
        return None
    return getattr(mod, func, None)


# ---------------------------------------------------------------- skill from metadata

_META_CACHE: dict[tuple[str, str], dict] = {}


def _metadata(family: str, version: str) -> dict:
    key = (family, version)
    if key not in _META_CACHE:
        from core.registry import read_metadata

        try:
            _META_CACHE[key] = read_metadata(family, version)
        except QuantdeskError:
            _META_CACHE[key] = {}
    return _META_CACHE[key]


def _wf_record(wf, symbol: str, horizon: int) -> dict | None:
    """Find the walk-forward result of (symbol, horizon) in common layouts:
    ``{symbol: {h: res}}``, ``{h: {symbol: res}}``, ``[res with symbol/horizon keys]``."""
    if isinstance(wf, list):
        for r in wf:
            if isinstance(r, dict) and str(r.get("symbol", "")).upper() == symbol \
                    and int(r.get("horizon", -1)) == horizon:
                return r
        return None
    if not isinstance(wf, dict):
        return None
    for a, b in ((symbol, str(horizon)), (str(horizon), symbol)):
        inner = wf.get(a)
        if isinstance(inner, dict):
            r = inner.get(b) if b in inner else inner.get(int(b) if b.isdigit() else b)
            if isinstance(r, dict):
                return r
    return None


def artifact_skill(metadata: dict, symbol: str, horizon: int) -> bool | None:
    """Whether a model beat its naive baseline walk-forward, per its artifact metadata.

    Looked up in order: ``metrics.skill`` (bool), ``skill`` (bool, or ``{symbol: {h:
    bool}}``), then a walk-forward record (``walk_forward`` / ``evaluation``) for this
    symbol and horizon: skill when it holds ``skill`` (bool), or when ``dm_pvalue < 0.05``
    and ``rmse_ratio`` below 1 by a practical margin (:func:`core.evaluation.beats_baseline`).

    Returns:
        True / False, or None when the metadata records no evaluation.
    """
    symbol = symbol.upper()
    metrics = metadata.get("metrics") or {}
    if isinstance(metrics.get("skill"), bool):
        return metrics["skill"]
    sk = metadata.get("skill")
    if isinstance(sk, bool):
        return sk
    if isinstance(sk, dict):
        r = _wf_record({k: {kk: {"skill": vv} for kk, vv in v.items()} if isinstance(v, dict)
                        else v for k, v in sk.items()}, symbol, horizon)
        if r is not None and isinstance(r.get("skill"), bool):
            return r["skill"]
    for key in ("walk_forward", "evaluation"):
        r = _wf_record(metadata.get(key), symbol, horizon)
        if r is None:
            continue
        if isinstance(r.get("skill"), bool):
            return r["skill"]
        p, ratio = r.get("dm_pvalue"), r.get("rmse_ratio")
        if isinstance(p, (int, float)) and isinstance(ratio, (int, float)):
            from core.evaluation import beats_baseline

            return beats_baseline(p, ratio)
    return None


def with_skill(p: Prediction) -> Prediction:
    """``p`` with ``output["skill"]`` set from its artifact metadata when the predictor did
    not set it (naive and on-the-fly versions stay None)."""
    out = dict(p.output or {})
    if "skill" in out or p.model_version in ("naive", "onthefly", ""):
        return p
    out["skill"] = artifact_skill(_metadata(p.model_name, p.model_version), p.symbol,
                                  int(p.horizon))
    return dataclasses.replace(p, output=out)


# ---------------------------------------------------------------- running the domains

@dataclass
class DomainRun:
    """What the domain predictors produced for one bar.

    Attributes:
        predictions: every domain prediction (skill-annotated), including non-loggable
            ones (pattern detections at horizon 0).
        skipped: domain -> reason it produced nothing (not installed, not trained...).
        fallbacks: family -> banner text when the family is disabled (naive serves).
        errors: ``domain: message`` for predictors that failed.
        shadow: predictions of the arm of a running A/B test that is *not* served on this
            bar (logged for the comparison, not shown or fused).
    """

    predictions: list[Prediction] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    shadow: list[Prediction] = field(default_factory=list)


@dataclass(frozen=True)
class Experiment:
    """A running champion/challenger test (see :mod:`core.abtest`)."""

    name: str
    family: str
    champion: str
    challenger: str
    share: float
    salt: str


def running_experiments(*, session) -> dict[str, Experiment]:
    """Running A/B tests by family (empty when the store has none)."""
    from sqlmodel import select

    from core.store import ABTest

    rows = session.exec(select(ABTest).where(ABTest.status == "running")).all()
    return {r.family: Experiment(r.name, r.family, r.champion_version, r.challenger_version,
                                 float(r.share), r.salt or r.name) for r in rows}


def _accepts_artifact(fn) -> bool:
    import inspect

    try:
        return "artifact" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _ab_split(md: MarketData, fn, preds: list[Prediction], exp: Experiment
              ) -> tuple[list[Prediction], list[Prediction], str | None]:
    """Champion/challenger on one bar: both arms are predicted; ``route`` picks the served
    one. Returns ``(served, shadow, error)``. Needs a predictor with an ``artifact``
    keyword (e.g. ``core.forecasting.service.predict_latest``)."""
    from core.abtest import CHALLENGER, route
    from core.registry import load_artifact

    mine = [p for p in preds if p.model_name == exp.family]
    if not mine or mine[0].model_version != exp.champion or not _accepts_artifact(fn):
        return preds, [], None
    try:
        other = [p for p in fn(md, artifact=load_artifact(exp.family, exp.challenger))
                 if p.model_name == exp.family]
    except QuantdeskError as err:
        return preds, [], f"A/B {exp.name}: challenger {exp.challenger} failed: {err}"

    def tag(ps, arm):
        return [dataclasses.replace(p, output={**(p.output or {}),
                                               "ab": {"test": exp.name, "arm": arm}})
                for p in ps]

    arm = route(md.symbol, md.frame.index[-1], exp.share, exp.salt)
    champ, chall = tag(mine, "champion"), tag(other, "challenger")
    rest = [p for p in preds if p.model_name != exp.family]
    if arm == CHALLENGER:
        return rest + chall, champ, None
    return rest + champ, chall, None


def run_domain(md: MarketData, predictors: list[DomainPredictor] | None = None,
               experiments: dict[str, Experiment] | None = None) -> DomainRun:
    """Run every domain predictor on ``md`` (bars <= its last bar). Never raises for a
    missing, untrained, disabled or failing model: the result records why.

    ``experiments`` (family -> running A/B test): both versions predict; the deterministic
    route (:func:`core.abtest.route`) decides which one is served, the other goes to
    ``shadow`` so both are logged on the same bars."""
    res = DomainRun()
    for dp in predictors if predictors is not None else DOMAIN_PREDICTORS:
        fn = resolve(dp)
        if fn is None:
            res.skipped[dp.name] = dp.missing
            continue
        try:
            preds = fn(md)
        except NotTrainedError as err:
            msg = str(err)
            if "disabled" in msg:
                fam = next((f for f in dp.families if f"'{f}'" in msg), dp.families[0])
                res.fallbacks[fam] = "disabled by an admin: naive baseline shown"
            else:
                res.skipped[dp.name] = msg
            continue
        except QuantdeskError as err:
            res.skipped[dp.name] = str(err)
            res.errors.append(f"{dp.name}: {err}")
            continue
        except Exception as err:  # a bug in a domain must not take the panel down
            log.exception("%s predictor failed", dp.name)
            res.errors.append(f"{dp.name}: {type(err).__name__}: {err}")
            continue
        if not preds:
            res.skipped.setdefault(dp.name, "no prediction on this bar")
        preds = list(preds or [])
        for fam in dp.families:
            if experiments and fam in experiments:
                preds, shadow, err = _ab_split(md, fn, preds, experiments[fam])
                res.shadow.extend(with_skill(p) for p in shadow)
                if err:
                    res.errors.append(err)
        res.predictions.extend(with_skill(p) for p in preds)
    return res


def loggable(preds: list[Prediction]) -> list[Prediction]:
    """Predictions the store accepts (horizon >= 1, finite value); pattern detections on
    the bar itself (horizon 0) are shown but not logged."""
    out = []
    for p in preds:
        try:
            ok = int(p.horizon) >= 1 and p.value is not None and math.isfinite(float(p.value))
        except (TypeError, ValueError):
            ok = False
        if ok:
            out.append(p)
    return out


def domain_predictor(md: MarketData) -> list[Prediction]:
    """Replay predictor: the loggable domain predictions of ``md``'s last bar (both arms
    of running A/B tests)."""
    experiments = {}
    try:
        from core.store import session_scope

        with session_scope() as s:
            experiments = running_experiments(session=s)
    except Exception:  # no store: no experiments
        pass
    run = run_domain(md, experiments=experiments)
    return loggable(run.predictions + run.shadow)


register_predictor(domain_predictor)


# ---------------------------------------------------------------- model status

@dataclass
class ModelStatus:
    """Serving state of one family: ``state`` in active | disabled | disk | not trained."""

    family: str
    state: str
    version: str | None
    message: str


def model_status(families: list[str] | None = None, *, session=None) -> list[ModelStatus]:
    """Serving state of each family (default: every family of every domain predictor)."""
    from core import registry
    from core.store import active_version, is_disabled

    fams = families or [f for dp in DOMAIN_PREDICTORS for f in dp.families]
    out = []
    for fam in fams:
        try:
            act = active_version(fam, session=session) if session is not None else None
            dis = is_disabled(fam, session=session) if session is not None else False
        except Exception:  # store unreachable: report from disk
            act, dis = None, False
        if dis:
            out.append(ModelStatus(fam, "disabled", None, "disabled by an admin: naive "
                                   "baseline shown"))
        elif act:
            out.append(ModelStatus(fam, "active", act, f"active {act}"))
        else:
            versions = registry.list_versions(fam)
            if versions:
                out.append(ModelStatus(fam, "disk", versions[-1],
                                       f"newest on disk {versions[-1]} (not registered)"))
            else:
                out.append(ModelStatus(fam, "not trained", None, "no trained version"))
    return out


# ---------------------------------------------------------------- one symbol's panel

@dataclass
class SymbolPanel:
    """Everything the Overview shows for one symbol at its latest bar.

    Attributes:
        symbol, interval, source: what was predicted and where the bars came from.
        bar_ts: the latest bar (UTC). last_price: its close. change_pct: close-to-close
            simple return of the latest bar [%] (None with one bar).
        predictions: naive + domain predictions of this bar.
        forecasts: rows ``model, version, horizon, value_pct, lower_pct, upper_pct, skill``
            (simple returns [%], 80% interval) of every ``log_return`` prediction.
        pattern: strongest pattern text or None. regime: volatility regime or None.
        vol_ann: forecast volatility [% ann.] of the shortest horizon, or None.
        sentiment: sentiment score in [-1, 1] or None.
        signal: the fused :class:`core.signals.Signal`.
        skipped / fallbacks / errors: see :class:`DomainRun`.
    """

    symbol: str
    interval: str
    source: str
    bar_ts: pd.Timestamp
    last_price: float
    change_pct: float | None
    predictions: list[Prediction]
    forecasts: list[dict]
    pattern: str | None
    regime: str | None
    vol_ann: float | None
    sentiment: float | None
    signal: Signal
    skipped: dict[str, str]
    fallbacks: dict[str, str]
    errors: list[str]
    shadow: list[Prediction] = field(default_factory=list)


def _pct(x):
    return None if x is None else 100.0 * math.expm1(x)


def symbol_panel(md: MarketData, predictors: list[DomainPredictor] | None = None,
                 experiments: dict[str, Experiment] | None = None) -> SymbolPanel:
    """Predict, summarise and fuse the latest bar of ``md`` (no store access; running A/B
    tests are passed in as ``experiments``, see :func:`run_domain`).

    Raises:
        InsufficientDataError: ``md`` has no bars.
    """
    from core.errors import InsufficientDataError

    f = md.frame
    if f is None or f.empty:
        raise InsufficientDataError(f"{md.symbol}: no bars to predict from.")
    run = run_domain(md, predictors, experiments)
    naive = naive_predictor(md)
    preds = naive + run.predictions
    close = f["close"]
    change = float(100 * (close.iloc[-1] / close.iloc[-2] - 1)) if len(f) > 1 else None
    fc_rows = [{"model": p.model_name, "version": p.model_version, "horizon": int(p.horizon),
                "value_pct": _pct(p.value), "lower_pct": _pct(p.lower),
                "upper_pct": _pct(p.upper), "skill": (p.output or {}).get("skill")}
               for p in preds if p.kind == "log_return"]
    fc_rows.sort(key=lambda r: (r["model"] == "naive", r["horizon"]))
    pattern = None
    pats = [p for p in run.predictions if p.model_name in ("patterns-cnn", "patterns")]
    if pats:
        p = max(pats, key=lambda q: q.value)
        o = p.output or {}
        name = str(o.get("event") or "pattern").replace("_", " ")
        fired = bool(o.get("rule_hit")) or p.value >= float(o.get("threshold", 1.1))
        pattern = (f"{name} ({o.get('direction', 'neutral')}, p={p.value:.2f})" if fired
                   else f"none (closest: {name}, p={p.value:.2f})")
    regime = vol = None
    vols = sorted((p for p in run.predictions if p.kind == "variance"), key=lambda q: q.horizon)
    if vols:
        o = vols[0].output or {}
        regime = o.get("regime")
        if o.get("vol_ann") is not None:
            vol = 100.0 * float(o["vol_ann"])
    sent = next((p for p in run.predictions if p.model_name.startswith("sentiment")), None)
    sentiment = None
    if sent is not None:
        sentiment = 2 * sent.value - 1 if sent.kind == "probability" else float(sent.value)
    fallbacks = dict(run.fallbacks)
    if "forecast" in run.skipped and "forecast" not in fallbacks:
        fallbacks["forecast"] = f"{run.skipped['forecast']}: naive baseline only"
    signal = fuse(run.predictions, regime=regime, fallbacks=fallbacks)
    return SymbolPanel(md.symbol, md.interval, md.source, f.index[-1], float(close.iloc[-1]),
                       change, preds, fc_rows, pattern, regime, vol, sentiment, signal,
                       run.skipped, run.fallbacks, run.errors, run.shadow)


# ---------------------------------------------------------------- store side of a refresh

def log_panel(panels: list[SymbolPanel], *, session) -> tuple[int, list[str]]:
    """Log the loggable predictions of ``panels`` (idempotent per symbol/bar/model version);
    one batch per (symbol, model) so a bad record cannot block the others. Also counts
    ``requests``/``errors`` for the monitoring error rate.

    Returns:
        ``(rows inserted, error messages)``.
    """
    from core.store import log_predictions, record_metric

    inserted, errors = 0, []
    for sp in panels:
        groups: dict[str, list[Prediction]] = {}
        for p in loggable(sp.predictions + sp.shadow):
            groups.setdefault(p.model_name, []).append(p)
        for name, preds in groups.items():
            try:  # log_predictions validates the whole batch before inserting any row
                inserted += log_predictions(preds, session=session)
            except QuantdeskError as err:
                errors.append(f"{sp.symbol} {name}: {err}")
        record_metric("requests", 1, session=session, detail={"source": "panel",
                                                               "symbol": sp.symbol})
        if sp.errors:
            record_metric("errors", len(sp.errors), session=session,
                          detail={"source": "panel", "symbol": sp.symbol})
    return inserted, errors


def backfill_watchlist(bars: dict[tuple[str, str], pd.DataFrame], *, session) -> int:
    """Fill outcomes of pending predictions of the watchlist only, from the bars known now
    (``bars[(SYMBOL, interval)]``: the visible frame; other symbols stay pending)."""
    from core.store import backfill_outcomes

    def load(symbol: str, interval: str):
        try:
            return bars[(symbol.upper(), interval)]
        except KeyError:
            raise DataSourceError("not on the watchlist") from None

    return backfill_outcomes(session=session, load_bars=load)


# ---------------------------------------------------------------- replay on the panel

def replay_position(symbol: str, interval: str, *, session) -> int | None:
    """Stored replay cursor (index of the last visible bar) or None."""
    from core.store.tables import ReplayCursor

    row = session.get(ReplayCursor, cursor_key(symbol, interval))
    return None if row is None else int(row.position)


def replay_tick(symbol: str, frame: pd.DataFrame, *, session, interval: str = "1d",
                steps: int = 1, start_bars: int | None = None) -> MarketData:
    """Advance the stored replay of ``symbol`` by ``steps`` bars and return the visible bars.

    Shares the cursor of ``quantdesk replay`` (``replay_cursors``), so the panel and the
    CLI continue one another. Without a stored cursor it starts at ``start_bars`` (default
    :data:`PANEL_START_BARS`, capped to the history). ``steps=0`` only reads.

    Raises:
        InsufficientDataError: empty history.
    """
    from core.store.db import to_utc, utcnow
    from core.store.tables import ReplayCursor

    key = cursor_key(symbol, interval)
    row = session.get(ReplayCursor, key)
    if start_bars is not None or row is None or row.position >= len(frame):
        src = ReplaySource(frame, min(start_bars or PANEL_START_BARS, len(frame)))
    else:
        src = ReplaySource(frame, row.position + 1)
    for _ in range(max(0, steps)):
        if not src.step():
            break
    row = row or ReplayCursor(key=key, position=src.position)
    row.position, row.cursor_ts, row.updated_at = src.position, to_utc(src.cursor_ts), utcnow()
    session.add(row)
    session.flush()
    md = src.market_data(symbol, interval)
    if src.done:
        md.notes.append("Replay reached the end of the history.")
    return md


@dataclass
class PanelRefresh:
    """One refresh of the watchlist: panels, what was logged and backfilled, and when."""

    generated_at: dt.datetime
    panels: list[SymbolPanel]
    logged: int
    outcomes: int
    errors: list[str]
    seconds: float


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
    from core.store.db import utcnow

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


# ---------------------------------------------------------------- naive-baseline family

NAIVE_FAMILY = "naive-baseline"


def evaluate_naive(frame: pd.DataFrame, horizons=(1, 5), window: int | None = None) -> dict:
    """Out-of-sample scores of the naive baseline on one history (it fits nothing, so every
    bar with a realised target is unseen): per horizon ``n``, ``mae`` [log return],
    ``coverage_80`` (share of realised returns inside ``+-z * s_t * sqrt(h)``, ``s_t`` the
    std of the last ``window`` 1-bar log returns up to bar t) and ``always_up`` (share of
    positive realised returns, the directional baseline)."""
    import numpy as np

    from core.data.replay import NAIVE_STD_WINDOW, Z80
    from core.targets import forward_log_return

    window = window or NAIVE_STD_WINDOW
    r1 = np.log(frame["close"]).diff()
    s = r1.rolling(window, min_periods=window).std(ddof=1)
    out = {}
    for h in horizons:
        y = forward_log_return(frame["close"], h)
        ok = y.notna() & s.notna()
        yy, half = y[ok], Z80 * s[ok] * math.sqrt(h)
        out[str(h)] = {"n": int(ok.sum()), "mae": float(yy.abs().mean()),
                       "coverage_80": float((yy.abs() <= half).mean()),
                       "always_up": float((yy > 0).mean())}
    return out


def train_naive_baseline(progress=None):
    """Trainer of the ``naive-baseline`` family (seconds): records the naive predictor's
    parameters (zero-return forecast, 80% interval from the last 20 one-bar log returns,
    Hyndman & Athanasopoulos, FPP3 section 5.5) and its out-of-sample MAE / coverage on every
    bundled symbol as a plain-JSON artifact. It is the reference every model is compared
    with, and the quickest family to retrain from the Admin page.

    Returns:
        :class:`core.registry.Artifact` (``params.json``).
    """
    import json

    from core.data import BUNDLED_SYMBOLS, load_ohlcv
    from core.data.replay import NAIVE_HORIZONS, NAIVE_STD_WINDOW, Z80
    from core.predictions import hash_inputs
    from core.registry import save_artifact

    params = {"horizons": list(NAIVE_HORIZONS), "std_window": NAIVE_STD_WINDOW, "z80": Z80,
              "forecast": "zero log return"}
    evaluation, data = {}, {}
    for i, sym in enumerate(BUNDLED_SYMBOLS):
        md = load_ohlcv(sym, "1d")
        evaluation[sym] = evaluate_naive(md.frame, NAIVE_HORIZONS, NAIVE_STD_WINDOW)
        f = md.frame
        data[sym] = {"bars": len(f), "first": f.index[0].isoformat(),
                     "last": f.index[-1].isoformat(), "sha256": hash_inputs(f)}
        if progress:
            progress((i + 1) / len(BUNDLED_SYMBOLS), f"{sym} scored")
    cov = [v["coverage_80"] for e in evaluation.values() for v in e.values()]
    meta = {"kind": "log_return", "interval": "1d", "params": params,
            "method": "random walk (zero-return) forecast with a normal 80% interval",
            "evaluation": evaluation, "data": data,
            "metrics": {"mean_coverage_80": float(sum(cov) / len(cov)),
                        "note": "baseline: skill is measured against it, not for it"}}
    return save_artifact(NAIVE_FAMILY, {"params.json": json.dumps(params).encode()}, meta)
