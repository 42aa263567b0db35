"""Signal-quality scorer: a random forest estimating the probability that a trade succeeds
(meta-labelling, López de Prado 2018, *Advances in Financial Machine Learning* ch. 3.6).

- Primary signal at bar t: ``side = sign(mom_20)`` (trend following; 0 -> long).
- Trade: entry at close t on ``side``, stop 2 x ATR(14), take profit 2 R (4 x ATR), exit after
  10 bars at the latest — the sizing calculator's defaults.
- Label (``core.targets.triple_barrier_outcome``): success = the trade's return > 0.
- Features (bars <= t): ``core.risk.state`` columns, RSI(14)/100, ATR(14)/close, side.
- Decision: EXECUTE when P(success) > 0.6, SKIP otherwise (the specification's threshold).
- Evaluation: yearly walk-forward over the pooled bundled symbols, expanding window, embargo
  of ``horizon`` bars before each test year; baseline = the training base rate.

Persistence: skops with an explicit trusted-type list (no pickle), registry family
``signal-quality``.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, NotTrainedError
from core.evaluation import wilson_ci
from core.risk.inputs import atr
from core.risk.state import STATE_COLUMNS, risk_state
from core.serving import load_active
from core.targets import triple_barrier_outcome

FAMILY = "signal-quality"
FEATURES = tuple(STATE_COLUMNS) + ("rsi_14", "atr_pct", "side")
HORIZON = 10
ATR_MULT = 2.0
R_MULT = 2.0
EXECUTE_THRESHOLD = 0.6
TRUSTED = [
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
    "numpy.dtype",
    "numpy.ndarray",
]
RF_PARAMS = dict(n_estimators=200, max_depth=6, min_samples_leaf=100, max_features="sqrt",
                 random_state=0, n_jobs=1)


def signal_features(frame: pd.DataFrame, side: pd.Series | None = None) -> pd.DataFrame:
    """Feature matrix (bars x ``FEATURES``, float64, NaN in warm-up); ``side`` defaults to the
    primary signal ``sign(mom_20)`` (+1/-1)."""
    import talib  # deferred: talib is slow to import

    st = risk_state(frame)
    X = st[list(STATE_COLUMNS)].copy()
    X["rsi_14"] = talib.RSI(frame["close"].to_numpy("float64"), timeperiod=14) / 100
    X["atr_pct"] = atr(frame, 14) / frame["close"]
    if side is None:
        side = np.where(st["mom_20"] < 0, -1.0, 1.0)
        side = pd.Series(side, index=frame.index).where(st["mom_20"].notna())
    X["side"] = side
    return X


def signal_labels(frame: pd.DataFrame, side: pd.Series) -> pd.Series:
    """1.0 when the trade on ``side`` had a positive triple-barrier return, 0.0 if not, NaN
    when unknown (last ``HORIZON`` bars). Target only: looks ahead."""
    a = atr(frame, 14)
    out = {}
    for s in (1, -1):
        out[s] = triple_barrier_outcome(frame, a * ATR_MULT, a * ATR_MULT * R_MULT, HORIZON, s)
    ret = out[1].where(side > 0, out[-1]).where(side.notna())
    return (ret > 0).astype("float64").where(ret.notna())


def panel(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Stacked samples: features, ``y`` and ``symbol``; rows with any NaN dropped."""
    parts = []
    for sym, f in frames.items():
        X = signal_features(f)
        X["y"] = signal_labels(f, X["side"])
        X["symbol"] = sym
        parts.append(X.dropna())
    return pd.concat(parts).sort_index(kind="stable")


