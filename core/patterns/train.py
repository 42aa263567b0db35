"""Trainers of the ``patterns-cnn`` and ``breakout`` families (:mod:`core.patterns.family`).

Each writes a new registry version with metrics and provenance in its metadata.
"""

from __future__ import annotations

import json

from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.family import Progress
from core.patterns import breakouts as bo, cnn as C
from core.patterns.breakout_model import BreakoutClassifier, pooled_dataset, score, walk_forward
from core.predictions import hash_inputs
from core.registry import save_artifact, sha256_bytes


def _data_hash(symbols) -> str:

    return sha256_bytes("".join(hash_inputs(load_ohlcv(s).frame) for s in symbols).encode())


def train_patterns(progress: Progress | None = None, epochs: int = 12, seed: int = 0):
    """Train the pattern CNN (CPU, 2 threads) and save it as family ``patterns-cnn``.

    Returns the :class:`core.registry.Artifact`; metadata holds the held-out evaluation.
    """
    if progress:
        progress(0.0, "building windows and rule labels")
    model, ev = C.train_cnn(epochs=epochs, progress=progress, seed=seed)
    meta = {"evaluation": ev, "params": {"window": C.WINDOW, "epochs": epochs, "seed": seed,
                                         "batch_size": model.batch_size, "lr": model.lr,
                                         "weight_decay": model.weight_decay,
                                         "patience": model.patience, "optimizer": "AdamW",
                                         "pos_weight": [float(x) for x in model.pos_weight_]},
            "patterns": list(C.PATTERNS), "input": f"20 bars x {len(C.CHANNELS)} scale-free channels "
            "(core.patterns.cnn.bar_features)", "channels": list(C.CHANNELS),
            "data_hash": _data_hash(C.TRAIN_SYMBOLS + C.TEST_SYMBOLS)}
    art = save_artifact(C.FAMILY, model.to_files(), meta)
    if progress:
        progress(1.0, f"saved {C.FAMILY}/{art.version}")
    return art


def train_breakout(progress: Progress | None = None, kind: str = "mlp_svm"):
    """Walk-forward evaluate, then fit the breakout classifier on all labelled breakouts of
    the bundled symbols; save it as family ``breakout`` with the out-of-sample predictions
    (``walkforward.json``, the track record) and the metrics (incl. the ``skill`` verdict)."""
    if progress:
        progress(0.0, "finding breakouts")
    data = pooled_dataset()
    sub = (lambda f, m: progress(0.05 + 0.8 * f, m)) if progress else None
    scored = walk_forward(data, kind, progress=sub)
    metrics = score(scored)
    lab = data[data["success"].notna()]
    model = BreakoutClassifier(kind).fit(lab, lab["success"])
    wf = [{"timestamp": ts.isoformat(), "symbol": r.symbol, "direction": int(r.direction),
           "level": float(r.level), "probability": float(r.p), "base_rate": float(r.p_base),
           "success": float(r.success)} for ts, r in scored.iterrows()]
    meta = {"metrics": metrics, "base_rate": float(lab["success"].mean()),
            "params": {"kind": kind, "k_target": bo.K_TARGET, "k_stop": bo.K_STOP,
                       "horizon": bo.HORIZON, "pivot_k": bo.PIVOT_K, "max_age": bo.MAX_AGE,
                       "atr_bars": bo.ATR_BARS},
            "features": list(bo.FEATURES), "n_train_events": int(len(lab)),
            "symbols": list(BUNDLED_SYMBOLS), "data_hash": _data_hash(BUNDLED_SYMBOLS),
            "success_rate_by_direction": {
                "up": float(lab.loc[lab.direction > 0, "success"].mean()),
                "down": float(lab.loc[lab.direction < 0, "success"].mean())}}
    files = {"model.skops": model.to_bytes(),
             "walkforward.json": json.dumps(wf).encode()}
    art = save_artifact("breakout", files, meta)
    if progress:
        progress(1.0, f"saved breakout/{art.version} (skill: {metrics['skill']})")
    return art
