"""A 1-D CNN that reads 20 bars of scale-free candle channels and scores the 15 rule patterns.

Input (:func:`bar_features`, :func:`windows`): per bar, 54 channels that make TA-Lib-style
rules scale-free: body, shadows and range in units of the mean high-low range / mean real
body of the 10 bars *before* that bar (TA-Lib's candle-setting averages), the rules' trend
strength, log volume vs its prior mean, and every open/high/low/close/body-top/body-bottom of
the bar minus those of the previous bar (gaps, engulfing, harami, tweezers) with their signs
(TA-Lib distinguishes ``>=`` from ``>``). Every channel of bar i uses bars <= i, so a window
ending at t uses bars <= t. An earlier version fed raw re-coded OHLCV (level, body, shadows in
one window-wide unit) and reached held-out macro-F1 0.51: the network had to rediscover
per-bar averages, ties and the trend from scratch and memorised instead.

Architecture (the issue's 3 conv blocks 32 -> 64 -> 128 channels): input BatchNorm, three
``Conv1d(k=3, same padding) -> BatchNorm1d -> ReLU`` blocks, ``MaxPool1d(2)`` after blocks 2
and 3, flatten, concatenated with the standardised channels of the last 5 bars (a skip into
the dense head), ``Linear -> ReLU -> Linear(128, 15)``, sigmoid per pattern (multi-label).
Loss ``BCEWithLogitsLoss`` with per-pattern ``pos_weight = clip(sqrt(neg/pos), 1, 30)``,
4x oversampling of windows with a rare pattern, AdamW + one-cycle learning rate, early
stopping on a validation split. The labels are the rule hits at bar t
(:func:`core.patterns.rules.detect`); the network is judged on symbols it never saw.

Augmentation (``mirror=True``, the default of :func:`train_cnn`): each training series is
also used *mirrored* (prices inverted, ``open' = 1/open, high' = 1/low, low' = 1/high,
close' = 1/close``), a valid OHLC series whose rule labels are recomputed (bullish and
bearish patterns swap roles). Persistence: ``state_dict`` through safetensors (no pickle)
via :mod:`core.registry`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, NotTrainedError
from core.patterns.rules import PATTERNS, detect

WINDOW = 20
FAMILY = "patterns-cnn"
TRAIN_SYMBOLS = ("AAPL", "MSFT", "GOOG", "^GSPC")
#: the last VALID_FRACTION of each training symbol's bars (after a WINDOW-bar gap) is the
#: validation split: early stopping and per-pattern thresholds. Never the test symbols.
VALID_FRACTION = 0.2
VALID_SYMBOLS = TRAIN_SYMBOLS
TEST_SYMBOLS = ("IBM", "^IXIC")
RARE_OVERSAMPLE = 4


CHANNELS: tuple[str, ...] = ()  # filled below


def _prior(x: np.ndarray, period: int, shift: int = 1) -> np.ndarray:
    """Mean of ``x`` over the ``period`` bars ending ``shift`` bars before each bar (NaN in
    warm-up)."""
    return pd.Series(x).rolling(period, min_periods=period).mean().shift(shift).to_numpy()


def _lag(x: np.ndarray, k: int = 1) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[:len(x) - k]
    return out


def bar_features(frame: pd.DataFrame) -> np.ndarray:
    """Scale-free per-bar channels, float32 (n_bars, len(CHANNELS)); bar ``i`` uses bars <= i.

    Units are TA-Lib's candle-setting averages of the bars *before* bar i: ``R10`` = mean
    high-low range of bars i-10..i-1, ``B10`` = mean real body of bars i-10..i-1, ``R5p`` =
    mean range of bars i-6..i-2 (the "Near"/"Equal" unit of the previous candle). Channels:
    signed and absolute body / R10, body / B10, upper and lower shadow / R10, shadow minus
    body / R10 (upper, lower), range / R10, close-to-close change / R10, the rules' trend
    ``(close[i]-close[i-5]) / mean range(i-9..i)``, log volume minus its 20-bar prior mean;
    then every open/high/low/close of bar i minus every open/high/low/close of bar i-1, the
    body top/bottom of bar i minus the body top/bottom of bar i-1 (engulfing, harami, gaps),
    close minus the previous body's midpoint, each / R5p, absolute high and low differences,
    and the sign (-1/0/+1) of the 20 bar-to-bar comparisons (ties matter to TA-Lib's
    inclusive/exclusive tests). NaN in the warm-up (first ~11 bars) is set to 0.
    """
    o, h, l, c = (frame[k].to_numpy("float64") for k in ("open", "high", "low", "close"))
    v = np.log1p(np.clip(frame["volume"].to_numpy("float64"), 0, None))
    rng, body = h - l, c - o
    top, bot = np.maximum(o, c), np.minimum(o, c)
    up, lo = h - top, bot - l
    with np.errstate(divide="ignore", invalid="ignore"):
        tiny = np.abs(c) * 1e-6 + 1e-12
        r10 = np.maximum(_prior(rng, 10), tiny)
        b10 = np.maximum(_prior(np.abs(body), 10), tiny)
        r5p = np.maximum(_prior(rng, 5, shift=2), tiny)
        rng10_incl = np.maximum(_prior(rng, 10, shift=0), tiny)
        cols = [body / r10, np.abs(body) / r10, np.clip(np.abs(body) / b10, 0, 10),
                up / r10, lo / r10, (up - np.abs(body)) / r10, (lo - np.abs(body)) / r10,
                rng / r10, (c - _lag(c)) / r10, (c - _lag(c, 5)) / rng10_incl,
                v - _prior(v, 20)]
        cur = {"o": o, "h": h, "l": l, "c": c, "t": top, "b": bot}
        prev = {k: _lag(x) for k, x in cur.items()}
        pairs = [(a, b) for a in "ohlc" for b in "ohlc"] + [("t", "t"), ("b", "b"),
                                                             ("b", "t"), ("t", "b")]
        diffs = [cur[a] - prev[b] for a, b in pairs]
        cols += [d / r5p for d in diffs]
        cols += [(c - (prev["o"] + prev["c"]) / 2) / r10,
                 np.abs(h - prev["h"]) / r5p, np.abs(l - prev["l"]) / r5p]
        cols += [np.sign(d) for d in diffs]
    F = np.stack(cols, axis=1)
    F = np.clip(np.nan_to_num(F, nan=0.0, posinf=0.0, neginf=0.0), -20, 20)
    return F.astype("float32")


CHANNELS = (("body", "abs_body", "body_vs_avg_body", "upper_shadow", "lower_shadow",
             "upper_minus_body", "lower_minus_body", "range", "close_change", "trend",
             "log_volume")
            + tuple(f"{a}-prev_{b}" for a, b in
                    [(a, b) for a in "ohlc" for b in "ohlc"] + [("t", "t"), ("b", "b"),
                                                                 ("b", "t"), ("t", "b")])
            + ("close-prev_mid", "abs_high-prev_high", "abs_low-prev_low")
            + tuple(f"sign_{a}-prev_{b}" for a, b in
                    [(a, b) for a in "ohlc" for b in "ohlc"] + [("t", "t"), ("b", "b"),
                                                                 ("b", "t"), ("t", "b")]))


def windows(frame: pd.DataFrame, window: int = WINDOW) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Windows of :func:`bar_features` ending at every bar from ``window-1`` on.

    Returns:
        ``X`` float32 array (n_windows, len(CHANNELS), window) and the timestamps of the
        windows' last bars. A window ending at bar t uses bars <= t only (the per-bar
        averages reach up to 11 bars before the window's first bar).
    Raises:
        InsufficientDataError: fewer than ``window`` bars.
    """
    n = len(frame)
    if n < window:
        raise InsufficientDataError(f"The pattern CNN needs at least {window} bars; got {n}.")
    from numpy.lib.stride_tricks import sliding_window_view

    F = bar_features(frame)  # (n, C)
    X = np.ascontiguousarray(sliding_window_view(F, window, axis=0))  # (n_w, C, window)
    return X.astype("float32"), frame.index[window - 1:]


