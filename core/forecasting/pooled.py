"""The pooled (cross-symbol) forecaster: stacked design, fit, the per-symbol-vs-pooled
validation comparison that decides which serves, and the leave-symbols-out walk-forward
evaluation (``quantdesk evaluate forecast --pooled``).

Method: the features of ``core.features.build_features`` are scale-free (returns, ratios,
z-scores), so the rows of several symbols can train one model. Each symbol's design is built
on its own bars (no feature crosses a symbol boundary); the rows are stacked in time order and
the forecaster's inner validation is purged by time (a block's training rows have their
target realised before the block's first origin bar), as is every walk-forward test block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.evaluation import (
    coverage,
    diebold_mariano,
    rmse,
    rmse_ratio,
    spearman_ic,
    walk_forward_splits,
)
from core.forecasting.evaluate import (
    INITIAL_TRAIN, score_predictions, usable_start, walk_forward_design,
)
from core.forecasting.features import design_features, design_target
from core.forecasting.model import HorizonForecaster

Progress = Callable[[float, str], None]


def _ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC), for sorting and purging."""
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return np.asarray(index, dtype="datetime64[ns]").astype("int64")


@dataclass
class SymbolDesign:
    """One symbol's part of the stacked design, from the end of its indicator warm-up on:
    the unit of per-symbol work of pooled training (:func:`symbol_design`).

    Attributes:
        symbol: ticker. X: feature rows (bars <= t only), indexed by origin bar (UTC).
        origin: origin bars as int64 ns (UTC), aligned with ``X``.
        targets: {horizon: (y, sigma_h, target_end)}: the forward log return over
            ``horizon`` bars (NaN where not yet known), its volatility scale, and the bar the
            target is realised at as int64 ns (int64 max where not yet known). Kept apart
            from ``X``: a target is never a feature.
    """

    symbol: str
    X: pd.DataFrame
    origin: np.ndarray
    targets: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]

    @property
    def columns(self) -> list[str]:
        """Feature columns, in order."""
        return list(self.X.columns)


def symbol_design(symbol: str, frame: pd.DataFrame, horizons: Sequence[int],
                  columns: list[str] | None = None) -> SymbolDesign:
    """The pure per-symbol step of the pooled design: features
    (:func:`core.forecasting.features.design_features`) and targets
    (:func:`core.forecasting.features.design_target`) computed on ``frame``'s own bars only
    (features never cross a symbol boundary), cut at the indicator warm-up
    (:func:`core.forecasting.evaluate.usable_start`). Reads nothing but its arguments, so it
    runs the same serially or as a Ray task.

    Args:
        symbol: ticker (carried into the stacked design).
        frame: validated OHLCV frame (UTC DatetimeIndex).
        horizons: bars ahead; one target per horizon, features computed once.
        columns: feature columns (default all).

    Raises:
        InsufficientDataError: no bar has every feature defined.
        ArtifactIntegrityError: a requested column is no longer produced.
    """
    X = design_features(frame, columns)
    s0 = usable_start(X)
    idx = _ns(frame.index)
    targets = {}
    for h in horizons:
        h = int(h)
        y, sig = design_target(frame, h)
        end = np.full(len(frame), np.iinfo(np.int64).max, dtype=np.int64)
        end[:-h] = idx[h:]
        targets[h] = (y.to_numpy()[s0:], sig.to_numpy()[s0:], end[s0:])
    return SymbolDesign(symbol, X.iloc[s0:], idx[s0:], targets)


