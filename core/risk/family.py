"""The ``risk-dqn`` and ``signal-quality`` families (sizing; not on the live panel)."""

from __future__ import annotations

from core.family import ModelFamily
from core.risk import commands, dqn, signal_quality
from core.risk.train import train_dqn, train_signal_quality

RISK_DQN = ModelFamily(
    name=dqn.FAMILY, domain="risk", title="DQN exposure agent", kind="policy",
    train=train_dqn, commands=commands)

SIGNAL_QUALITY = ModelFamily(
    name=signal_quality.FAMILY, domain="risk", title="Signal-quality scorer",
    kind="probability", train=train_signal_quality, commands=commands)
