import numpy as np
import pandas as pd
import pytest

from core.errors import ArtifactIntegrityError, NotTrainedError
from core.registry import load_artifact, save_artifact
from core.risk.dqn import ACTIONS, DQNAgent, DQNConfig

TINY = DQNConfig(steps=150, n_envs=8, batch=32, episode_len=60, target_sync=50, seed=3)


@pytest.fixture(scope="module")
def frames(synth):
    """SYNTHETIC price paths (tests only)."""
    return {"SYN1": synth(500, seed=11), "SYN2": synth(500, seed=12)}


@pytest.fixture(scope="module")
def agent(frames):
    return DQNAgent(TINY).fit(frames)


def test_not_trained_raises(frames):
    with pytest.raises(NotTrainedError):
        DQNAgent().exposure(frames["SYN1"])


def test_saved_policy_reloads_and_acts_identically(agent, frames, tmp_path):
    art = save_artifact("risk-dqn", agent.to_files(), {"test": True}, models_dir=tmp_path)
    assert "q_net.safetensors" in art.files and not any(n.endswith(".pt") for n in art.files)
    again = DQNAgent.from_files(load_artifact("risk-dqn", models_dir=tmp_path).files)
    f = frames["SYN2"]
    a, b = agent.exposure(f), again.exposure(f)
    pd.testing.assert_series_equal(a, b)
    assert set(a.dropna().unique()) <= set(ACTIONS)
    states = np.random.default_rng(0).normal(size=(20, 6)).astype("float32")
    np.testing.assert_array_equal(agent.q_values(states), again.q_values(states))


def test_tampered_file_is_refused(agent, tmp_path):
    art = save_artifact("risk-dqn", agent.to_files(), {}, models_dir=tmp_path)
    p = art.path / "q_net.safetensors"
    data = bytearray(p.read_bytes())
    data[-1] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError):
        load_artifact("risk-dqn", models_dir=tmp_path)


def test_training_is_deterministic_and_causal(agent, frames):
    twin = DQNAgent(TINY).fit(frames)
    s = np.ones((3, 6), "float32")
    np.testing.assert_array_equal(agent.q_values(s), twin.q_values(s))
    f = frames["SYN1"]
    full, cut = agent.exposure(f), agent.exposure(f.iloc[:420])
    pd.testing.assert_series_equal(full.iloc[:420], cut)


def test_committed_artifact_loads_and_records_verdict():
    from core.risk.dqn import load_agent

    try:
        ag, meta = load_agent()
    except NotTrainedError:
        pytest.skip("no committed risk-dqn artifact")
    assert isinstance(meta["beats_vol_target"], bool)
    assert {r["symbol"] for r in meta["heldout_metrics"]} == set(meta["heldout_symbols"])
    assert not set(meta["train_symbols"]) & set(meta["heldout_symbols"])