def stack_designs(designs: Sequence[SymbolDesign], horizon: int, cutoff=None):
    """Stack per-symbol designs (:func:`symbol_design`) at ``horizon`` in time order: all
    rows stably sorted by origin bar (ties: the order of ``designs``), so a time-ordered
    split of the stack is forward in time for every symbol.

    Args:
        designs: per-symbol designs with the same feature columns, each holding ``horizon``.
        cutoff: keep only rows whose target is realised strictly before this time (purged
            training set for a test block starting at ``cutoff``); None keeps all.

    Returns:
        See :func:`stacked_design`.

    Raises:
        InsufficientDataError: no rows are left.
        ValueError: the designs disagree on the feature columns.
    """
    parts = []
    columns = designs[0].columns if designs else []
    limit = _ns(pd.DatetimeIndex([pd.Timestamp(cutoff)]))[0] if cutoff is not None else None
    for sd in designs:
        if sd.columns != columns:
            raise ValueError(f"{sd.symbol}: feature columns differ from {designs[0].symbol}'s")
        y, sig, end = sd.targets[int(horizon)]
        d = pd.DataFrame(sd.X.to_numpy(), columns=columns)
        d["__y"], d["__sig"] = y, sig
        d["__origin"], d["__end"] = sd.origin, end
        d["__sym"] = sd.symbol
        d["__ts"] = sd.X.index
        if limit is not None:
            d = d[d["__end"] < limit]
        parts.append(d)
    if not parts or not sum(len(p) for p in parts):
        raise InsufficientDataError("No training rows for the pooled forecast model.")
    d = pd.concat(parts, ignore_index=True).sort_values("__origin", kind="stable")
    d = d.reset_index(drop=True)
    return (d[columns], d["__y"].to_numpy(), d["__sig"].to_numpy(), d["__origin"].to_numpy(),
            d["__end"].to_numpy(), d["__sym"].to_numpy(), pd.DatetimeIndex(d["__ts"]))


def symbol_designs(frames: dict, horizons: Sequence[int],
                   columns: list[str] | None = None) -> list[SymbolDesign]:
    """:func:`symbol_design` of every ``{symbol: frame}`` in order (the serial loop; the
    universe trainer runs the same function as batch tasks instead). Every symbol gets the
    first symbol's feature columns when ``columns`` is None."""
    out = []
    for sym, frame in frames.items():
        sd = symbol_design(sym, frame, horizons, columns)
        columns = sd.columns
        out.append(sd)
    return out


def stacked_design(frames: dict, horizon: int, columns: list[str] | None = None,
                   cutoff=None):
    """The design of several symbols stacked in time order, for the pooled forecaster:
    :func:`stack_designs` of :func:`symbol_designs` (each symbol's design computed on its
    own frame, cut at its indicator warm-up).

    Args:
        frames: {symbol: validated OHLCV frame (UTC DatetimeIndex)}.
        horizon: bars ahead. columns: feature columns (default all).
        cutoff: keep only rows whose target is realised strictly before this time (purged
            training set for a test block starting at ``cutoff``); None keeps all.

    Returns:
        (X (n, p) float64 DataFrame with a RangeIndex, y (n,), sigma (n,), origin (n,) int64
        ns, target_end (n,) int64 ns (int64 max where the target is not yet known), symbol
        (n,) object array, timestamps (n,) DatetimeIndex).

    Raises:
        InsufficientDataError: no rows are left.
    """
    return stack_designs(symbol_designs(frames, [horizon], columns), horizon, cutoff)


def fit_pooled(frames: dict | None, horizons: Sequence[int], columns: list[str] | None = None,
               progress: Progress | None = None, *,
               designs: Sequence[SymbolDesign] | None = None,
               **model_kwargs) -> tuple[list[str], dict]:
    """Fit one pooled forecaster per horizon on the stacked design of ``frames`` (or of the
    precomputed ``designs``, :func:`symbol_design` of every symbol: the same rows), its inner
    validation purged by time (``HorizonForecaster.fit(origin=, target_end=)``).

    Returns:
        (feature columns, {horizon: fitted HorizonForecaster}); each model also carries
        ``val_symbol_`` and ``val_index_`` (symbol and origin bar of each validation row).

    Raises:
        InsufficientDataError: too few rows.
    """
    if designs is None:
        designs = symbol_designs(frames or {}, horizons, columns)
    fitted = {}
    for j, h in enumerate(horizons):
        X, y, sig, origin, end, sym, ts = stack_designs(designs, h)
        m = HorizonForecaster(horizon=h, **model_kwargs).fit(
            X.to_numpy(), y, sig, origin=origin, target_end=end)
        m.val_symbol_, m.val_index_ = sym[m.val_rows_], ts[m.val_rows_]
        fitted[h] = m
        columns = list(X.columns)
        if progress:
            progress((j + 1) / len(horizons), f"pooled h={h}")
    return columns, fitted


