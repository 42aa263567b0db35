"""The contract every model family fulfils, and the one evaluation record they all write.

A *family* is what the registry versions (``models/<family>/<version>/``): ``forecast``,
``volatility``, ``patterns-cnn``, ``breakout``, ``sentiment-head``, ``risk-dqn``,
``signal-quality``, ``naive-baseline``. Each domain package declares its families once, in
its ``family.py``, as :class:`ModelFamily` values; :mod:`core.families` lists those
declarations, and training, the CLI, the live panel, replay, A/B routing, monitoring and
the Admin page read them from there, never from lists of strings.

The evaluation record (``metadata["record"]``) is the walk-forward result every page, the
panel's skill rule and the API read::

    {"AAPL": {"5": {"metric": "rmse", "model": 0.0182, "baseline": 0.0183,
                    "ratio": 0.9951, "pvalue": 0.19, "skill": false}}}

``model`` and ``baseline`` are the loss (or score) of the model and of its naive baseline on
the same unseen bars, ``ratio`` is model / baseline, ``pvalue`` the test of equal accuracy
(Diebold-Mariano for losses), ``skill`` whether the model beat the baseline by the rule of
:func:`core.evaluation.beats_baseline`. A family whose artifacts predate the record gives a
``legacy_record`` function that builds it from the older layout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Callable

from core.data import MarketData
from core.predictions import Prediction

Predictor = Callable[[MarketData], "list[Prediction]"]
#: ``progress(fraction in [0, 1], message)`` callback of a trainer
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class EvalCell:
    """One (symbol, horizon) cell of a walk-forward evaluation, beside the naive baseline.

    Attributes:
        metric: loss or score name (``rmse``, ``qlike``, ``brier``, ``accuracy``...).
        model, baseline: the metric of the model and of the naive baseline on the same bars.
        ratio: ``model / baseline`` (None when the baseline is 0 or missing).
        pvalue: p-value of the test of equal accuracy (None when not computed).
        skill: True when the model beat the baseline (significant and of practical size),
            False when it did not, None when undecided.
    """

    metric: str
    model: float | None
    baseline: float | None
    ratio: float | None = None
    pvalue: float | None = None
    skill: bool | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "EvalCell":
        """Build a cell from its JSON form; unknown keys are ignored, numbers checked."""
        def num(v):
            return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

        skill = d.get("skill")
        return cls(str(d.get("metric", "")), num(d.get("model")), num(d.get("baseline")),
                   num(d.get("ratio")), num(d.get("pvalue")),
                   skill if isinstance(skill, bool) else None)


#: ``{SYMBOL: {horizon (str): EvalCell}}``
EvalRecord = dict[str, dict[str, EvalCell]]


def record_from_json(obj) -> EvalRecord:
    """Parse ``metadata["record"]`` (see the module docstring); anything else gives ``{}``."""
    if not isinstance(obj, dict):
        return {}
    out: EvalRecord = {}
    for sym, cells in obj.items():
        if isinstance(cells, dict):
            out[str(sym).upper()] = {str(h): EvalCell.from_dict(c) for h, c in cells.items()
                                     if isinstance(c, dict)}
    return out


def record_to_json(record: EvalRecord) -> dict:
    """The JSON form of ``record`` for ``metadata["record"]``."""
    return {sym: {h: c.to_dict() for h, c in cells.items()} for sym, cells in record.items()}


@dataclass(frozen=True)
class ModelFamily:
    """One model family, declared once in its domain's ``family.py``.

    Attributes:
        name: registry family (``models/<name>/``), lowercase.
        domain: the panel domain it belongs to (``forecast``, ``volatility``, ``patterns``,
            ``sentiment``, ``risk``, ``baseline``); families of one domain share a predictor.
        title: what a page calls it.
        kind: unit of its predictions (``Prediction.kind``: ``log_return``, ``variance``,
            ``probability``, ``label``) or ``policy`` for sizing models.
        train: ``train(progress=None) -> core.registry.Artifact``; writes a new version.
        predict_latest: ``(MarketData) -> list[Prediction]`` for the last bar, used by the
            panel and replay (None: the family is served by its domain's other family, or
            not on the panel).
        accepts_artifact: ``predict_latest`` takes an ``artifact=`` keyword, so an A/B test
            can ask the challenger version too.
        intervals: intervals it serves (None: any interval the data layer offers).
        min_bars: fewest bars it needs to predict.
        commands: the domain's ``commands`` module, whose Typer groups ``train``,
            ``evaluate``, ``predict`` and ``app`` the CLI mounts (None: no commands).
        legacy_record: builds the :data:`EvalRecord` from metadata written before
            ``metadata["record"]`` existed (None: no legacy layout).
    """

    name: str
    domain: str
    title: str
    kind: str
    train: Callable[..., object]
    predict_latest: Predictor | None = None
    accepts_artifact: bool = False
    intervals: tuple[str, ...] | None = None
    min_bars: int = 1
    commands: ModuleType | None = None
    legacy_record: Callable[[dict], EvalRecord] | None = field(default=None, repr=False)

    def record(self, metadata: dict) -> EvalRecord:
        """The evaluation record of one version's ``metadata.json``."""
        if "record" in metadata:
            return record_from_json(metadata["record"])
        return self.legacy_record(metadata) if self.legacy_record is not None else {}

    def skill(self, metadata: dict, symbol: str, horizon: int) -> bool | None:
        """Whether the version beat its naive baseline walk-forward on ``symbol`` at
        ``horizon`` (None: not evaluated there). A family-wide ``metrics.skill`` boolean
        (e.g. the breakout filter, judged on all symbols at once) applies to every cell."""
        cell = self.record(metadata).get(symbol.upper(), {}).get(str(int(horizon)))
        if cell is not None:
            return cell.skill
        overall = (metadata.get("metrics") or {}).get("skill")
        return overall if isinstance(overall, bool) else None

    def serves(self, interval: str) -> bool:
        """True when the family has a model for ``interval``."""
        return self.intervals is None or interval in self.intervals
