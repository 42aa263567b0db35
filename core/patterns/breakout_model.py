"""Breakout-success classifier (MLP + SVM ensemble) and its walk-forward evaluation.

Model: the mean of two probability estimators on standardised :data:`FEATURES` —
scikit-learn ``MLPClassifier`` (one hidden layer of 16, L2 alpha 1e-2, Adam, early stopping on
20% of the training events) and ``SVC`` (RBF, Platt-scaled via ``CalibratedClassifierCV``) — as the specification asks; a logistic regression is evaluated
beside it as a simpler alternative. Persistence: ``skops`` with an explicit trusted list.

Walk-forward protocol (DESIGN.md): events of all bundled symbols pooled and ordered by time;
each calendar year from the fifth year of data is a test block; the model is refit on every
event whose outcome window ended before the block (event time < block start - embargo of
``EMBARGO_DAYS`` calendar days >= 10 trading bars), and scored only on the block.
Baselines: (a) take every breakout (rule baseline), (b) the base-rate forecast (training
success rate per direction) for Brier score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.errors import ArtifactIntegrityError, InsufficientDataError, NotTrainedError
from core.patterns.breakouts import FEATURES, breakout_dataset

EMBARGO_DAYS = 16
MIN_TRAIN = 200
SKOPS_TRUSTED = [
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.svm._classes.SVC",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "numpy.dtype",
    "numpy.ndarray",
    "builtins.list",
]


class BreakoutClassifier:
    """Probability that a breakout reaches its ATR target before its stop.

    Args:
        kind: ``"mlp_svm"`` (default, mean of MLP and SVM probabilities) or ``"logit"``.
        random_state: seed for the MLP (reproducible fits).

    Attributes (after fit):
        members_: fitted scikit-learn pipelines. base_rate_: training success rate.
        features_: feature names (``breakouts.FEATURES``).
    """
    def __init__(self, kind: str = "mlp_svm", random_state: int = 0):
        self.kind = kind
        self.random_state = random_state

    def _make(self):
        # deferred: scikit-learn is slow to import
        from sklearn.calibration import CalibratedClassifierCV
        # deferred: scikit-learn is slow to import
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier  # deferred: scikit-learn is slow to import
        from sklearn.pipeline import make_pipeline  # deferred: scikit-learn is slow to import
        from sklearn.preprocessing import StandardScaler  # deferred: scikit-learn is slow to import
        from sklearn.svm import SVC  # deferred: scikit-learn is slow to import

        if self.kind == "logit":
            return [make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=500))]
        if self.kind != "mlp_svm":
            raise ValueError(f"unknown kind {self.kind!r}")
        return [
            make_pipeline(StandardScaler(), MLPClassifier(
                hidden_layer_sizes=(16,), alpha=1e-2, max_iter=500, early_stopping=True,
                validation_fraction=0.2, n_iter_no_change=20, random_state=self.random_state)),
            make_pipeline(StandardScaler(), CalibratedClassifierCV(
                SVC(C=1.0, gamma="scale"), method="sigmoid", ensemble=False)),
        ]

    def fit(self, X: pd.DataFrame, y) -> "BreakoutClassifier":
        """Fit on X (n_events x FEATURES, float64) and y (0/1). Returns self.

        Raises:
            InsufficientDataError: fewer than 20 events or only one class.
        """
        y = np.asarray(y, dtype=int)
        if len(y) < 20 or len(np.unique(y)) < 2:
            raise InsufficientDataError("Need at least 20 labelled breakouts of both outcomes.")
        Xv = np.asarray(X[list(FEATURES)], dtype="float64")
        self.members_ = [m.fit(Xv, y) for m in self._make()]
        self.base_rate_ = float(y.mean())
        self.features_ = list(FEATURES)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(success) per row, shape (n,), float64 in [0, 1]. Raises NotTrainedError."""
        if not hasattr(self, "members_"):
            raise NotTrainedError("BreakoutClassifier is not fitted; call fit() or load one.")
        Xv = np.asarray(X[list(FEATURES)], dtype="float64")
        return np.mean([m.predict_proba(Xv)[:, 1] for m in self.members_], axis=0)

    def to_bytes(self) -> bytes:
        """skops bytes of the fitted members (no pickle)."""
        import skops.io as sio  # deferred: skops is slow to import

        return sio.dumps(self.members_)

    @classmethod
    def from_bytes(cls, data: bytes, kind: str, base_rate: float) -> "BreakoutClassifier":
        """Rebuild from :meth:`to_bytes` output, trusting only ``SKOPS_TRUSTED`` types."""
        import skops.io as sio  # deferred: skops is slow to import

        obj = cls(kind=kind)
        untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in SKOPS_TRUSTED]
        if untrusted:

            raise ArtifactIntegrityError(f"Breakout model file holds unexpected types {untrusted}.")
        obj.members_ = sio.loads(data, trusted=SKOPS_TRUSTED)
        obj.base_rate_ = base_rate
        obj.features_ = list(FEATURES)
        return obj


