"""Ensemble of the available scorers: a stacked multinomial logistic regression.

Each scorer gives a score ``s`` in [-1, 1]. The stacker's features are ``s`` and ``|s|`` per
scorer (``|s|`` lets a model say "strong either way" -> not neutral), and its weights are
fitted on labelled data the scorers never trained on (the Twitter validation split; Wolpert
1992, stacked generalisation). Output: P(negative, neutral, positive); the ensemble score is
``P(positive) - P(negative)`` in [-1, 1] and the label is the most probable class.

One stacker is fitted for every subset of the scorers available at training time, so when a
scorer is missing at serving time (e.g. FinBERT offline) the stacker of the remaining set
serves, with weights fitted for exactly that set. Without any fitted stacker (no artifact),
:func:`default_ensemble` averages the scores with the specification's 0.3/0.4/0.3 starting
weights (VADER / transformer / LM) and a +/-0.05 dead band; it says so in ``fitted=False``.
Stored as plain JSON.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from core.errors import DataValidationError
from core.sentiment.labels import LABEL_INDEX, LABELS, label_from_score

SCORER_ORDER = ("minilm", "finbert", "vader", "lm")
DEFAULT_WEIGHTS = {"vader": 0.3, "minilm": 0.4, "finbert": 0.4, "lm": 0.3}
DEFAULT_THRESHOLD = 0.05


def _key(names) -> str:
    return "+".join(n for n in SCORER_ORDER if n in set(names))


def _features(scores: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    cols = []
    for n in names:
        s = np.clip(np.asarray(scores[n], dtype="float64"), -1, 1)
        cols += [s, np.abs(s)]
    return np.column_stack(cols)


@dataclass
class Stacker:
    """Multinomial logistic regression over ``[s_i, |s_i|]`` of ``scorers``.

    Attributes: scorers (names, SCORER_ORDER order); coef_ (3, 2k) and intercept_ (3,) in
    LABELS order.
    """

    scorers: list[str]
    C: float = 1.0
    coef_: np.ndarray | None = None
    intercept_: np.ndarray | None = None

    def fit(self, scores: dict[str, np.ndarray], labels) -> "Stacker":
        from sklearn.linear_model import LogisticRegression

        y = np.array([LABEL_INDEX[v] for v in labels])
        if len(set(y)) < len(LABELS):
            raise DataValidationError("The ensemble needs examples of all three labels.")
        lr = LogisticRegression(C=self.C, max_iter=2000).fit(_features(scores, self.scorers), y)
        self.coef_, self.intercept_ = lr.coef_.astype("float64"), lr.intercept_.astype("float64")
        return self

    def predict_proba(self, scores: dict[str, np.ndarray]) -> np.ndarray:
        z = _features(scores, self.scorers) @ self.coef_.T + self.intercept_
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def weights(self) -> dict[str, float]:
        """Share of each scorer in the positive-vs-negative direction (sums to 1)."""
        pos, neg = LABEL_INDEX["positive"], LABEL_INDEX["negative"]
        w = np.array([self.coef_[pos, 2 * i] - self.coef_[neg, 2 * i]
                      for i in range(len(self.scorers))])
        w = np.abs(w)
        return dict(zip(self.scorers, (w / w.sum()).round(3).tolist())) if w.sum() else {}

    def to_dict(self) -> dict:
        return {"scorers": self.scorers, "C": self.C, "coef": self.coef_.tolist(),
                "intercept": self.intercept_.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Stacker":
        return cls(list(d["scorers"]), float(d.get("C", 1.0)), np.asarray(d["coef"], float),
                   np.asarray(d["intercept"], float))


@dataclass
class EnsembleResult:
    """Ensemble output for n texts: score (n,) in [-1, 1], label (n,) str, proba (n, 3),
    confidence (n,) = max class probability, scorers used, fitted or default weights."""

    score: np.ndarray
    label: np.ndarray
    proba: np.ndarray
    confidence: np.ndarray
    scorers: list[str]
    fitted: bool
    weights: dict[str, float] = field(default_factory=dict)


@dataclass
class Ensemble:
    """Stackers keyed by scorer subset (``"minilm+vader+lm"``). ``combine(scores)`` uses the
    stacker of exactly the scorers present, else the largest fitted subset of them."""

    stackers: dict[str, Stacker] = field(default_factory=dict)

    @property
    def fitted(self) -> bool:
        return bool(self.stackers)

    def fit(self, scores: dict[str, np.ndarray], labels, C: float = 1.0) -> "Ensemble":
        """Fit one stacker per non-empty subset of ``scores``' scorers."""
        names = [n for n in SCORER_ORDER if n in scores]
        for r in range(1, len(names) + 1):
            for combo in itertools.combinations(names, r):
                self.stackers[_key(combo)] = Stacker(list(combo), C).fit(scores, labels)
        return self

    def choose(self, available) -> Stacker | None:
        avail = set(available)
        best = None
        for st in self.stackers.values():
            if set(st.scorers) <= avail and (best is None or len(st.scorers) > len(best.scorers)
                                            or (len(st.scorers) == len(best.scorers)
                                                and "minilm" in st.scorers)):
                best = st
        return best

    def combine(self, scores: dict[str, np.ndarray]) -> EnsembleResult:
        """Ensemble of whichever scorers are in ``scores`` (name -> (n,) in [-1, 1]).

        Raises:
            DataValidationError: no scorer given.
        """
        avail = [n for n in SCORER_ORDER if n in scores]
        if not avail:
            raise DataValidationError("No sentiment scorer is available to combine.")
        st = self.choose(avail)
        if st is None:
            return default_combine(scores)
        p = st.predict_proba(scores)
        score = p[:, LABEL_INDEX["positive"]] - p[:, LABEL_INDEX["negative"]]
        return EnsembleResult(score, np.array(LABELS, dtype=object)[p.argmax(1)], p,
                              p.max(1), list(st.scorers), True, st.weights())

    def to_dict(self) -> dict:
        return {"method": "stacked multinomial logistic regression on [s, |s|] per scorer",
                "stackers": {k: s.to_dict() for k, s in self.stackers.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "Ensemble":
        return cls({k: Stacker.from_dict(v) for k, v in d.get("stackers", {}).items()})


def default_combine(scores: dict[str, np.ndarray]) -> EnsembleResult:
    """Unfitted fallback: weighted mean with DEFAULT_WEIGHTS, dead band DEFAULT_THRESHOLD.
    Probabilities are a crude mapping (|score| to the predicted class), confidence = |score|."""
    names = [n for n in SCORER_ORDER if n in scores]
    w = np.array([DEFAULT_WEIGHTS[n] for n in names])
    w = w / w.sum()
    s = np.clip(np.column_stack([np.asarray(scores[n], float) for n in names]) @ w, -1, 1)
    label = label_from_score(s, DEFAULT_THRESHOLD)
    proba = np.zeros((len(s), 3))
    for i, lab in enumerate(label):
        proba[i, LABEL_INDEX[lab]] = 1.0
    return EnsembleResult(s, label, proba, np.abs(s), names, False,
                          dict(zip(names, w.round(3).tolist())))


def default_ensemble() -> Ensemble:
    """An ensemble with no fitted stacker (uses :func:`default_combine`)."""
    return Ensemble()