def labels(frame: pd.DataFrame, window: int = WINDOW) -> np.ndarray:
    """Rule hits at the last bar of each window, float32 (n_windows, 15)."""
    return detect(frame).hits.to_numpy()[window - 1:].astype("float32")


def mirrored(frame: pd.DataFrame) -> pd.DataFrame:
    """Price-inverted copy (valid OHLC): used only to augment training data."""
    return pd.DataFrame({"open": 1 / frame["open"], "high": 1 / frame["low"],
                         "low": 1 / frame["high"], "close": 1 / frame["close"],
                         "volume": frame["volume"]}, index=frame.index)


LAST_BARS = 5  # bars fed straight to the dense head (every rule reads bars t-4..t)
#: thermometer levels for the continuous channels of the last bars: TA-Lib's candle-setting
#: factors (0.05 Equal, 0.1 BodyDoji/ShadowVeryShort, 0.2 Near, 0.3/0.5 body fractions,
#: 1 BodyLong/Short and the trend threshold, 2 ShadowVeryLong) and their negatives
THERMO_LEVELS = (-2.0, -1.0, -0.5, -0.3, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.3, 0.5,
                 1.0, 2.0)
N_CONTINUOUS = 34  # the first 34 CHANNELS are continuous, the last 20 are signs


def build_net(in_channels: int | None = None, thermometer: bool = True):
    """The torch module (uninitialised weights; seed torch before calling for reproducibility).

    ``in_channels`` defaults to ``len(CHANNELS)``. Input BatchNorm (per-channel
    standardisation) -> three conv blocks 32 -> 64 -> 128 (kernel 3, BatchNorm, ReLU; max-pool
    after blocks 2 and 3) -> flatten, concatenated with the last ``LAST_BARS`` bars of the
    input (a skip into the dense head: the pattern must end on the last bar), standardised,
    and with ``thermometer=True`` also as 0/1 indicators ``x > level`` of the continuous
    channels at ``THERMO_LEVELS`` (fixed, not learned) -> Linear 128 -> ReLU -> Linear 15
    (logits; sigmoid per pattern)."""
    import torch
    import torch.nn as nn

    c = in_channels or len(CHANNELS)

    def block(i, o):
        return [nn.Conv1d(i, o, 3, padding=1), nn.BatchNorm1d(o), nn.ReLU()]

    n_th = N_CONTINUOUS * len(THERMO_LEVELS) * LAST_BARS if thermometer else 0

    class PatternNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.in_norm = nn.BatchNorm1d(c)
            self.conv = nn.Sequential(*block(c, 32), *block(32, 64), nn.MaxPool1d(2),
                                      *block(64, 128), nn.MaxPool1d(2), nn.Flatten())
            if thermometer:
                self.register_buffer("thermo_levels",
                                     torch.tensor(THERMO_LEVELS, dtype=torch.float32))
            self.drop = nn.Dropout(0.1)  # on the head's input (no weights)
            self.head = nn.Sequential(
                nn.Linear(128 * (WINDOW // 4) + c * LAST_BARS + n_th, 128), nn.ReLU(),
                nn.Linear(128, len(PATTERNS)))

        def forward(self, x):
            z = self.in_norm(x)
            parts = [self.conv(z), z[:, :, -LAST_BARS:].flatten(1)]
            if thermometer:
                last = x[:, :N_CONTINUOUS, -LAST_BARS:, None]
                parts.append((last > self.thermo_levels).float().flatten(1))
            return self.head(self.drop(torch.cat(parts, 1)))

    return PatternNet()


class PatternCNN:
    """scikit-learn-style wrapper: ``fit(X, Y)``, ``predict_proba(X)``, thresholds per pattern.

    Args:
        epochs: passes over the training windows. batch_size: windows per step.
        lr: Adam learning rate. seed: torch/numpy seed. threads: torch CPU threads.

    Attributes (after fit/load):
        net_: the torch module (eval mode). thresholds_: float array (15,) of decision
            thresholds on the sigmoid (0.5 unless tuned on validation symbols).
    """

    def __init__(self, epochs: int = 30, batch_size: int = 128, lr: float = 3e-3,
                 weight_decay: float = 0.05, patience: int = 6, seed: int = 0, threads: int = 2):
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.seed = seed
        self.threads = threads

    def fit(self, X: np.ndarray, Y: np.ndarray, progress=None, monitor=None) -> "PatternCNN":
        """Train on windows X (n, C, 20) float32 and labels Y (n, 15) {0,1}. Returns self.

        AdamW with a one-cycle learning rate, BCE with per-pattern ``pos_weight``.
        ``monitor=(Xv, Yv)``: validation windows; after each epoch their macro-F1 (threshold
        0.5, patterns with >= 10 validation cases) is computed, the best epoch's weights are
        kept and training stops after ``patience`` epochs without improvement."""
        import copy

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
        net = build_net(X.shape[1])
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.lr, total_steps=self.epochs * (len(idx) // self.batch_size + 1))
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw, dtype=torch.float32))
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
        best, best_state, since, history = -1.0, None, 0, []
        self.thresholds_ = np.full(len(PATTERNS), 0.5)
        for ep in range(self.epochs):
            net.train()
            perm = rng.permutation(idx)
            tot = 0.0
            for b in range(0, len(perm), self.batch_size):
                j = torch.from_numpy(perm[b:b + self.batch_size])
                if len(j) < 2:
                    continue
                opt.zero_grad()
                loss = loss_fn(net(Xt[j]), Yt[j])
                loss.backward()
                opt.step()
                sched.step()
                tot += loss.item() * len(j)
            msg = f"epoch {ep + 1}/{self.epochs} loss {tot / len(perm):.4f}"
            net.eval()
            if monitor is not None:
                self.net_ = net
                sc = per_pattern_scores(monitor[1], self.predict(monitor[0]), min_cases=10)
                f1 = sc["macro_f1_gated"]
                history.append(round(f1, 4))
                msg += f" valid macro-F1 {f1:.3f}"
                if f1 > best:
                    best, best_state, since = f1, copy.deepcopy(net.state_dict()), 0
                    self.best_epoch_ = ep + 1
                else:
                    since += 1
            if progress:
                progress((ep + 1) / self.epochs, msg)
            if monitor is not None and since >= self.patience:
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        self.net_ = net
        self.pos_weight_ = pw
        self.valid_history_ = history
        self.final_loss_ = tot / max(len(perm), 1)
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
        sd = load(files["weights.safetensors"])
        net = build_net(int(sd["in_norm.weight"].shape[0]), thermometer="thermo_levels" in sd)
        net.load_state_dict(sd)
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


def dataset(symbols, mirror: bool = False, part: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """Windows and rule labels of bundled ``symbols`` (optionally + mirrored copies).

    ``part``: "all" every window; "train" windows ending before the last VALID_FRACTION of
    each symbol's bars minus a WINDOW-bar gap; "valid" windows ending in that last fraction.
    Features and labels are computed on the whole series (both causal), then split."""
    from core.data import load_ohlcv

    Xs, Ys = [], []
    for s in symbols:
        f = load_ohlcv(s).frame
        cut = int(len(f) * (1 - VALID_FRACTION))
        for g in ([f, mirrored(f)] if mirror else [f]):
            X, _ = windows(g)
            Y = labels(g)
            end = np.arange(WINDOW - 1, len(g))  # last bar of each window
            keep = {"all": np.ones(len(end), bool), "train": end < cut - WINDOW,
                    "valid": end >= cut}[part]
            Xs.append(X[keep])
            Ys.append(Y[keep])
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


def train_cnn(epochs: int = 14, progress=None, seed: int = 0, mirror: bool = True
              ) -> tuple[PatternCNN, dict]:
    """Fit on the first 80% of TRAIN_SYMBOLS (+ mirrored copies), early-stop and tune
    thresholds on their last 20% (validation split), score on TEST_SYMBOLS (never used for
    training, tuning or stopping). Returns the model and the evaluation dict."""
    X, Y = dataset(TRAIN_SYMBOLS, mirror=mirror, part="train")
    Xv, Yv = dataset(TRAIN_SYMBOLS, part="valid")
    model = PatternCNN(epochs=epochs, seed=seed).fit(
        X, Y, progress=(lambda f, m: progress(0.05 + 0.85 * f, m)) if progress else None,
        monitor=(Xv, Yv))
    model.tune_thresholds(Xv, Yv)
    valid = per_pattern_scores(Yv, model.predict(Xv), min_cases=10)
    Xt, Yt = dataset(TEST_SYMBOLS)
    ev = per_pattern_scores(Yt, model.predict(Xt))
    ev.update({"train_symbols": list(TRAIN_SYMBOLS),
               "validation": f"last {VALID_FRACTION:.0%} of each training symbol's bars",
               "valid_macro_f1": valid["macro_f1_gated"],
               "test_symbols": list(TEST_SYMBOLS), "n_train_windows": int(len(X)),
               "n_valid_windows": int(len(Xv)), "n_test_windows": int(len(Xt)),
               "epochs": epochs, "best_epoch": int(getattr(model, "best_epoch_", epochs)),
               "valid_history": model.valid_history_, "final_train_loss": model.final_loss_,
               "mirror": mirror, "channels": list(CHANNELS)})
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
