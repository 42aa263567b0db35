"""Universe-wide retraining of the pooled forecast model
(``quantdesk train forecast --universe NAME``).

The per-symbol work (load the bars, build the feature and target rows on the symbol's own
bars: :func:`core.forecasting.pooled.symbol_design`, features from bars <= t, targets kept
apart) is one pure task per symbol, :func:`symbol_task`, run on the batch engine
(:func:`core.batch.run_batch`: serially, or as Ray tasks on a local instance or
the cluster in ``RAY_ADDRESS``). The driver then fits the pooled forecaster on the stacked
rows (:func:`core.forecasting.pooled.fit_pooled`, the same fit as ``train forecast``) and
judges it leave-symbols-out, walk-forward, beside the zero-return random walk
(:func:`core.forecasting.pooled.evaluate_leave_symbols_out`): up to
:data:`EVAL_SYMBOLS` held-out symbols in rotating folds, each fold's model trained only on
the other symbols.

A symbol that is unknown, unavailable (offline: everything but the bundled symbols) or too
short is skipped with its reason (in the output and in ``metadata["universe"]``); the run
goes on with the rest. Fewer than :data:`MIN_SYMBOLS` usable symbols is refused
(:class:`core.errors.InsufficientDataError`). The version written holds the pooled model
only (no per-symbol heads), so it serves every symbol through the pooled model; like every
retrain it is a candidate until promoted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

from core.data import load_ohlcv
from core.data.batch import prefetch_yahoo
from core.errors import InsufficientDataError, QuantdeskError
from core.evaluation import beats_baseline
from core.forecasting.evaluate import INITIAL_TRAIN, verdict
from core.forecasting.pooled import (
    POOLED_STEP, SymbolDesign, default_folds, evaluate_leave_symbols_out, fit_pooled,
    symbol_design,
)
from core.forecasting.report import pooled_verdict
from core.forecasting.train import MIN_TRAIN_BARS, default_horizons, save_pooled_version
from core.predictions import hash_inputs
from core.batch import choose_engine, run_batch

#: the fewest symbols with bars a universe training accepts: two held-out folds that each
#: still train on at least two symbols
MIN_SYMBOLS = 4
#: held-out symbols of the leave-symbols-out evaluation (a bounded sample of a big universe:
#: each costs a pooled refit per walk-forward block and horizon)
EVAL_SYMBOLS = 6
#: rotating folds of the held-out symbols (fewer when there are fewer symbols)
EVAL_FOLDS = 3

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SymbolJob:
    """One symbol's task: its ticker and bar interval (``symbol`` names the row)."""

    symbol: str
    interval: str = "1d"


def symbol_task(job: SymbolJob, horizons: Sequence[int], min_bars: int = MIN_TRAIN_BARS,
                max_bars: int | None = None) -> dict:
    """The per-symbol task of universe training: load ``job.symbol``'s bars
    (:func:`core.data.load_ohlcv`; the last ``max_bars`` when given) and build its design
    (:func:`core.forecasting.pooled.symbol_design`, all feature columns).

    Pure in the batch engine's sense: it reads only its arguments and the data the driver's
    settings name (shipped to Ray workers by the engine), and never raises: a failure is the
    row's ``error``.

    Returns:
        ``{"symbol", "error": None, "source", "bars", "first", "last", "sha256", "frame"
        (the bars used), "design" (SymbolDesign)}``, or ``{"symbol", "error": reason}``.
    """
    sym = job.symbol.strip().upper()
    try:
        md = load_ohlcv(sym, job.interval, min_bars=min_bars)
        frame = md.frame if max_bars is None else md.frame.iloc[-int(max_bars):]
        if len(frame) < min_bars:
            raise InsufficientDataError(f"{sym}: {len(frame)} bars; training needs at least "
                                        f"{min_bars}.")
        design = symbol_design(md.symbol, frame, horizons)
    except QuantdeskError as err:
        return {"symbol": sym, "error": str(err)[:300]}
    except Exception as err:  # an unexpected fault is still this symbol's alone
        return {"symbol": sym, "error": f"{type(err).__name__}: {err}"[:300]}
    return {"symbol": md.symbol, "error": None, "source": md.source, "bars": len(frame),
            "first": frame.index[0].isoformat(), "last": frame.index[-1].isoformat(),
            "sha256": hash_inputs(frame), "frame": frame, "design": design}