MIN_SCOPE_ROWS = 20


def compare_scope(own: HorizonForecaster, pooled: HorizonForecaster, symbol: str) -> dict:
    """Which model serves ``symbol`` at one horizon, from the validation window both saw.

    Compares the out-of-sample inner-validation forecasts (``val_forecast_``) of the symbol's
    own head and of the pooled model on the symbol's validation bars that both predicted
    (same origin bars, same targets): root mean squared error in log-return units.
    ``"symbol"`` only when the head's RMSE is strictly lower on at least
    ``MIN_SCOPE_ROWS`` common bars, else ``"pooled"``.

    Returns:
        {"serve": "symbol" | "pooled", "symbol_rmse", "pooled_rmse", "naive_rmse" (zero
        forecast), "n" (common bars), "first", "last" (ISO dates or None)}.
    """
    a = pd.Series(own.val_forecast_, index=own.val_index_)
    ya = pd.Series(own.val_y_, index=own.val_index_)
    sel = pooled.val_symbol_ == symbol
    b = pd.Series(pooled.val_forecast_[sel], index=pooled.val_index_[sel])
    common = a.index.intersection(b.index)
    n = len(common)
    if n == 0:
        return {"serve": "pooled", "symbol_rmse": None, "pooled_rmse": None,
                "naive_rmse": None, "n": 0, "first": None, "last": None}
    y = ya.loc[common].to_numpy()
    r_own = float(np.sqrt(np.mean((y - a.loc[common].to_numpy()) ** 2)))
    r_pool = float(np.sqrt(np.mean((y - b.loc[common].to_numpy()) ** 2)))
    serve = "symbol" if n >= MIN_SCOPE_ROWS and r_own < r_pool else "pooled"
    return {"serve": serve, "symbol_rmse": r_own, "pooled_rmse": r_pool,
            "naive_rmse": float(np.sqrt(np.mean(y ** 2))), "n": int(n),
            "first": common.min().isoformat(), "last": common.max().isoformat()}




# ---------------------------------------------------------------- leave-symbols-out evaluation

#: refit period of the leave-symbols-out evaluation [bars]: a pooled refit costs ~4x a
#: per-symbol one, so it refits every 750 bars (3 years of daily bars) instead of 250
POOLED_STEP = 750


def default_folds(symbols: Sequence[str], n_folds: int = 3) -> list[tuple[str, ...]]:
    """Test groups for the rotation: symbol ``i`` goes to fold ``i % n_folds`` (for the
    bundled order AAPL MSFT IBM GOOG ^GSPC ^IXIC: (AAPL, GOOG), (MSFT, ^GSPC), (IBM, ^IXIC)).

    Raises:
        ValueError: fewer than 2 folds or more folds than symbols.
    """
    symbols = list(symbols)
    if not 2 <= n_folds <= len(symbols):
        raise ValueError(f"need 2 <= folds <= {len(symbols)} symbols, got {n_folds}")
    return [tuple(symbols[i::n_folds]) for i in range(n_folds)]