def pooled_dataset(symbols=None, frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Breakout events of several series with a ``symbol`` column, sorted by time."""
    frames = dict(frames or {})
    for s in symbols if symbols is not None else BUNDLED_SYMBOLS:
        if s not in frames:
            frames[s] = load_ohlcv(s).frame
    parts = []
    for s, f in frames.items():
        ds = breakout_dataset(f)
        ds["symbol"] = s
        parts.append(ds)
    out = pd.concat(parts).sort_index(kind="stable")
    return out


def walk_forward(data: pd.DataFrame, kind: str = "mlp_svm", test_symbols=None,
                 first_test_year: int | None = None, progress=None) -> pd.DataFrame:
    """Out-of-sample probabilities for every event in the test blocks.

    Args:
        data: :func:`pooled_dataset` output (labelled rows are used for training).
        test_symbols: score only these symbols (default all); training always uses every
            symbol's past events.
    Returns:
        The scored test rows with added ``p`` (model) and ``p_base`` (training base rate of the
        event's direction) columns.
    """
    lab = data[data["success"].notna()]
    years = sorted(set(lab.index.year))
    if first_test_year is None:
        first_test_year = years[0] + 4 if len(years) > 5 else None
    if first_test_year is None:
        raise InsufficientDataError("Walk-forward needs at least 6 years of breakouts.")
    out = []
    test_years = [y for y in years if y >= first_test_year]
    for i, year in enumerate(test_years):
        start = pd.Timestamp(year=year, month=1, day=1, tz="UTC")
        end = pd.Timestamp(year=year + 1, month=1, day=1, tz="UTC")
        train = lab[lab.index < start - pd.Timedelta(days=EMBARGO_DAYS)]
        test = lab[(lab.index >= start) & (lab.index < end)]
        if test_symbols is not None:
            test = test[test["symbol"].isin(list(test_symbols))]
        if len(test) == 0 or len(train) < MIN_TRAIN:
            continue
        model = BreakoutClassifier(kind).fit(train, train["success"])
        t = test.copy()
        t["p"] = model.predict_proba(t)
        rates = train.groupby("direction")["success"].mean()
        t["p_base"] = t["direction"].map(rates).fillna(train["success"].mean())
        t["fold"] = year
        out.append(t)
        if progress:
            progress((i + 1) / len(test_years), f"walk-forward {year}")
    if not out:
        raise InsufficientDataError("No test block had enough earlier breakouts to train on.")
    return pd.concat(out)


def _auc(y, p) -> float:
    from sklearn.metrics import roc_auc_score  # deferred: scikit-learn is slow to import

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def score(scored: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> dict:
    """Metrics of walk-forward output: success rate of all vs model-selected breakouts
    (selected = p above the training base rate of its direction), precision/recall, Brier of
    model and base-rate forecast, Brier skill score, AUC with a bootstrap 95% CI, the
    reliability curve (10 quantile bins) and a ``skill`` verdict (AUC CI above 0.5 AND Brier
    skill score > 0)."""
    from sklearn.calibration import calibration_curve  # deferred: scikit-learn is slow to import

    y = scored["success"].to_numpy(dtype=int)
    p = scored["p"].to_numpy()
    pb = scored["p_base"].to_numpy()
    sel = p > pb
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if len(np.unique(y[i])) == 2:
            aucs.append(_auc(y[i], p[i]))
    brier = float(np.mean((p - y) ** 2))
    brier_base = float(np.mean((pb - y) ** 2))
    frac, mean_p = calibration_curve(y, p, n_bins=10, strategy="quantile")
    auc = _auc(y, p)
    lo, hi = (np.percentile(aucs, [2.5, 97.5]).tolist() if aucs else [float("nan")] * 2)
    bss = 1 - brier / brier_base if brier_base > 0 else float("nan")
    res = {
        "n_events": int(len(y)),
        "success_rate_all": float(y.mean()),
        "success_rate_selected": float(y[sel].mean()) if sel.any() else float("nan"),
        "n_selected": int(sel.sum()),
        "lift_selected_vs_all": (float(y[sel].mean() / y.mean() - 1)
                                 if sel.any() and y.mean() > 0 else float("nan")),
        "precision": float(y[sel].mean()) if sel.any() else float("nan"),
        "recall": float((sel & (y == 1)).sum() / max(1, (y == 1).sum())),
        "brier": brier,
        "brier_base_rate": brier_base,
        "brier_skill": bss,
        "auc": auc,
        "auc_ci95": [lo, hi],
        "reliability": [{"mean_predicted": float(a), "observed": float(b)}
                        for a, b in zip(mean_p, frac)],
    }
    for d, name in ((1, "up"), (-1, "down")):
        m = scored["direction"] == d
        res[f"success_rate_{name}"] = float(scored.loc[m, "success"].mean()) if m.any() else None
    res["skill"] = bool(np.isfinite(lo) and lo > 0.5 and bss > 0)
    return res
