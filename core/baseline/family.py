"""The ``naive-baseline`` family: the reference, retrainable in seconds from the Admin page."""

from __future__ import annotations

from core.baseline.naive import NAIVE_FAMILY, train_naive_baseline
from core.family import ModelFamily

NAIVE_BASELINE = ModelFamily(
    name=NAIVE_FAMILY, domain="baseline", title="Naive baseline (random walk)",
    kind="log_return", train=train_naive_baseline)
