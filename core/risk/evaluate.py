"""Walk-forward evaluation of the sizing policies: every policy's exposures on the same bars,
the DQN judged on held-out symbols and period against volatility targeting (its baseline
with the same leverage cap) and fixed 100% exposure."""

from __future__ import annotations

import pandas as pd

from core.data import load_ohlcv
from core.errors import QuantdeskError
from core.risk import dqn
from core.risk.backtest import compare
from core.risk.dqn import HELDOUT_SYMBOLS, STATE_COLUMNS, TEST_START, DQNAgent
from core.risk.policies import fixed_exposure, vol_target_exposure
from core.risk.state import risk_state


def policy_exposures(frame: pd.DataFrame, agent: DQNAgent | None = None,
                     target_vol: float = 0.15) -> dict[str, pd.Series]:
    """Exposure series of every policy on ``frame`` (fixed, vol target cap 1 and 2, DQN)."""
    out = {"fixed": fixed_exposure(frame),
           "vol_target_cap1": vol_target_exposure(frame, target_vol, 1.0),
           "vol_target_cap2": vol_target_exposure(frame, target_vol, 2.0)}
    # score every policy from the DQN's warm-up on, so all share the same bars
    warm = risk_state(frame)[list(STATE_COLUMNS)].dropna().index
    if len(warm):
        for k in list(out):
            out[k] = out[k].where(out[k].index >= warm[0])
    if agent is not None:
        out["dqn"] = agent.exposure(frame)
    return out


def heldout_evaluation(agent: DQNAgent, symbols=HELDOUT_SYMBOLS, start=TEST_START,
                       cost_bp: float = 5.0) -> pd.DataFrame:
    """Policy metrics per held-out symbol, scored from ``start`` (rows symbol x policy)."""
    rows = []
    for sym in symbols:
        f = load_ohlcv(sym).frame
        table, _ = compare(f["close"], policy_exposures(f, agent), cost_bp,
                           start=pd.Timestamp(start, tz="UTC"))
        table.insert(0, "symbol", sym)
        rows.append(table.rename_axis("policy").reset_index())
    return pd.concat(rows, ignore_index=True)


def beats_vol_target(table: pd.DataFrame) -> bool:
    """The rule for making the DQN the default: on held-out symbols its mean Sharpe AND mean
    Calmar exceed those of volatility targeting with the same leverage cap (1x)."""
    m = table.groupby("policy")[["sharpe", "calmar"]].mean()
    return bool(m.loc["dqn", "sharpe"] > m.loc["vol_target_cap1", "sharpe"]
                and m.loc["dqn", "calmar"] > m.loc["vol_target_cap1", "calmar"])


def evaluate_policies(frame, target_vol: float = 0.15, cost_bp: float = 5.0,
                      models_dir=None) -> tuple[dict, list[str]]:
    """Per-policy metrics dict (JSON-ready) and notes for one symbol's frame."""
    notes: list[str] = []
    agent = None
    meta: dict = {}
    try:
        agent, meta = dqn.load_agent(models_dir)
    except QuantdeskError as err:
        notes.append(f"DQN policy skipped: {err}")
    table, _ = compare(frame["close"], policy_exposures(frame, agent, target_vol), cost_bp)
    policies = {p: {k: (None if v != v else float(v)) for k, v in row.items()}
                for p, row in table.iterrows()}
    if agent is not None:
        notes.append("DQN trained on " + ", ".join(meta.get("train_symbols", [])) +
                     f" up to {meta.get('train_end')}; judged on held-out "
                     + ", ".join(meta.get("heldout_symbols", [])) + " from "
                     f"{meta.get('test_start')}. It "
                     + ("beat" if meta.get("beats_vol_target") else "did NOT beat")
                     + " volatility targeting there, so the default policy is "
                     + ("the DQN." if meta.get("beats_vol_target") else "volatility targeting."))
    return policies, notes
