"""Stable entry points other domains use (risk sizing, overview):

* :func:`forecast_variance` — next-``horizon`` variance of log returns from any OHLCV frame.
* :func:`forecast_all` — every model's horizon variance at once (one GARCH fit per kind).
* :func:`regime` / :func:`regime_series` — low / normal / high volatility regime.
* :func:`core.volatility.estimators.realized_vol` — annualised rolling realised vol.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError
from core.lru import LRUCache
from core.market import log_returns
from core.predictions import hash_inputs
from core.targets import forward_realized_var
from core.volatility.estimators import realized_vol
from core.volatility.garch import GarchForecaster
from core.volatility.har import HARForecaster, ewma_path
from core.volatility.ml import MLForecaster, ml_features

FORECAST_MODELS = ("gjr", "garch", "ewma", "har", "ml")
FIT_BARS = 2520  # GARCH/HAR fitted on at most the last 10 years of daily bars
REGIME_WINDOW = 21
REGIME_LOOKBACK = 1260
REGIME_MIN = 252
REGIME_CUTS = (0.20, 0.80)
#: in-sample fits by (frame sha256, model[, horizon]), shared by the script threads of every
#: tab: about 2 MB per symbol and horizon set, at most 64 fits kept
_FITS = LRUCache(64)


def _fit_garch(frame: pd.DataFrame, kind: str, fhash: str) -> GarchForecaster:
    r = log_returns(frame["close"]).iloc[1:]
    return _FITS.get_or_create((fhash, kind), lambda: GarchForecaster(kind).fit(r))


def _fit_ml_insample(frame: pd.DataFrame, horizon: int, fhash: str):
    """ML model trained on this frame with in-sample base forecasts (used only when no
    trained artifact exists for the symbol)."""
    def make():
        base = base_paths(frame, horizon, fhash)
        x = ml_features(frame, base, horizon)
        y = forward_realized_var(frame["close"], horizon)
        return MLForecaster(horizon).fit(x, y, base["gjr"]), base, x

    return _FITS.get_or_create((fhash, "ml", horizon), make)


def base_paths(frame: pd.DataFrame, horizon: int, fhash: str | None = None,
               garch: dict | None = None, har: HARForecaster | None = None,
               garch_paths: dict | None = None) -> pd.DataFrame:
    """Horizon-variance paths (every origin) of ``gjr garch ewma har`` (fraction²).

    ``garch`` maps ``"garch"``/``"gjr"`` to fitted :class:`GarchForecaster` (fitted on the
    frame when absent); ``garch_paths`` to precomputed paths for this horizon; ``har`` a
    fitted HAR model for this horizon."""
    r = log_returns(frame["close"]).iloc[1:]
    out = pd.DataFrame(index=frame.index)
    for kind in ("gjr", "garch"):
        if garch_paths is not None:
            out[kind] = garch_paths[kind].reindex(frame.index)
            continue
        if (garch or {}).get(kind) is not None:
            mdl = garch[kind]
        else:
            fhash = fhash or hash_inputs(frame)
            mdl = _fit_garch(frame, kind, fhash)
        out[kind] = mdl.forecast_path(r, horizon).reindex(frame.index)
    out["ewma"] = ewma_path(frame, horizon)
    if har is None:
        fhash = fhash or hash_inputs(frame)
        har = _FITS.get_or_create((fhash, "har", horizon),
                                  lambda: HARForecaster(horizon).fit(frame))
    h = har
    out["har"] = h.predict_path(frame)
    return out


def _tail(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) < 300:
        raise InsufficientDataError(
            f"Volatility forecasts need at least 300 bars; got {len(frame)}. "
            "Choose a longer date range.")
    return frame.iloc[-FIT_BARS:]


def forecast_all(frame: pd.DataFrame, horizon: int) -> dict[str, float]:
    """Every model's variance of the log return summed over the next ``horizon`` bars,
    fitted on this frame (last <= 2520 bars). Keys: ``gjr garch ewma har ml`` plus
    ``ml-lo-80``/``ml-hi-80`` (80 % interval of the realised variance). Fraction², not
    annualised. Raises InsufficientDataError below 300 bars; ValueError for horizon < 1."""
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    f = _tail(frame)
    fhash = hash_inputs(f)
    ml, base, x = _fit_ml_insample(f, horizon, fhash)
    pred = ml.predict(x.iloc[[-1]], base["gjr"].iloc[[-1]]).iloc[-1]
    out = {k: float(base[k].iloc[-1]) for k in ("gjr", "garch", "ewma", "har")}
    out.update({k: float(pred[k]) for k in ("ml", "ml-lo-80", "ml-hi-80")})
    return out


def forecast_variance(frame: pd.DataFrame, horizon: int = 1, model: str = "gjr") -> float:
    """Forecast variance of the log return summed over the next ``horizon`` bars.

    Unit: fraction² per horizon, *not annualised* (annualised vol =
    ``sqrt(var * 252 / horizon)`` for daily bars). Fitted on the given frame (last <= 2520
    bars; fits are cached per frame content).

    Args:
        frame: OHLCV frame (``core.data`` contract; HAR/ML also use high/low).
        horizon: bars ahead (>= 1). model: ``gjr`` (GJR-GARCH(1,1,1)-t, default), ``garch``
            (GARCH(1,1)-normal), ``ewma`` (RiskMetrics 0.94), ``har`` (HAR-RV), ``ml``.
    Raises:
        ValueError: unknown model or horizon < 1.
        InsufficientDataError: fewer than 300 bars.
    """
    if model not in FORECAST_MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(FORECAST_MODELS)}")
    if horizon < 1:
        raise ValueError("horizon must be >= 1 bar")
    f = _tail(frame)
    if model == "ewma":
        return float(ewma_path(f, horizon).iloc[-1])
    if model == "ml":
        return forecast_all(f, horizon)["ml"]
    fhash = hash_inputs(f)
    if model == "har":
        h = _FITS.get_or_create((fhash, "har", horizon), lambda: HARForecaster(horizon).fit(f))
        return h.forecast(f)
    r = log_returns(f["close"]).iloc[1:]
    return _fit_garch(f, model, fhash).forecast(r, horizon)


def regime_series(frame: pd.DataFrame, window: int = REGIME_WINDOW,
                  lookback: int = REGIME_LOOKBACK) -> pd.DataFrame:
    """Volatility regime per bar from rolling percentiles of realised vol.

    ``realized_vol`` (close-to-close, ``window`` bars, annualised) at t is ranked against its
    own values over the trailing ``lookback`` bars (at least 252): percentile < 20 -> ``low``,
    > 80 -> ``high``, else ``normal``. Uses bars <= t only.
    Returns columns ``realized_vol`` (fraction ann.), ``pct`` (0..1), ``regime`` (str or NaN).
    """
    rv = realized_vol(frame, window, "close_to_close")
    pct = rv.rolling(lookback, min_periods=REGIME_MIN).rank(pct=True)
    lab = pd.Series(np.where(pct < REGIME_CUTS[0], "low",
                             np.where(pct > REGIME_CUTS[1], "high", "normal")),
                    index=frame.index, dtype="object")
    lab[pct.isna()] = None
    return pd.DataFrame({"realized_vol": rv, "pct": pct, "regime": lab})


def regime(frame: pd.DataFrame) -> str:
    """Today's volatility regime: ``"low"``, ``"normal"`` or ``"high"`` (see
    :func:`regime_series`). Raises InsufficientDataError below 273 bars."""
    if len(frame) < REGIME_MIN + REGIME_WINDOW:
        raise InsufficientDataError(
            f"The volatility regime needs at least {REGIME_MIN + REGIME_WINDOW} bars; got "
            f"{len(frame)}. Choose a longer date range.")
    return str(regime_series(frame)["regime"].iloc[-1])
