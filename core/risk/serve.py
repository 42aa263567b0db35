"""Risk predictions for the latest bar of a symbol, as :class:`core.predictions.Prediction`
records (for the store and the monitoring page)."""

from __future__ import annotations

import time

import pandas as pd

from core.errors import QuantdeskError
from core.predictions import Prediction, hash_inputs
from core.risk import dqn, signal_quality as sq


def latest_predictions(frame: pd.DataFrame, symbol: str, interval: str = "1d",
                       models_dir=None) -> list[Prediction]:
    """Signal-quality probability (long trade, ``kind="probability"``) and the DQN's exposure
    (``kind="label"``, value = exposure fraction) at the last bar of ``frame``.

    A model that is missing or fails is skipped (its absence is visible in the list); returns
    an empty list when neither is available.
    """
    out: list[Prediction] = []
    origin = frame.index[-1]
    h = hash_inputs(frame.tail(300))
    try:
        t0 = time.perf_counter()
        s = sq.score_latest(frame, "long", models_dir)
        out.append(Prediction(
            model_name=sq.FAMILY, model_version=s["version"], symbol=symbol, interval=interval,
            kind="probability", horizon=sq.HORIZON, origin_ts=origin, value=s["probability"],
            confidence=None, latency_ms=(time.perf_counter() - t0) * 1000, inputs_hash=h,
            output={"event": f"long trade, {sq.ATR_MULT:g} ATR stop, {sq.R_MULT:g} R target, "
                             f"{sq.HORIZON}-bar exit returns > 0",
                    "decision": s["decision"], "base_rate": s["base_rate"]}))
    except QuantdeskError:
        pass
    try:
        t0 = time.perf_counter()
        agent, meta = dqn.load_agent(models_dir)
        exp = agent.exposure(frame, interval).iloc[-1]
        if pd.notna(exp):
            out.append(Prediction(
                model_name=dqn.FAMILY, model_version=meta.get("version", ""), symbol=symbol,
                interval=interval, kind="label", horizon=1, origin_ts=origin, value=float(exp),
                latency_ms=(time.perf_counter() - t0) * 1000, inputs_hash=h,
                output={"meaning": "exposure [fraction of equity] for the next bar",
                        "beats_vol_target": meta.get("beats_vol_target")}))
    except QuantdeskError:
        pass
    return out
