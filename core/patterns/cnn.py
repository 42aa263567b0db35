"""A 1-D CNN that reads 20 bars of scale-free candle channels and scores the 15 rule patterns.

Input (:func:`bar_features`, :func:`windows`): per bar, 58 channels that make TA-Lib-style
rules scale-free: body, shadows and range in units of the mean high-low range / mean real
body of the 10 bars *before* that bar (TA-Lib's candle-setting averages), the rules' trend
strength, log volume vs its prior mean, and open/high/low/close/body-top/body-bottom of the
bar minus those of the previous bar (gaps, engulfing, harami, tweezers, the hammer's "near the
prior low") with their signs (TA-Lib distinguishes ``>=`` from ``>``). Every channel of bar i
uses bars <= i, so a window ending at t uses bars <= t.

Architecture (:func:`build_net`): the issue's 3 conv blocks (32 -> 64 -> 128 channels) over the
20 bars feed a dense head that also receives 0/1 indicators of the last 5 bars' continuous
channels at TA-Lib's factors; a *wide* linear layer maps the same indicators straight to the 15
logits (wide & deep, Cheng et al. 2016); sigmoid per pattern (multi-label). The rules are
sparse ANDs of such indicators, so training adds an L1 penalty on the wide layer and the
head's first layer; an auxiliary read-out of the hidden layer learns the pattern *geometry*
without trend context (3-4x more positive cases; training only, not saved). BCE with
per-pattern ``pos_weight``, 4x oversampling of windows with a rare pattern, AdamW + one-cycle
learning rate, early stopping on a validation split. The labels are the rule hits at bar t
(:func:`core.patterns.rules.detect`); the network is judged on symbols it never saw.

Augmentation (training only, real prices): each training series is also used re-sampled to 2-
and 3-day bars at every phase (:func:`resampled`) and *mirrored* (prices inverted, ``open' =
1/open, high' = 1/low, low' = 1/high, close' = 1/close``, a valid OHLC series); rule labels
are recomputed on every copy (bullish and bearish patterns swap roles in a mirror).
Persistence: ``state_dict`` through safetensors (no pickle) via :mod:`core.registry`; artifacts
trained on the older 54-channel input (no wide layer) still load (:meth:`PatternCNN.from_files`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import load_ohlcv
from core.errors import InsufficientDataError, NotTrainedError
from core.patterns.rules import PATTERNS, detect
from core.registry import load_artifact
from core.serving import load_active, parsed_model

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
        # appended later (older artifacts read the first 54 channels): body bottom vs the
        # previous low (TA-Lib's hammer "near the prior lows") and body top vs previous high
        extra = [cur["b"] - prev["l"], cur["t"] - prev["h"]]
        cols += [d / r5p for d in extra] + [np.sign(d) for d in extra]
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
                                                                 ("b", "t"), ("t", "b")])
            + ("b-prev_l", "t-prev_h", "sign_b-prev_l", "sign_t-prev_h"))


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


def labels(frame: pd.DataFrame, window: int = WINDOW, trend_context: bool = True) -> np.ndarray:
    """Rule hits at the last bar of each window, float32 (n_windows, 15); with
    ``trend_context=False`` the geometry alone (the auxiliary training target)."""
    return detect(frame, trend_context=trend_context).hits.to_numpy()[window - 1:].astype(
        "float32")


def resampled(frame: pd.DataFrame, k: int, phase: int = 0) -> pd.DataFrame:
    """The series as ``k``-bar candles starting at bar ``phase`` (open of the first bar, max
    high, min low, close of the last, summed volume; stamped at the last bar). Real prices on a
    coarser clock: used only to augment training data (2- and 3-day bars, every phase)."""
    g = frame.iloc[phase:]
    n = len(g) // k * k
    g = g.iloc[:n]
    grp = np.arange(n) // k
    return pd.DataFrame({"open": g["open"].to_numpy()[::k],
                         "high": g["high"].groupby(grp).max().to_numpy(),
                         "low": g["low"].groupby(grp).min().to_numpy(),
                         "close": g["close"].to_numpy()[k - 1::k],
                         "volume": g["volume"].groupby(grp).sum().to_numpy()},
                        index=g.index[k - 1::k])


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
#: indices of the continuous CHANNELS (the others are -1/0/+1 signs): the first 34, and the
#: two appended later (b-prev_l, t-prev_h)
CONTINUOUS = tuple(range(34)) + (54, 55)
#: L1 penalty (per unit of mean BCE) on the wide layer and on the head's first layer: the rules
#: are sparse ANDs of a few indicators; without it the net fits the training windows with
#: dense combinations that do not transfer (held-out macro-F1 0.67 -> 0.89, validation-chosen)
L1_WIDE = 1e-4
L1_HEAD = 1e-4
#: learning rate of the wide layer (the rest uses PatternCNN.lr)
WIDE_LR = 3e-2
#: weight of the auxiliary loss on the trend-free geometry labels (training only)
AUX_WEIGHT = 1.0
#: augmentation: real series re-sampled to k-day bars at every phase (k, phase)
RESAMPLE = ((2, 0), (2, 1), (3, 0), (3, 1), (3, 2))


def _continuous(in_channels: int) -> list[int]:
    return [i for i in CONTINUOUS if i < in_channels]


def build_net(in_channels: int | None = None, thermometer: bool = True, wide: bool = True,
              skip: bool = False):
    """The torch module (uninitialised weights; seed torch before calling for reproducibility).

    Wide & deep (Cheng et al. 2016, "Wide & Deep Learning for Recommender Systems"):

    * deep: input BatchNorm (per-channel standardisation) -> three conv blocks 32 -> 64 -> 128
      (kernel 3, BatchNorm, ReLU; max-pool after blocks 2 and 3) -> flatten, concatenated
      with the 0/1 indicators ``x > level`` of the continuous channels of the last
      ``LAST_BARS`` bars at ``THERMO_LEVELS`` (fixed, not learned; ``thermometer``) and, with
      ``skip``, the standardised last bars -> Linear 128 -> ReLU -> Linear 15;
    * wide (``wide``): a linear layer from the same 0/1 indicators to the 15 logits.

    Output: 15 logits (deep + wide), sigmoid per pattern. ``in_channels`` defaults to
    ``len(CHANNELS)``; the net reads the first ``in_channels`` channels of its input, so
    artifacts trained on fewer channels still load and run. ``forward_parts(x)`` returns
    ``(hidden, logits)`` (training uses the hidden layer for the auxiliary loss).
    Older artifacts: ``wide=False, skip=True`` (see :meth:`PatternCNN.from_files`)."""
    import torch  # deferred: torch is slow to import
    import torch.nn as nn  # deferred: torch is slow to import

    c = in_channels or len(CHANNELS)
    cont = _continuous(c)

    def block(i, o):
        return [nn.Conv1d(i, o, 3, padding=1), nn.BatchNorm1d(o), nn.ReLU()]

    n_th = len(cont) * len(THERMO_LEVELS) * LAST_BARS if thermometer else 0

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
                nn.Linear(128 * (WINDOW // 4) + (c * LAST_BARS if skip else 0) + n_th, 128),
                nn.ReLU(), nn.Linear(128, len(PATTERNS)))
            if wide:
                self.wide = nn.Linear(n_th, len(PATTERNS))

        def forward_parts(self, x):
            x = x[:, :c]
            z = self.in_norm(x)
            parts = [self.conv(z)]
            if skip:
                parts.append(z[:, :, -LAST_BARS:].flatten(1))
            if thermometer:
                last = x[:, cont, -LAST_BARS:, None]
                bits = (last > self.thermo_levels).float().flatten(1)
                parts.append(bits)
            hidden = self.head[1](self.head[0](self.drop(torch.cat(parts, 1))))
            logits = self.head[2](hidden)
            if wide:
                logits = logits + self.wide(bits)
            return hidden, logits

        def forward(self, x):
            return self.forward_parts(x)[1]

    return PatternNet()


class PatternCNN:
    """scikit-learn-style wrapper: ``fit(X, Y)``, ``predict_proba(X)``, thresholds per pattern.

    Args:
        epochs: passes over the training windows. batch_size: windows per step.
        lr: AdamW learning rate of the deep part (the wide layer uses ``WIDE_LR``).
        weight_decay: AdamW weight decay of the deep part. patience: early-stopping epochs.
        seed: torch/numpy seed. threads: torch CPU threads.

    Attributes (after fit/load):
        net_: the torch module (eval mode). thresholds_: float array (15,) of decision
            thresholds on the sigmoid (0.5 unless tuned on validation symbols).
    """
    def __init__(self, epochs: int = 12, batch_size: int = 128, lr: float = 3e-3,
                 weight_decay: float = 0.05, patience: int = 4, seed: int = 0, threads: int = 2):
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.seed = seed
        self.threads = threads

    def fit(self, X: np.ndarray, Y: np.ndarray, progress=None, monitor=None,
            aux: np.ndarray | None = None) -> "PatternCNN":
        """Train on windows X (n, C, 20) float32 and labels Y (n, 15) {0,1}. Returns self.

        Loss: BCE with per-pattern ``pos_weight`` + ``L1_WIDE``/``L1_HEAD`` x the L1 norms of
        the wide layer and the head's first layer, and with ``aux`` (n, 15) {0,1} (the rules'
        geometry without trend context) ``AUX_WEIGHT`` x a BCE of an auxiliary linear read-out
        of the hidden layer (training only: it is not part of the saved net). AdamW with a
        one-cycle learning rate. ``monitor=(Xv, Yv)``: validation windows; after each epoch
        their macro-F1 (threshold 0.5, patterns with >= 10 validation cases) is computed, the
        best epoch's weights are kept and training stops after ``patience`` epochs without
        improvement."""
        import copy

        import torch  # deferred: torch is slow to import

        torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)

        def pos_weight(T):
            pos = T.sum(axis=0)
            return np.clip(np.sqrt((len(T) - pos) / np.maximum(pos, 1)), 1, 30)

        pw = pos_weight(Y)
        rare = np.flatnonzero(Y.sum(axis=0) < 0.01 * len(Y))
        idx = np.arange(len(Y))
        if len(rare):
            has_rare = np.flatnonzero(Y[:, rare].any(axis=1))
            idx = np.concatenate([idx] + [has_rare] * (RARE_OVERSAMPLE - 1))
        net = build_net(X.shape[1])
        aux_head = torch.nn.Linear(128, len(PATTERNS))
        groups = [{"params": [p for n, p in net.named_parameters() if not n.startswith("wide.")]
                   + list(aux_head.parameters()), "lr": self.lr,
                   "weight_decay": self.weight_decay},
                  {"params": list(net.wide.parameters()), "lr": WIDE_LR, "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=[g["lr"] for g in groups],
            total_steps=self.epochs * (len(idx) // self.batch_size + 1))
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw, dtype=torch.float32))
        aux_fn = (torch.nn.BCEWithLogitsLoss(
            pos_weight=torch.tensor(pos_weight(aux), dtype=torch.float32))
            if aux is not None else None)
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
        At = torch.from_numpy(aux) if aux is not None else None
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
                hidden, logits = net.forward_parts(Xt[j])
                loss = (loss_fn(logits, Yt[j]) + L1_WIDE * net.wide.weight.abs().sum()
                        + L1_HEAD * net.head[0].weight.abs().sum())
                if aux_fn is not None:
                    loss = loss + AUX_WEIGHT * aux_fn(aux_head(hidden), At[j])
                opt.zero_grad()
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
        import torch  # deferred: torch is slow to import

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
        c = int(sd["in_norm.weight"].shape[0])
        thermo = "thermo_levels" in sd
        n_th = len(_continuous(c)) * len(THERMO_LEVELS) * LAST_BARS if thermo else 0
        skip = int(sd["head.0.weight"].shape[1]) == 128 * (WINDOW // 4) + c * LAST_BARS + n_th
        net = build_net(c, thermometer=thermo, wide="wide.weight" in sd, skip=skip)
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


def dataset(symbols, mirror: bool = False, part: str = "all", resample: bool = False,
            aux: bool = False):
    """Windows and rule labels of bundled ``symbols``: ``(X, Y)``, or ``(X, Y, A)`` with
    ``aux`` (A = geometry labels without trend context).

    ``part``: "all" every window; "train" windows ending before the last VALID_FRACTION of
    each symbol's bars minus a WINDOW-bar gap; "valid" windows ending in that last fraction.
    ``resample`` adds the :data:`RESAMPLE` k-day versions of each series and ``mirror`` the
    mirrored copy of every series (training augmentation; the split is by timestamp, so a
    resampled window never reaches into the validation period). Features and labels are
    computed on each whole series (both causal), then split."""
    Xs, Ys, As = [], [], []
    for s in symbols:
        f = load_ohlcv(s).frame
        cut = int(len(f) * (1 - VALID_FRACTION))
        train_end, valid_start = f.index[cut - WINDOW], f.index[cut]
        series = [f] + ([resampled(f, k, ph) for k, ph in RESAMPLE] if resample else [])
        for base in series:
            for g in ([base, mirrored(base)] if mirror else [base]):
                X, idx = windows(g)
                keep = {"all": np.ones(len(idx), bool), "train": idx < train_end,
                        "valid": idx >= valid_start}[part]
                Xs.append(X[keep])
                Ys.append(labels(g)[keep])
                if aux:
                    As.append(labels(g, trend_context=False)[keep])
    out = (np.concatenate(Xs), np.concatenate(Ys))
    return out + (np.concatenate(As),) if aux else out


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


def train_cnn(epochs: int = 12, progress=None, seed: int = 0, mirror: bool = True,
              resample: bool = True) -> tuple[PatternCNN, dict]:
    """Fit on the first 80% of TRAIN_SYMBOLS (+ 2-/3-day resampled and mirrored copies),
    early-stop and tune thresholds on their last 20% (daily bars; validation split), score on
    TEST_SYMBOLS (never used for training, tuning or stopping). Returns the model and the
    evaluation dict."""
    X, Y, A = dataset(TRAIN_SYMBOLS, mirror=mirror, part="train", resample=resample, aux=True)
    Xv, Yv = dataset(TRAIN_SYMBOLS, part="valid")
    model = PatternCNN(epochs=epochs, seed=seed).fit(
        X, Y, progress=(lambda f, m: progress(0.05 + 0.85 * f, m)) if progress else None,
        monitor=(Xv, Yv), aux=A)
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
               "mirror": mirror, "resample": [list(r) for r in RESAMPLE] if resample else [],
               "l1": {"wide": L1_WIDE, "head": L1_HEAD}, "aux_weight": AUX_WEIGHT,
               "channels": list(CHANNELS)})
    return model, ev


def load_cnn(version: str | None = None) -> tuple[PatternCNN, str]:
    """The active (or given) registry version of the CNN and its version id.

    Raises NotTrainedError / ArtifactIntegrityError (from the registry)."""
    art = load_artifact(FAMILY, version) if version else load_active(FAMILY)
    return parsed_model(art, "cnn", lambda a: PatternCNN.from_files(a.files)), art.version


def cnn_probabilities(frame: pd.DataFrame, model: PatternCNN) -> pd.DataFrame:
    """CNN probabilities (float64, 15 columns) aligned to ``frame``; NaN for the first 19 bars."""
    X, idx = windows(frame)
    P = model.predict_proba(X)
    out = pd.DataFrame(np.nan, index=frame.index, columns=list(PATTERNS))
    out.loc[idx, :] = P
    return out
