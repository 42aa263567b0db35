"""Ensemble of the available scorers: a stacked multinomial logistic regression.

A lexicon scorer gives a score ``s`` in [-1, 1]; its stacker features are ``s`` and ``|s|``
(``|s|`` lets a model say "strong either way" -> not neutral). A probabilistic scorer (MiniLM
head, FinBERT) gives P(negative, neutral, positive), shape (n, 3); its features are the three
log-probabilities (clipped at 1e-6), so the stacker keeps P(neutral) and can reproduce the
head alone (softmax of its log-probabilities is the head). The weights are
fitted on labelled data the scorers never trained on (the Twitter validation split; Wolpert
1992, stacked generalisation). Output: P(negative, neutral, positive); the ensemble score is
``P(positive) - P(negative)`` in [-1, 1] and the label is the most probable class.

One stacker is fitted for every subset of the scorers available at training time, each with its
5-fold out-of-fold accuracy on the same labelled rows. Each probabilistic scorer also enters
*as is* (a fixed stacker with identity weights: its own probabilities, nothing fitted, so its
accuracy on the rows is already out-of-sample for the ensemble). At serving time the ensemble
uses, among the candidates for the scorers present, the one with the best out-of-fold accuracy
(ties: fewer scorers, then the fixed one) — ensemble selection on held-out data (Caruana et al.
2004, "Ensemble selection from libraries of models", whose library includes the single
models): a scorer that does not help on validation gets no say, and the ensemble is never
served below its best member there. So when a scorer is
missing (e.g. FinBERT offline) a stacker fitted for exactly the remaining set serves, and a
lexicon that only adds noise is left out. Without any fitted stacker (no artifact),
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


def _class_indices(labels) -> np.ndarray:
    """Label strings -> int class indices in LABELS order."""
    return np.array([LABEL_INDEX[v] for v in labels])


def as_score(v) -> np.ndarray:
    """A scorer's output as a score in [-1, 1]: (n,) as is (clipped); (n, 3) probabilities
    -> P(positive) - P(negative)."""
    v = np.asarray(v, dtype="float64")
    if v.ndim == 2:
        v = v[:, LABEL_INDEX["positive"]] - v[:, LABEL_INDEX["negative"]]
    return np.clip(v, -1, 1)


def input_kind(v) -> str:
    """``proba`` for (n, 3) probabilities, ``score`` for (n,) scores."""
    return "proba" if np.ndim(v) == 2 else "score"


def _features(scores: dict[str, np.ndarray], names: list[str],
              kinds: dict[str, str] | None = None) -> np.ndarray:
    cols = []
    for n in names:
        v = np.asarray(scores[n], dtype="float64")
        kind = (kinds or {}).get(n, input_kind(v))
        if kind == "proba":
            if v.ndim != 2:
                raise DataValidationError(f"The ensemble needs {n}'s three class "
                                          "probabilities, got a single score.")
            cols += list(np.log(np.clip(v, 1e-6, 1.0)).T)
        else:
            s = as_score(v)
            cols += [s, np.abs(s)]
    return np.column_stack(cols)


@dataclass
class Stacker:
    """Multinomial logistic regression over ``[s_i, |s_i|]`` of score scorers and
    ``log P_i`` (3 columns) of probabilistic scorers.

    Attributes: scorers (names, SCORER_ORDER order); kinds (name -> ``score``/``proba``, set
    by ``fit`` from the inputs' shapes); coef_ (3, features) and intercept_ (3,) in LABELS
    order; fixed: True for a single probabilistic scorer served as is (identity weights, see
    :meth:`as_is`).
    """

    scorers: list[str]
    C: float = 1.0
    coef_: np.ndarray | None = None
    intercept_: np.ndarray | None = None
    kinds: dict[str, str] = field(default_factory=dict)
    #: 5-fold out-of-fold accuracy on the rows it was fitted on (None: not measured)
    oof_accuracy: float | None = None
    fixed: bool = False

    @property
    def key(self) -> str:
        """``"minilm+vader"`` for a fitted subset, ``"minilm:as-is"`` for a fixed one."""
        return _key(self.scorers) + (":as-is" if self.fixed else "")

    @classmethod
    def as_is(cls, name: str, proba: np.ndarray, labels) -> "Stacker":
        """The probabilistic scorer ``name`` unchanged: coef = identity on its log-probabilities,
        intercept 0, so ``predict_proba`` returns its own P (n, 3) (up to the 1e-6 clip).
        ``oof_accuracy`` = its accuracy on ``labels`` (nothing is fitted to them)."""
        y = _class_indices(labels)
        acc = float(np.mean(np.asarray(proba).argmax(1) == y))
        return cls([name], 1.0, np.eye(len(LABELS)), np.zeros(len(LABELS)), {name: "proba"},
                   acc, fixed=True)

    def fit(self, scores: dict[str, np.ndarray], labels) -> "Stacker":
        # deferred: scikit-learn is slow to import
        from sklearn.linear_model import LogisticRegression

        y = _class_indices(labels)
        if len(set(y)) < len(LABELS):
            raise DataValidationError("The ensemble needs examples of all three labels.")
        self.kinds = {n: input_kind(scores[n]) for n in self.scorers}
        lr = LogisticRegression(C=self.C, max_iter=2000).fit(
            _features(scores, self.scorers, self.kinds), y)
        self.coef_, self.intercept_ = lr.coef_.astype("float64"), lr.intercept_.astype("float64")
        return self

    def measure_oof(self, scores: dict[str, np.ndarray], labels, folds: int = 5,
                    seed: int = 0) -> float:
        """Set and return ``oof_accuracy``: refit on ``folds - 1`` folds, predict the held-out
        fold (random fold assignment, seeded)."""
        y = np.asarray(labels)
        fold = np.random.default_rng(seed).integers(0, folds, len(y))
        hits = 0
        for k in range(folds):
            tr, te = fold != k, fold == k
            if not te.any():
                continue
            st = Stacker(self.scorers, self.C).fit({n: v[tr] for n, v in scores.items()}, y[tr])
            pred = np.array(LABELS, dtype=object)[
                st.predict_proba({n: v[te] for n, v in scores.items()}).argmax(1)]
            hits += int((pred == y[te]).sum())
        self.oof_accuracy = hits / len(y)
        return self.oof_accuracy

    def predict_proba(self, scores: dict[str, np.ndarray]) -> np.ndarray:
        z = _features(scores, self.scorers, self.kinds) @ self.coef_.T + self.intercept_
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def weights(self) -> dict[str, float]:
        """Share of each scorer in the stacker (sums to 1): the summed absolute
        positive-minus-negative coefficients of its features."""
        pos, neg = LABEL_INDEX["positive"], LABEL_INDEX["negative"]
        d = np.abs(self.coef_[pos] - self.coef_[neg])
        w, j = [], 0
        for n in self.scorers:
            k = 3 if self.kinds.get(n) == "proba" else 2
            w.append(d[j] if k == 2 else d[j:j + k].sum())
            j += k
        w = np.array(w)
        return dict(zip(self.scorers, (w / w.sum()).round(3).tolist())) if w.sum() else {}

    def to_dict(self) -> dict:
        return {"scorers": self.scorers, "C": self.C, "kinds": self.kinds,
                "coef": self.coef_.tolist(), "intercept": self.intercept_.tolist(),
                "oof_accuracy": self.oof_accuracy, "fixed": self.fixed}

    @classmethod
    def from_dict(cls, d: dict) -> "Stacker":
        return cls(list(d["scorers"]), float(d.get("C", 1.0)), np.asarray(d["coef"], float),
                   np.asarray(d["intercept"], float),
                   dict(d.get("kinds") or {n: "score" for n in d["scorers"]}),
                   d.get("oof_accuracy"), bool(d.get("fixed", False)))


@dataclass
class EnsembleResult:
    """Ensemble output for n texts: score (n,) in [-1, 1], label (n,) str, proba (n, 3),
    confidence (n,) = max class probability, scorers used, fitted or default weights;
    as_is: the single probabilistic scorer served unchanged (see :meth:`Stacker.as_is`)."""

    score: np.ndarray
    label: np.ndarray
    proba: np.ndarray
    confidence: np.ndarray
    scorers: list[str]
    fitted: bool
    weights: dict[str, float] = field(default_factory=dict)
    as_is: bool = False


@dataclass
class Ensemble:
    """Stackers keyed by scorer subset (``"minilm+vader+lm"``; ``"minilm:as-is"`` for a
    probabilistic scorer served unchanged). ``combine(scores)`` uses, among the candidates for
    the scorers present, the one with the best out-of-fold accuracy (ties: fewer scorers, then
    the fixed one); stackers without that figure (older artifacts): the largest subset."""

    stackers: dict[str, Stacker] = field(default_factory=dict)

    @property
    def fitted(self) -> bool:
        return bool(self.stackers)

    def fit(self, scores: dict[str, np.ndarray], labels, C: float = 1.0) -> "Ensemble":
        """Fit one stacker per non-empty subset of ``scores``' scorers and measure its 5-fold
        out-of-fold accuracy on the same rows; add each probabilistic scorer as is."""
        names = [n for n in SCORER_ORDER if n in scores]
        for n in names:
            if input_kind(scores[n]) == "proba":
                st = Stacker.as_is(n, scores[n], labels)
                self.stackers[st.key] = st
        for r in range(1, len(names) + 1):
            for combo in itertools.combinations(names, r):
                st = Stacker(list(combo), C).fit(scores, labels)
                st.measure_oof({n: scores[n] for n in combo}, labels)
                self.stackers[st.key] = st
        return self

    def choose(self, available) -> Stacker | None:
        """The stacker to serve for the ``available`` scorer names (None: none fitted)."""
        avail = set(available)
        fits = [st for st in self.stackers.values() if set(st.scorers) <= avail]
        if not fits:
            return None
        if all(st.oof_accuracy is not None for st in fits):
            return max(fits, key=lambda st: (st.oof_accuracy, -len(st.scorers), st.fixed))
        return max(fits, key=lambda st: (len(st.scorers), "minilm" in st.scorers))

    def combine(self, scores: dict[str, np.ndarray]) -> EnsembleResult:
        """Ensemble of whichever scorers are in ``scores`` (name -> (n,) score in [-1, 1], or
        (n, 3) probabilities for probabilistic scorers).

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
                              p.max(1), list(st.scorers), True, st.weights(),
                              as_is=st.fixed)

    def to_dict(self) -> dict:
        return {"method": "stacked multinomial logistic regression on [s, |s|] per lexicon "
                          "scorer and log P(neg, neu, pos) per probabilistic scorer",
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
    s = np.clip(np.column_stack([as_score(scores[n]) for n in names]) @ w, -1, 1)
    label = label_from_score(s, DEFAULT_THRESHOLD)
    proba = np.zeros((len(s), 3))
    for i, lab in enumerate(label):
        proba[i, LABEL_INDEX[lab]] = 1.0
    return EnsembleResult(s, label, proba, np.abs(s), names, False,
                          dict(zip(names, w.round(3).tolist())))


def default_ensemble() -> Ensemble:
    """An ensemble with no fitted stacker (uses :func:`default_combine`)."""
    return Ensemble()