def split_rows(rows: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """Task rows -> (rows with a design, in order; ``[{"symbol", "reason"}]`` skipped)."""
    used, skipped = [], []
    for r in rows:
        if r.get("error") or r.get("design") is None:
            skipped.append({"symbol": r.get("symbol"), "reason": r.get("error") or "no rows"})
        else:
            used.append(r)
    return used, skipped


def held_out(designs: dict[str, SymbolDesign], horizons: Sequence[int], n: int,
             initial_train: int = INITIAL_TRAIN) -> list[str]:
    """Up to ``n`` test symbols for the leave-symbols-out evaluation, evenly spread over the
    symbols with enough rows for one walk-forward block at every horizon (order kept)."""
    need = initial_train + max(horizons) + 20
    ok = [s for s, d in designs.items() if len(d.X) >= need]
    if len(ok) <= n:
        return ok
    return [ok[int(i * len(ok) / n)] for i in range(n)]


def evaluation_cells(results: list[dict]) -> list[dict]:
    """The leave-symbols-out results, one compact dict per (fold, test symbol, horizon): the
    pooled model beside the zero-return random walk on the same unseen bars."""
    out = []
    for r in results:
        p, ratio = r.get("dm_pvalue"), r.get("rmse_ratio")
        out.append({
            "symbol": r["symbol"], "fold": r["fold"], "horizon": r["horizon"],
            "n_test": r["n_test"], "train_symbols": len(r["train_symbols"]),
            "pooled_rmse": (r.get("ensemble") or {}).get("rmse"),
            "random_walk_rmse": (r.get("random_walk") or {}).get("rmse"),
            "rmse_ratio": ratio, "dm_pvalue": p,
            "beats_random_walk": bool(beats_baseline(p, ratio)) if p is not None else False,
            "per_symbol_rmse_ratio": (r.get("per_symbol") or {}).get("rmse_ratio"),
            "coverage_80": r.get("coverage_80"), "verdict": verdict(r)})
    return out


def train_universe(symbols: Sequence[str], *, universe: str = "custom", title: str = "",
                   list_as_of: str = "", interval: str = "1d",
                   horizons: Sequence[int] | None = None, engine: str | None = None,
                   max_bars: int | None = None, eval_symbols: int = EVAL_SYMBOLS,
                   step: int = POOLED_STEP, initial_train: int = INITIAL_TRAIN,
                   min_symbols: int = MIN_SYMBOLS, models_dir=None,
                   progress: Progress | None = None, **model_kwargs):
    """Train the pooled forecast model over ``symbols`` and save a new registry version.

    Args:
        symbols: the universe's tickers (order kept). universe, title, list_as_of: what it
            is called and where its list comes from (recorded).
        interval: bar interval. horizons: bars ahead (default
            :func:`core.forecasting.train.default_horizons`).
        engine: ``ray``/``serial``/``auto`` for the per-symbol tasks (None: the setting).
        max_bars: train on each symbol's last ``max_bars`` bars (None: its whole history).
        eval_symbols: held-out symbols of the evaluation (see :func:`held_out`).
        step, initial_train: walk-forward refit period and first window [bars].
        min_symbols: refuse below this many usable symbols.
        model_kwargs: passed to every :class:`HorizonForecaster` (tests: small params).

    Returns:
        The saved :class:`core.registry.Artifact`; ``metadata["universe"]`` holds the
        symbols used and skipped (with reasons), the engine and the seconds of each stage;
        ``metadata["leave_symbols_out"]`` the evaluation (or ``metadata["universe"]
        ["evaluation_skipped"]`` its reason).

    Raises:
        InsufficientDataError: fewer than ``min_symbols`` symbols have usable bars (the
            message names the skipped ones and why).
        DataValidationError: an unknown engine, or Ray cannot start.
    """
    t0 = time.perf_counter()
    symbols = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
    horizons = [int(h) for h in (horizons or default_horizons(interval))]
    used_engine = choose_engine(engine, len(symbols))

    def say(frac: float, msg: str) -> None:
        if progress:
            progress(min(max(frac, 0.0), 1.0), msg)

    say(0.0, f"loading {len(symbols)} symbols")
    prefetch_yahoo(symbols, interval)  # one batched download when online; no-op offline
    jobs = [SymbolJob(s, interval) for s in symbols]
    rows = run_batch(symbol_task, jobs, horizons, MIN_TRAIN_BARS, max_bars,
                     engine=used_engine,
                     progress=lambda d, t: say(0.3 * d / max(t, 1), f"rows {d}/{t}"))
    t_tasks = time.perf_counter() - t0
    used, skipped = split_rows(rows)
    if len(used) < min_symbols:
        why = ""
        if skipped:
            names = ", ".join(s["symbol"] for s in skipped[:8])
            more = f" and {len(skipped) - 8} more" if len(skipped) > 8 else ""
            why = (f" {len(skipped)} skipped: {names}{more} ({skipped[0]['symbol']}: "
                   f"{skipped[0]['reason']})")
        raise InsufficientDataError(
            f"Only {len(used)} of {len(symbols)} symbols of universe {universe!r} have enough "
            f"{interval} bars to train on; the pooled model needs at least {min_symbols}. "
            f"Not trained.{why}")
    designs = {r["symbol"]: r["design"] for r in used}
    frames = {r["symbol"]: r["frame"] for r in used}

    t1 = time.perf_counter()
    columns, fitted = fit_pooled(None, horizons, designs=list(designs.values()),
                                 progress=lambda f, m: say(0.3 + 0.3 * f, m), **model_kwargs)
    t_fit = time.perf_counter() - t1

    t2 = time.perf_counter()
    tests = held_out(designs, horizons, eval_symbols, initial_train)
    results, eval_skipped, folds = None, None, []
    if len(tests) < 2:
        eval_skipped = (f"{len(tests)} symbol(s) have the {initial_train + max(horizons) + 20} "
                        "usable bars one walk-forward block needs at every horizon; the "
                        "leave-symbols-out evaluation needs 2.")
    else:
        folds = default_folds(tests, min(EVAL_FOLDS, len(tests)))
        try:
            results = evaluate_leave_symbols_out(
                frames, horizons, folds=folds, step=step, initial_train=initial_train,
                designs=designs, progress=lambda f, m: say(0.6 + 0.38 * f, f"evaluate {m}"),
                **model_kwargs)
        except QuantdeskError as err:  # e.g. a fold without training rows before its test
            eval_skipped = f"leave-symbols-out evaluation not possible: {err}"
    t_eval = time.perf_counter() - t2

    info = {
        "name": universe, "title": title or universe, "list_as_of": list_as_of,
        "symbols_total": len(symbols), "used": list(designs), "skipped": skipped,
        "engine": used_engine, "max_bars": max_bars,
        "seconds": {"tasks": round(t_tasks, 2), "fit": round(t_fit, 2),
                    "evaluation": round(t_eval, 2),
                    "total": round(time.perf_counter() - t0, 2)},
        "evaluation": {"held_out": tests, "folds": [list(f) for f in folds], "step": step,
                       "initial_train": initial_train,
                       "summary": pooled_verdict(results) if results else None},
    }
    if eval_skipped:
        info["evaluation_skipped"] = eval_skipped
    data_info = {r["symbol"]: {k: r[k] for k in ("source", "bars", "first", "last", "sha256")}
                 for r in used}
    art = save_pooled_version(fitted, columns, list(designs), interval=interval,
                              horizons=horizons, data_info=data_info, universe=info,
                              pooled_evaluation=results, t0=t0, models_dir=models_dir,
                              **model_kwargs)
    say(1.0, f"saved forecast/{art.version}")
    return art
