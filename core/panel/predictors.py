"""The live panel's domain predictors, built from the family declarations, and the step
that runs them on one bar (predict -> skill-annotate -> A/B route), testable without
streamlit.

* :data:`DOMAIN_PREDICTORS` has one entry per panel domain of :data:`core.families.FAMILIES`
  (the first family of the domain with a ``predict_latest`` serves it).
* A family an admin disabled raises ``NotTrainedError("Model family 'X' is disabled ...")``
  from :func:`core.serving.load_active`: it is recorded as a *fallback* (the naive baseline
  serves, the panel shows a banner), see :func:`run_domain`.
* A family whose artifact fails its integrity check (flipped byte, missing file) is recorded
  in :attr:`DomainRun.broken` with what to do (retrain or roll back); the other domains keep
  serving. A family served from process memory because the store cannot be read is in
  :attr:`DomainRun.notices` (see :func:`core.serving.store_notice`).
* Every domain prediction is annotated with ``output["skill"]`` (True / False / None) from
  its family's evaluation record (:meth:`core.family.ModelFamily.skill`), so
  :func:`core.panel.signals.fuse` ignores a model that did not beat its naive baseline.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import Callable

from sqlmodel import select

from core.data import MarketData
from core.errors import ArtifactIntegrityError, NotTrainedError, QuantdeskError
from core.families import FAMILIES
from core.panel.abtest import CHALLENGER, route
from core.predictions import Prediction
from core.registry import load_artifact, read_metadata
from core.serving import store_notice
from core.store import ABTest, session_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainPredictor:
    """One domain's latest-bar predictor.

    Attributes:
        name: domain name shown in the panel (``forecast``, ``volatility``...).
        predict: ``predict(md) -> list[Prediction]`` for the last bar of ``md``.
        families: registry families it serves from (for the model status and fallbacks).
        accepts_artifact: ``predict`` takes ``artifact=`` (an A/B test asks both arms).
    """

    name: str
    predict: Callable[[MarketData], list[Prediction]]
    families: tuple[str, ...]
    accepts_artifact: bool = False


def domain_predictors(families=None) -> list[DomainPredictor]:
    """One :class:`DomainPredictor` per panel domain of ``families`` (default
    :data:`core.families.FAMILIES`), in declaration order."""
    fams = list((families or FAMILIES).values())
    out = []
    for domain in dict.fromkeys(f.domain for f in fams):
        members = [f for f in fams if f.domain == domain]
        serving = next((f for f in members if f.predict_latest is not None), None)
        if serving is not None:
            out.append(DomainPredictor(domain, serving.predict_latest,
                                       tuple(f.name for f in members), serving.accepts_artifact))
    return out


DOMAIN_PREDICTORS: list[DomainPredictor] = domain_predictors()


# ---------------------------------------------------------------- skill from metadata

_META_CACHE: dict[tuple[str, str], dict] = {}


def _metadata(family: str, version: str) -> dict:
    key = (family, version)
    if key not in _META_CACHE:
        try:
            _META_CACHE[key] = read_metadata(family, version)
        except QuantdeskError:
            _META_CACHE[key] = {}
    return _META_CACHE[key]


def artifact_skill(family: str, metadata: dict, symbol: str, horizon: int) -> bool | None:
    """Whether ``family``'s version with ``metadata`` beat its naive baseline walk-forward
    on ``symbol`` at ``horizon``: :meth:`core.family.ModelFamily.skill` (None for a name
    that is not a declared family, or a cell that was not evaluated)."""
    fam = FAMILIES.get(family)
    return None if fam is None else fam.skill(metadata, symbol, horizon)


def with_skill(p: Prediction) -> Prediction:
    """``p`` with ``output["skill"]`` set from its artifact metadata when the predictor did
    not set it (naive and on-the-fly versions stay None)."""
    out = dict(p.output or {})
    if "skill" in out or p.model_version in ("naive", "onthefly", ""):
        return p
    out["skill"] = artifact_skill(p.model_name, _metadata(p.model_name, p.model_version),
                                  p.symbol, int(p.horizon))
    return dataclasses.replace(p, output=out)


# ---------------------------------------------------------------- running the domains

@dataclass
class DomainRun:
    """What the domain predictors produced for one bar.

    Attributes:
        predictions: every domain prediction (skill-annotated), including non-loggable
            ones (pattern detections at horizon 0).
        skipped: domain -> reason it produced nothing (not installed, not trained...).
        fallbacks: family -> banner text when the family is disabled (naive serves).
        errors: ``domain: message`` for predictors that failed.
        shadow: predictions of the arm of a running A/B test that is *not* served on this
            bar (logged for the comparison, not shown or fused).
        broken: family -> banner text when its artifact failed the integrity check (what
            happened and what to do: retrain or roll back).
        notices: family -> banner text while it is served from process memory because the
            model store cannot be read.
    """

    predictions: list[Prediction] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    shadow: list[Prediction] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)


def broken_message(family: str, err: Exception) -> str:
    """Banner text for a family whose artifact cannot be trusted: the error and what to do."""
    return (f"{err} Predictions of '{family}' are off until an admin retrains it or rolls "
            f"back to an earlier version (Admin page, or `quantdesk models retrain {family}` "
            f"/ `quantdesk models rollback {family}`); the other models keep serving.")


@dataclass(frozen=True)
class Experiment:
    """A running champion/challenger test (see :mod:`core.panel.abtest`)."""

    name: str
    family: str
    champion: str
    challenger: str
    share: float
    salt: str


def running_experiments(*, session) -> dict[str, Experiment]:
    """Running A/B tests by family (empty when the store has none)."""
    rows = session.exec(select(ABTest).where(ABTest.status == "running")).all()
    return {r.family: Experiment(r.name, r.family, r.champion_version, r.challenger_version,
                                 float(r.share), r.salt or r.name) for r in rows}


def _ab_split(md: MarketData, dp: DomainPredictor, preds: list[Prediction], exp: Experiment
              ) -> tuple[list[Prediction], list[Prediction], str | None]:
    """Champion/challenger on one bar: both arms are predicted; ``route`` picks the served
    one. Returns ``(served, shadow, error)``. Needs a predictor with an ``artifact``
    keyword (e.g. ``core.forecasting.serve.predict_latest``)."""
    mine = [p for p in preds if p.model_name == exp.family]
    if not mine or mine[0].model_version != exp.champion or not dp.accepts_artifact:
        return preds, [], None
    try:
        other = [p for p in dp.predict(md, artifact=load_artifact(exp.family, exp.challenger))
                 if p.model_name == exp.family]
    except QuantdeskError as err:
        return preds, [], f"A/B {exp.name}: challenger {exp.challenger} failed: {err}"

    def tag(ps, arm):
        return [dataclasses.replace(p, output={**(p.output or {}),
                                               "ab": {"test": exp.name, "arm": arm}})
                for p in ps]

    arm = route(md.symbol, md.frame.index[-1], exp.share, exp.salt)
    champ, chall = tag(mine, "champion"), tag(other, "challenger")
    rest = [p for p in preds if p.model_name != exp.family]
    if arm == CHALLENGER:
        return rest + chall, champ, None
    return rest + champ, chall, None


def run_domain(md: MarketData, predictors: list[DomainPredictor] | None = None,
               experiments: dict[str, Experiment] | None = None) -> DomainRun:
    """Run every domain predictor on ``md`` (bars <= its last bar). Never raises for a
    missing, untrained, disabled or failing model: the result records why.

    ``experiments`` (family -> running A/B test): both versions predict; the deterministic
    route (:func:`core.abtest.route`) decides which one is served, the other goes to
    ``shadow`` so both are logged on the same bars."""
    res = DomainRun()
    for dp in predictors if predictors is not None else DOMAIN_PREDICTORS:
        try:
            preds = dp.predict(md)
        except NotTrainedError as err:
            msg = str(err)
            if "disabled" in msg:
                fam = next((f for f in dp.families if f"'{f}'" in msg), dp.families[0])
                res.fallbacks[fam] = "disabled by an admin: naive baseline shown"
            else:
                res.skipped[dp.name] = msg
            continue
        except ArtifactIntegrityError as err:  # corrupt/missing file: say which and what to do
            fam = next((f for f in dp.families if f in str(err)), dp.families[0])
            res.broken[fam] = broken_message(fam, err)
            res.skipped[dp.name] = str(err)
            res.errors.append(f"{dp.name}: {err}")
            continue
        except QuantdeskError as err:
            res.skipped[dp.name] = str(err)
            res.errors.append(f"{dp.name}: {err}")
            continue
        except Exception as err:  # a bug in a domain must not take the panel down
            log.exception("%s predictor failed", dp.name)
            res.errors.append(f"{dp.name}: {type(err).__name__}: {err}")
            continue
        for fam in dp.families:
            note = store_notice(fam)
            if note:
                res.notices[fam] = note
        if not preds:
            res.skipped.setdefault(dp.name, "no prediction on this bar")
        preds = list(preds or [])
        for fam in dp.families:
            if experiments and fam in experiments:
                preds, shadow, err = _ab_split(md, dp, preds, experiments[fam])
                res.shadow.extend(with_skill(p) for p in shadow)
                if err:
                    res.errors.append(err)
        res.predictions.extend(with_skill(p) for p in preds)
    return res


def loggable(preds: list[Prediction]) -> list[Prediction]:
    """Predictions the store accepts (horizon >= 1, finite value); pattern detections on
    the bar itself (horizon 0) are shown but not logged."""
    out = []
    for p in preds:
        try:
            ok = int(p.horizon) >= 1 and p.value is not None and math.isfinite(float(p.value))
        except (TypeError, ValueError):
            ok = False
        if ok:
            out.append(p)
    return out


def domain_predictor(md: MarketData) -> list[Prediction]:
    """Replay predictor: the loggable domain predictions of ``md``'s last bar (both arms
    of running A/B tests)."""
    experiments = {}
    try:
        with session_scope() as s:
            experiments = running_experiments(session=s)
    except Exception:  # no store: no experiments
        pass
    run = run_domain(md, experiments=experiments)
    return loggable(run.predictions + run.shadow)
