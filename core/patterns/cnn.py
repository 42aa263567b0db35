"""A 1-D CNN that reads 20 normalised OHLCV bars and scores the 15 rule patterns.

Architecture (as the issue specifies): three conv blocks ``Conv1d(k=3, same padding) ->
BatchNorm1d -> ReLU`` with 32 -> 64 -> 128 channels over the 20 bars, ``MaxPool1d(2)`` after
blocks 2 and 3 (20 -> 10 -> 5 steps; halves CPU cost), flatten (position matters: the
pattern must end on the last bar), ``Linear(640, 128) -> ReLU ->
Linear(128, 15)``, sigmoid per pattern (multi-label). Loss: ``BCEWithLogitsLoss`` with a
per-pattern ``pos_weight = clip(sqrt(neg/pos), 1, 30)`` against class imbalance, plus 4x
oversampling of windows that contain one of the rare patterns.

Input normalisation of a window ending at bar t (uses bars t-19..t only), an invertible
per-bar re-coding of OHLC given the last close, in units of ``s = mean(high - low)`` over the
10 bars before t (TA-Lib's averaging window): channel 0 ``(close_i - close_t) / s`` (level),
1 ``(close_i - open_i) / s`` (signed body), 2 ``(high_i - max(open_i, close_i)) / s`` (upper
shadow), 3 ``(min(open_i, close_i) - low_i) / s`` (lower shadow), 4 ``log1p(volume_i)`` minus
its window mean. Bodies and shadows as direct inputs make TA-Lib-style thresholds nearly
linear for the network (an earlier version fed raw levels and reached macro-F1 ~0.37).
The labels are the rule detector hits at bar t (:func:`core.patterns.rules.detect`), so the
network learns the rules, trend context included; it is judged on symbols it never saw.

Augmentation (``mirror=True``, the default of :func:`train_cnn`): each
training series is also used *mirrored* (prices inverted,
``open' = 1/open, high' = 1/low, low' = 1/high, close' = 1/close``), a valid OHLC series
whose rule labels are recomputed (bullish and bearish patterns swap roles).
Persistence: ``state_dict`` through safetensors (no pickle) via :mod:`core.registry`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, NotTrainedError
from core.patterns.rules import PATTERNS, detect

WINDOW = 20
FAMILY = "patterns-cnn"
TRAIN_SYMBOLS = ("AAPL", "MSFT", "^GSPC")
VALID_SYMBOLS = ("GOOG",)
TEST_SYMBOLS = ("IBM", "^IXIC")
RARE_OVERSAMPLE = 4


def windows(frame: pd.DataFrame, window: int = WINDOW) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Normalised windows ending at every bar from ``window-1`` on.

    Returns:
        ``X`` float32 array (n_windows, 5, window) with channels level, body, upper shadow,
        lower shadow, volume (see module doc), and the timestamps of the windows' last bars.
    Raises:
        InsufficientDataError: fewer than ``window`` bars.
    """
    n = len(frame)
    if n < window:
        raise InsufficientDataError(f"The pattern CNN needs at least {window} bars; got {n}.")
    from numpy.lib.stride_tricks import sliding_window_view

    px = frame[["open", "high", "low", "close"]].to_numpy("float64")
    vol = np.log1p(np.clip(frame["volume"].to_numpy("float64"), 0, None))
    pw = sliding_window_view(px, window, axis=0)  # (n_w, 4, window)
    vw = sliding_window_view(vol, window)  # (n_w, window)
    o, h, l, c = pw[:, 0], pw[:, 1], pw[:, 2], pw[:, 3]  # each (n_w, window)
    last_close = c[:, -1:]
    scale = (h[:, -11:-1] - l[:, -11:-1]).mean(axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, np.abs(last_close) * 1e-3 + 1e-12)
    top, bot = np.maximum(o, c), np.minimum(o, c)
    p = np.stack([(c - last_close) / scale, (c - o) / scale, (h - top) / scale,
                  (bot - l) / scale], axis=1)
    v = (vw - vw.mean(axis=1, keepdims=True))[:, None, :]
    X = np.concatenate([p, v], axis=1).astype("float32")
    return X, frame.index[window - 1:]


def labels(frame: pd.DataFrame, window: int = WINDOW) -> np.ndarray:
    """Rule hits at the last bar of each window, float32 (n_windows, 15)."""
    return detect(frame).hits.to_numpy()[window - 1:].astype("float32")


def mirrored(frame: pd.DataFrame) -> pd.DataFrame:
    """Price-inverted copy (valid OHLC): used only to augment training data."""
    return pd.DataFrame({"open": 1 / frame["open"], "high": 1 / frame["low"],
                         "low": 1 / frame["high"], "close": 1 / frame["close"],
                         "volume": frame["volume"]}, index=frame.index)


