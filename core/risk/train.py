"""Trainers of the risk families: ``risk-dqn`` (the DQN exposure agent, judged on held-out
symbols) and ``signal-quality`` (the random-forest meta-label scorer, judged walk-forward).
Each saves a new version through :mod:`core.registry` and returns its Artifact."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

from core.data import BUNDLED_SYMBOLS, load_ohlcv
from core.predictions import hash_inputs
from core.registry import save_artifact
from core.risk.dqn import (
    ACTIONS, FAMILY as DQN_FAMILY, FEATURES as DQN_FEATURES, HELDOUT_SYMBOLS, TEST_START,
    TRAIN_END, TRAIN_SYMBOLS, DQNAgent, DQNConfig,
)
from core.risk.evaluate import beats_vol_target, heldout_evaluation
from core.risk.signal_quality import (
    ATR_MULT, EXECUTE_THRESHOLD, FAMILY as SQ_FAMILY, FEATURES as SQ_FEATURES, HORIZON,
    R_MULT, RF_PARAMS, TRUSTED, SignalQualityScorer, panel, walk_forward,
)


def train_dqn(progress=None, config: DQNConfig | None = None, models_dir=None):
    """Trainer for family ``risk-dqn``: fit on TRAIN_SYMBOLS up to TRAIN_END, score on
    HELDOUT_SYMBOLS from TEST_START, save via :mod:`core.registry`. Returns the Artifact."""
    t0 = time.perf_counter()
    frames = {s: load_ohlcv(s, end=TRAIN_END).frame for s in TRAIN_SYMBOLS}
    agent = DQNAgent(config).fit(frames, progress=(lambda p, m: progress(0.9 * p, m))
                                 if progress else None)
    fit_s = time.perf_counter() - t0
    if progress:
        progress(0.92, "Scoring on held-out symbols")
    table = heldout_evaluation(agent)
    meta = {
        "kind": "dqn-exposure-policy", "features": list(DQN_FEATURES), "actions": list(ACTIONS),
        "train_symbols": list(TRAIN_SYMBOLS), "train_end": TRAIN_END,
        "heldout_symbols": list(HELDOUT_SYMBOLS), "test_start": TEST_START,
        "data_hash": {s: hash_inputs(f) for s, f in frames.items()},
        "params": asdict(agent.config), "train_seconds": round(fit_s, 1),
        "train_loss": agent.train_loss_,
        "heldout_metrics": json.loads(table.to_json(orient="records")),
        "beats_vol_target": beats_vol_target(table),
        "default_rule": "DQN is the default policy only if its mean held-out Sharpe and "
                        "Calmar both exceed volatility targeting (15%, cap 1x).",
    }
    art = save_artifact(DQN_FAMILY, agent.to_files(), meta, models_dir=models_dir)
    if progress:
        progress(1.0, f"Saved {DQN_FAMILY}/{art.version}")
    return art


def train_signal_quality(progress=None, models_dir=None):
    """Trainer for family ``signal-quality``: walk-forward evaluation on the six bundled
    symbols, then a final fit on all labelled bars; saved via :mod:`core.registry`."""
    t0 = time.perf_counter()
    frames = {s: load_ohlcv(s).frame for s in BUNDLED_SYMBOLS}
    data = panel(frames)
    wf = walk_forward(data, progress=(lambda p, m: progress(0.8 * p, m)) if progress else None)
    model = SignalQualityScorer().fit(data, data["y"])
    files = model.to_files()
    import skops.io as sio  # deferred: skops (and the torch it pulls in) is slow to import

    extra = set(sio.get_untrusted_types(data=files["model.skops"])) - set(TRUSTED)
    if extra:
        raise RuntimeError(f"skops reports types outside the trusted list: {sorted(extra)}")
    meta = {
        "kind": "random-forest-meta-label", "features": list(SQ_FEATURES),
        "threshold": EXECUTE_THRESHOLD, "horizon": HORIZON, "atr_multiple": ATR_MULT,
        "r_multiple": R_MULT, "base_rate": model.base_rate_, "rf_params": RF_PARAMS,
        "symbols": list(BUNDLED_SYMBOLS), "n_samples": int(len(data)),
        "data_hash": {s: hash_inputs(f) for s, f in frames.items()},
        "walk_forward": wf, "train_seconds": round(time.perf_counter() - t0, 1),
        "trusted_types": TRUSTED,
    }
    art = save_artifact(SQ_FAMILY, files, meta, models_dir=models_dir)
    if progress:
        progress(1.0, f"Saved {SQ_FAMILY}/{art.version}")
    return art