def _symbol_split_predictions(frames: dict, test_symbol: str, train_symbols: Sequence[str],
                              horizon: int, step: int, initial_train: int,
                              model_kwargs: dict,
                              designs: dict[str, SymbolDesign] | None = None) -> pd.DataFrame:
    """Walk-forward test predictions of the pooled model (trained on ``train_symbols`` rows
    whose target is realised before each test block) and of the per-symbol model (the test
    symbol's own earlier rows, embargo = horizon) on the same test bars of ``test_symbol``.

    Returns a frame indexed by origin bar: the pooled model's
    :meth:`HorizonForecaster.predict` columns, ``y``, ``sigma``, ``fold`` (walk-forward
    block), ``shrink``, ``symbol_ensemble`` (per-symbol shipped forecast),
    ``symbol_lo_80``/``symbol_hi_80`` and ``symbol_shrink``.

    ``designs`` ({symbol: :func:`symbol_design`}), when it holds every training symbol at
    ``horizon`` with the test symbol's columns, is stacked instead of recomputing the same
    rows from ``frames`` at every block.
    """
    X, y, sig = walk_forward_design(frames[test_symbol], horizon, initial_train, test_symbol)
    n = len(X)
    Xa, ya, sa = X.to_numpy(), y.to_numpy(), sig.to_numpy()
    train_frames = {s: frames[s] for s in train_symbols}
    cached = None
    if designs is not None and all(
            s in designs and horizon in designs[s].targets
            and designs[s].columns == list(X.columns) for s in train_symbols):
        cached = [designs[s] for s in train_symbols]
    parts = []
    for k, sp in enumerate(walk_forward_splits(n, horizon=horizon, initial_train=initial_train,
                                               step=step)):
        cutoff = X.index[sp.test[0]]
        if cached is not None:
            PX, py, ps, po, pe, _, _ = stack_designs(cached, horizon, cutoff=cutoff)
        else:
            PX, py, ps, po, pe, _, _ = stacked_design(train_frames, horizon, list(X.columns),
                                                      cutoff=cutoff)
        pooled = HorizonForecaster(horizon=horizon, **model_kwargs).fit(
            PX.to_numpy(), py, ps, origin=po, target_end=pe)
        own = HorizonForecaster(horizon=horizon, **model_kwargs).fit(
            Xa[sp.train], ya[sp.train], sa[sp.train])
        pred = pooled.predict(Xa[sp.test], sa[sp.test])
        mine = own.predict(Xa[sp.test], sa[sp.test])
        pred.index = X.index[sp.test]
        pred["y"], pred["sigma"], pred["fold"] = ya[sp.test], sa[sp.test], k
        pred["shrink"] = pooled.shrink_
        pred["symbol_ensemble"] = mine["ensemble"].to_numpy()
        pred["symbol_lo_80"] = mine["ensemble-lo-80"].to_numpy()
        pred["symbol_hi_80"] = mine["ensemble-hi-80"].to_numpy()
        pred["symbol_shrink"] = own.shrink_
        pred["pooled_train_rows"] = len(py)
        parts.append(pred)
    return pd.concat(parts)


def _cell(pred: pd.DataFrame, symbol: str, horizon: int, fold: int,
          train_symbols: Sequence[str]) -> dict:
    """Scores of one (test symbol, horizon) cell: :func:`score_predictions` of the pooled
    model (today's per-cell keys), and ``per_symbol`` / ``pooled_vs_symbol`` comparisons on
    the same scored bars."""
    res = {"symbol": symbol, "horizon": int(horizon), "fold": int(fold),
           "train_symbols": list(train_symbols), "model": "pooled",
           **score_predictions(pred, horizon)}
    d = pred[np.isfinite(pred["y"])]
    y, p_pool, p_sym = (d["y"].to_numpy(), d["ensemble"].to_numpy(),
                        d["symbol_ensemble"].to_numpy())
    dm_sym = diebold_mariano(y - p_sym, y, horizon)
    res["per_symbol"] = {
        "rmse": rmse(y, p_sym), "rmse_ratio": rmse_ratio(y, p_sym), "ic": spearman_ic(y, p_sym),
        "dm_pvalue": dm_sym.pvalue, "mean_shrink": float(d["symbol_shrink"].mean()),
        "coverage_80": coverage(y, d["symbol_lo_80"], d["symbol_hi_80"])}
    r_pool, r_sym = rmse(y, p_pool), rmse(y, p_sym)
    dm = diebold_mariano(y - p_pool, y - p_sym, horizon)
    res["pooled_vs_symbol"] = {"rmse_ratio": r_pool / r_sym if r_sym > 0 else float("nan"),
                               "dm_stat": dm.statistic, "dm_pvalue": dm.pvalue}
    res["random_walk"] = {"rmse": rmse(y, np.zeros_like(y)), "rmse_ratio": 1.0}
    res["pooled_train_rows_max"] = int(d["pooled_train_rows"].max()) if len(d) else 0
    return res


