"""The record every model emits for the store and the monitoring page."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Prediction:
    """One prediction of one model version for one symbol/bar/horizon.

    Attributes:
        model_name: family, e.g. ``forecast``, ``volatility``, ``breakout``, ``patterns``.
        model_version: registry version id (``naive`` for a baseline fallback).
        symbol, interval: what was predicted.
        kind: unit of ``value``: ``log_return`` (forward log return over ``horizon`` bars),
            ``variance`` (sum of squared daily log returns over ``horizon`` bars),
            ``probability`` (of the event described in ``output``), ``label``.
        horizon: bars ahead. origin_ts: last bar used (UTC). target_ts: bar the outcome is
            read at, when known in advance (None for calendars we cannot know).
        value: point prediction; lower/upper: 80% interval bounds (same unit) when any.
        confidence: in [0, 1], documented by each model. latency_ms: inference time.
        output: any extra JSON-serialisable detail (members, 95% bounds, labels...).
        inputs_hash: sha256 of the inputs, so a re-run on the same bar is recognised.
    """

    model_name: str
    model_version: str
    symbol: str
    interval: str
    kind: str
    horizon: int
    origin_ts: pd.Timestamp
    value: float
    target_ts: pd.Timestamp | None = None
    lower: float | None = None
    upper: float | None = None
    confidence: float | None = None
    latency_ms: float | None = None
    inputs_hash: str = ""
    output: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def hash_inputs(frame: pd.DataFrame) -> str:
    """sha256 of a frame's values and index (stable across runs)."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    h.update(json.dumps(list(map(str, frame.columns))).encode())
    return h.hexdigest()
