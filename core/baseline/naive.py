"""The naive baseline every forecast is judged against: a zero-return (random-walk) forecast
with a normal 80% interval from the last 20 one-bar log returns (Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice*, 3rd ed., section 5.5), its out-of-sample scores, and
the ``naive-baseline`` family that records both as a plain-JSON artifact."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd

from core.data import BUNDLED_SYMBOLS, MarketData, load_ohlcv
from core.market import Z80, log_returns
from core.predictions import Prediction, hash_inputs
from core.registry import save_artifact
from core.targets import forward_log_return

NAIVE_FAMILY = "naive-baseline"
NAIVE_HORIZONS = (1, 5)
NAIVE_STD_WINDOW = 20  # bars of 1-bar log returns behind the naive interval


def naive_predictor(md: MarketData, horizons: tuple[int, ...] = NAIVE_HORIZONS,
                    window: int = NAIVE_STD_WINDOW) -> list[Prediction]:
    """Zero-return forecast (random walk) with an 80% normal interval.

    For each horizon h: ``value = 0`` (log return over h bars), ``lower/upper = -/+ z * s *
    sqrt(h)`` with ``s`` the sample std of the last ``window`` 1-bar log returns and ``z`` the
    N(0,1) 0.90 quantile (random-walk interval, Hyndman & Athanasopoulos, *Forecasting:
    Principles and Practice*, 3rd ed., section 5.5). model_name/version ``naive``.
    Returns [] with fewer than ``window + 1`` bars.
    """
    f = md.frame
    if len(f) < window + 1:
        return []
    t0 = time.perf_counter()
    tail = f["close"].iloc[-(window + 1):]
    s = float(np.std(np.diff(np.log(tail.to_numpy())), ddof=1))
    digest = hash_inputs(f.iloc[-(window + 1):])
    origin = f.index[-1]
    latency = (time.perf_counter() - t0) * 1000.0
    out = []
    for h in horizons:
        half = Z80 * s * math.sqrt(h)
        out.append(Prediction(
            model_name="naive", model_version="naive", symbol=md.symbol, interval=md.interval,
            kind="log_return", horizon=int(h), origin_ts=origin, value=0.0, lower=-half,
            upper=half, confidence=None, latency_ms=latency, inputs_hash=digest,
            output={"method": "zero-return random walk", "std_window": window}))
    return out


NAIVE_FAMILY = "naive-baseline"


def evaluate_naive(frame: pd.DataFrame, horizons=(1, 5), window: int | None = None) -> dict:
    """Out-of-sample scores of the naive baseline on one history (it fits nothing, so every
    bar with a realised target is unseen): per horizon ``n``, ``mae`` [log return],
    ``coverage_80`` (share of realised returns inside ``+-z * s_t * sqrt(h)``, ``s_t`` the
    std of the last ``window`` 1-bar log returns up to bar t) and ``always_up`` (share of
    positive realised returns, the directional baseline)."""
    window = window or NAIVE_STD_WINDOW
    r1 = log_returns(frame["close"])
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