class SignalQualityScorer:
    """Random forest of trade success. ``fit(X, y)`` returns self; ``predict_proba`` before
    fit raises :class:`NotTrainedError`."""
    def __init__(self, threshold: float = EXECUTE_THRESHOLD, **rf_params):
        self.threshold = threshold
        self.rf_params = {**RF_PARAMS, **rf_params}

    def fit(self, X: pd.DataFrame, y) -> "SignalQualityScorer":
        # deferred: scikit-learn is slow to import
        from sklearn.ensemble import RandomForestClassifier

        self.model_ = RandomForestClassifier(**self.rf_params).fit(
            X[list(FEATURES)].to_numpy("float64"), np.asarray(y, dtype=int))
        self.base_rate_ = float(np.mean(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(success) per row (float64, shape (n,))."""
        if not hasattr(self, "model_"):
            raise NotTrainedError("The signal-quality scorer is not trained. Run "
                                  "`quantdesk train risk`.")
        p = self.model_.predict_proba(X[list(FEATURES)].to_numpy("float64"))
        classes = list(self.model_.classes_)
        return p[:, classes.index(1)] if 1 in classes else np.zeros(len(X))

    def decide(self, proba) -> np.ndarray:
        """``EXECUTE`` where proba > threshold, else ``SKIP``."""
        return np.where(np.asarray(proba) > self.threshold, "EXECUTE", "SKIP")

    def to_files(self) -> dict[str, bytes]:
        import skops.io as sio  # deferred: skops is slow to import

        return {"model.skops": sio.dumps(self.model_)}

    @classmethod
    def from_files(cls, files: dict[str, bytes], meta: dict) -> "SignalQualityScorer":
        import skops.io as sio  # deferred: skops is slow to import

        obj = cls(meta.get("threshold", EXECUTE_THRESHOLD))
        untrusted = set(sio.get_untrusted_types(data=files["model.skops"])) - set(TRUSTED)
        if untrusted:
            raise NotTrainedError(f"Saved scorer holds unexpected types {sorted(untrusted)}; "
                                  "refusing to load it. Retrain with `quantdesk train risk`.")
        obj.model_ = sio.loads(files["model.skops"], trusted=TRUSTED)
        obj.base_rate_ = float(meta.get("base_rate", np.nan))
        return obj


def walk_forward(data: pd.DataFrame, first_year: int = 2003, progress=None) -> dict:
    """Yearly expanding-window walk-forward with an embargo of ``HORIZON`` bars.

    Returns pooled out-of-sample metrics: auc, brier (model) vs brier_base (training base
    rate), execute count / hit rate / Wilson CI, test base rate, skip hit rate, per-symbol rows.
    """
    from sklearn.metrics import roc_auc_score  # deferred: scikit-learn is slow to import

    years = sorted({y for y in data.index.year if y >= first_year})
    preds = []
    for i, yr in enumerate(years):
        start = pd.Timestamp(f"{yr}-01-01", tz="UTC")
        test = data[data.index.year == yr]
        train_parts = []
        for sym, g in data[data.index < start].groupby("symbol"):
            train_parts.append(g.iloc[:-HORIZON])  # embargo: labels must end before the test
        train = pd.concat(train_parts) if train_parts else data.iloc[:0]
        if len(train) < 500 or test.empty:
            continue
        m = SignalQualityScorer().fit(train, train["y"])
        preds.append(pd.DataFrame({"symbol": test["symbol"], "y": test["y"],
                                   "p": m.predict_proba(test), "base": m.base_rate_},
                                  index=test.index))
        if progress:
            progress((i + 1) / len(years), f"walk-forward {yr}")
    if not preds:
        raise InsufficientDataError("Not enough history for the walk-forward evaluation.")
    P = pd.concat(preds)

    def summarise(df: pd.DataFrame) -> dict:
        ex = df["p"] > EXECUTE_THRESHOLD
        k, n = int(df.loc[ex, "y"].sum()), int(ex.sum())
        lo, hi = wilson_ci(k, n)
        return {
            "n": int(len(df)), "test_base_rate": float(df["y"].mean()),
            "auc": float(roc_auc_score(df["y"], df["p"])) if df["y"].nunique() == 2 else None,
            "brier": float(np.mean((df["p"] - df["y"]) ** 2)),
            "brier_base": float(np.mean((df["base"] - df["y"]) ** 2)),
            "execute_n": n, "execute_share": n / len(df),
            "execute_hit_rate": k / n if n else None, "execute_ci95": [lo, hi],
            "skip_hit_rate": float(df.loc[~ex, "y"].mean()) if (~ex).any() else None,
        }

    out = summarise(P)
    out["per_symbol"] = {s: summarise(g) for s, g in P.groupby("symbol")}
    out["years"] = [int(years[0]), int(years[-1])]
    return out


def load_scorer(models_dir=None) -> tuple[SignalQualityScorer, dict]:
    """The active scorer and its metadata (raises NotTrainedError/ArtifactIntegrityError)."""
    art = load_active(FAMILY, models_dir=models_dir)
    return SignalQualityScorer.from_files(art.files, art.metadata), art.metadata


def score_latest(frame: pd.DataFrame, direction: str = "long", models_dir=None) -> dict:
    """P(success) and decision for a trade on the last bar in ``direction``.

    Returns dict ``probability``, ``decision``, ``base_rate``, ``version``, ``origin_ts``.
    """
    scorer, meta = load_scorer(models_dir)
    side = pd.Series(1.0 if direction == "long" else -1.0, index=frame.index)
    X = signal_features(frame, side).iloc[[-1]]
    if X.isna().any(axis=None):
        raise InsufficientDataError("Need about 280 bars for the signal-quality features.")
    p = float(scorer.predict_proba(X)[0])
    return {"probability": p, "decision": str(scorer.decide([p])[0]),
            "base_rate": scorer.base_rate_, "version": meta.get("version", ""),
            "origin_ts": X.index[-1]}