def build_net():
    """The torch module (uninitialised weights; seed torch before calling for reproducibility)."""
    import torch.nn as nn

    def block(i, o):
        return [nn.Conv1d(i, o, 3, padding=1), nn.BatchNorm1d(o), nn.ReLU()]

    return nn.Sequential(*block(5, 32), *block(32, 64), nn.MaxPool1d(2), *block(64, 128),
                         nn.MaxPool1d(2), nn.Flatten(),
                         nn.Linear(128 * (WINDOW // 4), 128), nn.ReLU(),
                         nn.Linear(128, len(PATTERNS)))


class PatternCNN:
    """scikit-learn-style wrapper: ``fit(X, Y)``, ``predict_proba(X)``, thresholds per pattern.

    Args:
        epochs: passes over the training windows. batch_size: windows per step.
        lr: Adam learning rate. seed: torch/numpy seed. threads: torch CPU threads.

    Attributes (after fit/load):
        net_: the torch module (eval mode). thresholds_: float array (15,) of decision
            thresholds on the sigmoid (0.5 unless tuned on validation symbols).
    """

    def __init__(self, epochs: int = 12, batch_size: int = 256, lr: float = 1e-2, seed: int = 0,
                 threads: int = 2):
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.threads = threads

    def fit(self, X: np.ndarray, Y: np.ndarray, progress=None, monitor=None) -> "PatternCNN":
        """Train on windows X (n, 5, 20) float32 and labels Y (n, 15) {0,1}. Returns self.

        ``monitor=(Xv, Yv)``: validation windows whose macro-F1 (threshold 0.5) is reported
        through ``progress`` after each epoch (for the training log; not used to stop)."""
        import torch

        torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        pos = Y.sum(axis=0)
        neg = len(Y) - pos
        pw = np.clip(np.sqrt(neg / np.maximum(pos, 1)), 1, 30)
        rare = np.flatnonzero(pos < 0.01 * len(Y))
        idx = np.arange(len(Y))
        if len(rare):
            has_rare = np.flatnonzero(Y[:, rare].any(axis=1))
            idx = np.concatenate([idx] + [has_rare] * (RARE_OVERSAMPLE - 1))
        net = build_net()
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.lr, total_steps=self.epochs * (len(idx) // self.batch_size + 1))
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw, dtype=torch.float32))
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
        for ep in range(self.epochs):
            net.train()
            perm = rng.permutation(idx)
            for b in range(0, len(perm), self.batch_size):
                j = torch.from_numpy(perm[b:b + self.batch_size])
                opt.zero_grad()
                loss = loss_fn(net(Xt[j]), Yt[j])
                loss.backward()
                opt.step()
                sched.step()
            if progress:
                msg = f"epoch {ep + 1}/{self.epochs} loss {loss.item():.4f}"
                if monitor is not None:
                    net.eval()
                    self.net_, self.thresholds_ = net, np.full(len(PATTERNS), 0.5)
                    sc = per_pattern_scores(monitor[1], self.predict(monitor[0]), min_cases=10)
                    msg += f" valid macro-F1 {sc['macro_f1_gated']:.3f}"
                progress((ep + 1) / self.epochs, msg)
        net.eval()
        self.net_ = net
        self.thresholds_ = np.full(len(PATTERNS), 0.5)
        self.pos_weight_ = pw
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Sigmoid outputs, float64 (n, 15). Raises NotTrainedError before fit/load."""
        if not hasattr(self, "net_"):
            raise NotTrainedError("The pattern CNN is not trained; run `quantdesk train patterns`.")
        import torch

        with torch.no_grad():
            out = [torch.sigmoid(self.net_(torch.from_numpy(X[i:i + 4096])))
                   for i in range(0, len(X), 4096)]
        return torch.cat(out).numpy().astype("float64") if out else np.zeros((0, len(PATTERNS)))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Boolean (n, 15): probability >= the pattern's threshold."""
        return self.predict_proba(X) >= self.thresholds_

    def tune_thresholds(self, X: np.ndarray, Y: np.ndarray, min_pos: int = 10) -> "PatternCNN":
        """Per pattern, the threshold in 0.05..0.95 maximising F1 on (X, Y) (validation
        symbols, never the test symbols); patterns with < ``min_pos`` positives keep 0.5."""
        P = self.predict_proba(X)
        grid = np.arange(0.05, 0.96, 0.05)
        for k in range(len(PATTERNS)):
            if Y[:, k].sum() < min_pos:
                continue
            f1s = [_f1(Y[:, k].astype(bool), P[:, k] >= g) for g in grid]
            self.thresholds_[k] = float(grid[int(np.argmax(f1s))])
        return self

    # ---- persistence -------------------------------------------------------------------
    def to_files(self) -> dict[str, bytes]:
        """``weights.safetensors`` (state_dict) and ``thresholds.json``."""
        import json

        from safetensors.torch import save

        sd = {k: v.detach().contiguous().clone() for k, v in self.net_.state_dict().items()}
        return {"weights.safetensors": save(sd),
                "thresholds.json": json.dumps(dict(zip(PATTERNS, map(float, self.thresholds_))))
                .encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> "PatternCNN":
        """Rebuild from :meth:`to_files` bytes (already sha256-checked by the registry)."""
        import json

        from safetensors.torch import load

        obj = cls()
        net = build_net()
        net.load_state_dict(load(files["weights.safetensors"]))
        net.eval()
        obj.net_ = net
        th = json.loads(files["thresholds.json"])
        obj.thresholds_ = np.array([th[p] for p in PATTERNS], dtype="float64")
        return obj


def _f1(y: np.ndarray, yhat: np.ndarray) -> float:
    tp = float((y & yhat).sum())
    fp = float((~y & yhat).sum())
    fn = float((y & ~yhat).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def dataset(symbols, mirror: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Windows and rule labels of bundled ``symbols`` (optionally + mirrored copies)."""
    from core.data import load_ohlcv

    Xs, Ys = [], []
    for s in symbols:
        f = load_ohlcv(s).frame
        for g in ([f, mirrored(f)] if mirror else [f]):
            X, _ = windows(g)
            Xs.append(X)
            Ys.append(labels(g))
    return np.concatenate(Xs), np.concatenate(Ys)


def per_pattern_scores(Y: np.ndarray, Yhat: np.ndarray, min_cases: int = 30) -> dict:
    """Precision/recall/F1 of ``Yhat`` against rule labels ``Y`` per pattern, and macro-F1
    over patterns with at least ``min_cases`` positive rule cases (the issue's gate)."""
    Y, Yhat = Y.astype(bool), Yhat.astype(bool)
    rows = []
    for k, p in enumerate(PATTERNS):
        y, yh = Y[:, k], Yhat[:, k]
        tp = int((y & yh).sum())
        fp = int((~y & yh).sum())
        fn = int((y & ~yh).sum())
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        rows.append({"pattern": p, "cases": int(y.sum()), "predicted": int(yh.sum()),
                     "precision": prec, "recall": rec, "f1": _f1(y, yh) if y.sum() else float("nan"),
                     "gated": bool(y.sum() >= min_cases)})
    gated = [r["f1"] for r in rows if r["gated"]]
    return {"patterns": rows, "macro_f1_gated": float(np.mean(gated)) if gated else float("nan"),
            "n_gated": len(gated), "min_cases": min_cases,
            "macro_f1_all": float(np.nanmean([r["f1"] for r in rows]))}


def train_cnn(epochs: int = 12, progress=None, seed: int = 0, mirror: bool = True
              ) -> tuple[PatternCNN, dict]:
    """Fit on TRAIN_SYMBOLS (optionally + mirrors), tune thresholds on VALID_SYMBOLS, score on
    TEST_SYMBOLS (never seen). Returns the model and the evaluation dict."""
    X, Y = dataset(TRAIN_SYMBOLS, mirror=mirror)
    Xv, Yv = dataset(VALID_SYMBOLS)
    model = PatternCNN(epochs=epochs, seed=seed).fit(
        X, Y, progress=(lambda f, m: progress(0.05 + 0.85 * f, m)) if progress else None,
        monitor=(Xv, Yv))
    model.tune_thresholds(Xv, Yv)
    Xt, Yt = dataset(TEST_SYMBOLS)
    ev = per_pattern_scores(Yt, model.predict(Xt))
    ev.update({"train_symbols": list(TRAIN_SYMBOLS), "valid_symbols": list(VALID_SYMBOLS),
               "test_symbols": list(TEST_SYMBOLS), "n_train_windows": int(len(X)),
               "n_test_windows": int(len(Xt)), "epochs": epochs, "mirror": mirror})
    return model, ev


def load_cnn(version: str | None = None) -> tuple[PatternCNN, str]:
    """The active (or given) registry version of the CNN and its version id.

    Raises NotTrainedError / ArtifactIntegrityError (from the registry)."""
    from core.registry import load_active, load_artifact

    art = load_artifact(FAMILY, version) if version else load_active(FAMILY)
    return PatternCNN.from_files(art.files), art.version


def cnn_probabilities(frame: pd.DataFrame, model: PatternCNN) -> pd.DataFrame:
    """CNN probabilities (float64, 15 columns) aligned to ``frame``; NaN for the first 19 bars."""
    X, idx = windows(frame)
    P = model.predict_proba(X)
    out = pd.DataFrame(np.nan, index=frame.index, columns=list(PATTERNS))
    out.loc[idx, :] = P
    return out
