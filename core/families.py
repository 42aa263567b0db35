"""Every model family, listed once. Training, the CLI, the live panel, replay, A/B routing,
monitoring and the Admin page read the families from :data:`FAMILIES`.

Adding a family: write its package (``model.py``/``train.py``/``serve.py``/``commands.py``
as they apply) with a ``family.py`` declaring a :class:`core.family.ModelFamily`, then add
one line below. Order matters only for display and for the panel (first family of a domain
with a ``predict_latest`` serves that domain).
"""

from __future__ import annotations

from core.baseline.family import NAIVE_BASELINE
from core.family import ModelFamily
from core.forecasting.family import FORECAST
from core.patterns.family import BREAKOUT, PATTERNS_CNN
from core.risk.family import RISK_DQN, SIGNAL_QUALITY
from core.sentiment.family import SENTIMENT_HEAD
from core.volatility.family import VOLATILITY

FAMILIES: dict[str, ModelFamily] = {f.name: f for f in (
    FORECAST,
    VOLATILITY,
    PATTERNS_CNN,
    BREAKOUT,
    SENTIMENT_HEAD,
    RISK_DQN,
    SIGNAL_QUALITY,
    NAIVE_BASELINE,
)}


def family(name: str) -> ModelFamily | None:
    """The declaration of ``name``, or None for a name that is not a family."""
    return FAMILIES.get(name)