def evaluate_leave_symbols_out(frames: dict, horizons: Sequence[int], *,
                               folds: Sequence[Sequence[str]] | None = None,
                               step: int = POOLED_STEP, initial_train: int = INITIAL_TRAIN,
                               n_jobs: int = 1, progress: Progress | None = None,
                               designs: dict[str, SymbolDesign] | None = None,
                               **model_kwargs) -> list[dict]:
    """Leave-symbols-out walk-forward evaluation of the pooled forecaster.

    For each fold, the pooled model is trained only on the symbols *not* in that fold's test
    group and tested walk-forward on each test symbol: at every test block (first
    ``initial_train`` usable bars of the test symbol skipped, refit every ``step`` bars) it is
    refit on the training symbols' rows whose target is realised before the block starts.
    On the same test bars, the per-symbol model (trained on the test symbol's own earlier
    bars, embargo = horizon, same refits) and the zero-return random walk are scored.

    Args:
        frames: {symbol: validated OHLCV frame}, e.g. the six bundled symbols.
        horizons: bars ahead.
        folds: test groups (default :func:`default_folds` with 3 folds).
        step, initial_train: walk-forward refit period and first training window [bars].
        n_jobs: processes (joblib) over (fold, test symbol, horizon) cells.
        designs: {symbol: :func:`symbol_design`} already computed (e.g. by the universe
            trainer's batch tasks) for the training stacks; the same rows as recomputing
            them from ``frames``.
        model_kwargs: passed to every :class:`HorizonForecaster`.

    Returns:
        One dict per (fold, test symbol, horizon), with the keys of
        :func:`core.forecasting.evaluate.score_predictions` for the pooled model (``ensemble``,
        ``rmse_ratio``, ``coverage_80``, ``dm_pvalue`` ...) plus ``symbol``, ``horizon``,
        ``fold``, ``train_symbols``, ``per_symbol``, ``pooled_vs_symbol`` (RMSE ratio pooled /
        per-symbol and DM p-value) and ``random_walk``.

    Raises:
        InsufficientDataError: a test symbol's history is too short.
        ValueError: a fold names a symbol not in ``frames``.
    """
    from joblib import Parallel, delayed

    symbols = list(frames)
    folds = [tuple(f) for f in (folds or default_folds(symbols))]
    unknown = sorted({s for f in folds for s in f} - set(symbols))
    if unknown:
        raise ValueError(f"folds name symbols without data: {', '.join(unknown)}")
    tasks = []
    for k, group in enumerate(folds):
        train_syms = [s for s in symbols if s not in group]
        for sym in group:
            for h in horizons:
                tasks.append((k, sym, tuple(train_syms), int(h)))

    def run(k, sym, train_syms, h):
        pred = _symbol_split_predictions(frames, sym, train_syms, h, step, initial_train,
                                         model_kwargs, designs)
        return _cell(pred, sym, h, k, train_syms)

    if n_jobs == 1:
        out = []
        for i, t in enumerate(tasks):
            if progress:
                progress(i / len(tasks), f"fold {t[0]} {t[1]} h={t[3]}")
            out.append(run(*t))
    else:
        out = Parallel(n_jobs=n_jobs)(delayed(run)(*t) for t in tasks)
    if progress:
        progress(1.0, "done")
    return out
