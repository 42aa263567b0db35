"""DQN exposure agent (Mnih et al. 2015, "Human-level control through deep reinforcement
learning", Nature 518): a small MLP Q-network, experience replay and a target network.

Problem: at each bar t the agent picks an exposure bucket a in {0, 0.25, 0.5, 0.75, 1}
(fraction of equity held long) from the state (``core.risk.state.STATE_COLUMNS`` + its
previous exposure). Reward, in percent units, is a mean-variance utility of the net return
of the next bar: ``x = 100 * (a * r[t+1] - cost * |a - a_prev|)``, ``reward = x - kappa/2 * x^2``
(risk aversion ``kappa``). Market states are exogenous, so many episodes (252 bars from random
start bars of the training symbols) run in parallel as vectorised environments.

Persistence: ``state_dict`` as safetensors + ``config.json`` (no pickle), through
:mod:`core.registry` family ``risk-dqn``. Torch is imported lazily.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.errors import InsufficientDataError, NotTrainedError
from core.risk.state import STATE_COLUMNS, WARMUP, risk_state
from core.serving import load_active

FAMILY = "risk-dqn"
ACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)
FEATURES = tuple(STATE_COLUMNS) + ("prev_exposure",)
SCALE = {"log_vol": 1.0, "vol_regime": 1.0, "drawdown": 2.0, "mom_5": 0.5, "mom_20": 0.5,
         "prev_exposure": 1.0}


@dataclass
class DQNConfig:
    """Hyper-parameters (defaults: the committed artifact). steps: environment steps, each
    with ``n_envs`` parallel transitions and one gradient step on a ``batch`` sample."""
    hidden: int = 32
    gamma: float = 0.5
    lr: float = 1e-3
    batch: int = 256
    buffer: int = 200_000
    steps: int = 6000
    n_envs: int = 64
    episode_len: int = 252
    eps_start: float = 1.0
    eps_end: float = 0.05
    eps_decay_frac: float = 0.6
    target_sync: int = 250
    cost_bp: float = 5.0
    kappa: float = 0.03
    seed: int = 7


def _build_net(n_in: int, hidden: int, n_out: int):
    import torch.nn as nn  # deferred: torch is slow to import

    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, n_out))


def market_matrix(frame: pd.DataFrame, interval: str = "1d") -> tuple[np.ndarray, np.ndarray,
                                                                       pd.DatetimeIndex]:
    """Scaled market features (bars x 5, float32), next-bar simple returns and their index.

    Row t holds the state at bar t and ``r[t+1]`` (NaN on the last bar). Rows in the warm-up
    (NaN state) are dropped.
    """
    st = risk_state(frame, interval)
    X = np.column_stack([st[c].to_numpy() * SCALE[c] for c in STATE_COLUMNS]).astype("float32")
    r_next = frame["close"].astype("float64").pct_change().shift(-1).to_numpy()
    ok = np.isfinite(X).all(axis=1)
    return X[ok], r_next[ok], frame.index[ok]


class DQNAgent:
    """Exposure agent. scikit-learn style: ``fit`` returns self; ``q_net_`` is learned;
    ``exposure`` before ``fit``/``load`` raises :class:`NotTrainedError`."""
    def __init__(self, config: DQNConfig | None = None):
        self.config = config or DQNConfig()

    # ---- training -------------------------------------------------------------------------
    def fit(self, frames: dict[str, pd.DataFrame], progress=None) -> "DQNAgent":
        """Train on ``frames`` (symbol -> OHLCV, each longer than warm-up + 1 episode).

        Deterministic for a given config/seed on CPU (single thread).
        """
        import torch  # deferred: torch is slow to import

        cfg = self.config
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        prev_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            data = []
            for sym, f in frames.items():
                X, rn, _ = market_matrix(f)
                X, rn = X[:-1], np.nan_to_num(rn[:-1])
                if len(X) > cfg.episode_len + 1:
                    data.append((X, rn))
            if not data:
                raise InsufficientDataError("DQN training needs at least one symbol with more "
                                            f"than {WARMUP + cfg.episode_len} bars.")
            lens = np.array([len(X) for X, _ in data], dtype=float)
            probs = lens / lens.sum()
            n_in, n_a = len(FEATURES), len(ACTIONS)
            acts = np.asarray(ACTIONS, dtype="float32")
            q = _build_net(n_in, cfg.hidden, n_a)
            tgt = _build_net(n_in, cfg.hidden, n_a)
            tgt.load_state_dict(q.state_dict())
            opt = torch.optim.Adam(q.parameters(), lr=cfg.lr)
            cap = cfg.buffer
            bs = np.zeros((cap, n_in), "float32")
            ba = np.zeros(cap, "int64")
            br = np.zeros(cap, "float32")
            bs2 = np.zeros((cap, n_in), "float32")
            size = ptr = 0
            cost = cfg.cost_bp / 1e4

            def reset(k):
                d = rng.choice(len(data), size=k, p=probs)
                t = np.array([rng.integers(0, len(data[i][0]) - cfg.episode_len) for i in d])
                a0 = rng.integers(0, n_a, size=k)
                return d, t, np.zeros(k, int), a0

            env_d, env_t, env_age, env_prev = reset(cfg.n_envs)
            losses = []
            for step in range(cfg.steps):
                frac = min(step / (cfg.eps_decay_frac * cfg.steps), 1.0)
                eps = cfg.eps_start + (cfg.eps_end - cfg.eps_start) * frac
                mkt = np.stack([data[d][0][t] for d, t in zip(env_d, env_t)])
                s = np.column_stack([mkt, acts[env_prev]])
                with torch.no_grad():
                    greedy = q(torch.from_numpy(s)).argmax(1).numpy()
                rand = rng.random(cfg.n_envs) < eps
                a = np.where(rand, rng.integers(0, n_a, cfg.n_envs), greedy)
                ret = np.array([data[d][1][t] for d, t in zip(env_d, env_t)])
                x = 100 * (acts[a] * ret - cost * np.abs(acts[a] - acts[env_prev]))
                rew = x - cfg.kappa / 2 * x ** 2
                mkt2 = np.stack([data[d][0][t + 1] for d, t in zip(env_d, env_t)])
                s2 = np.column_stack([mkt2, acts[a]])
                idx = (ptr + np.arange(cfg.n_envs)) % cap
                bs[idx], ba[idx], br[idx], bs2[idx] = s, a, rew, s2
                ptr = (ptr + cfg.n_envs) % cap
                size = min(size + cfg.n_envs, cap)
                env_t, env_age, env_prev = env_t + 1, env_age + 1, a
                done = env_age >= cfg.episode_len
                if done.any():
                    d, t, ag, p0 = reset(int(done.sum()))
                    env_d[done], env_t[done], env_age[done], env_prev[done] = d, t, ag, p0
                # learn (episodes are truncations of an endless task: bootstrap always)
                j = rng.integers(0, size, cfg.batch)
                S, A = torch.from_numpy(bs[j]), torch.from_numpy(ba[j])
                R, S2 = torch.from_numpy(br[j]), torch.from_numpy(bs2[j])
                with torch.no_grad():
                    y = R + cfg.gamma * tgt(S2).max(1).values
                qa = q(S).gather(1, A[:, None]).squeeze(1)
                loss = torch.nn.functional.smooth_l1_loss(qa, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
                if (step + 1) % cfg.target_sync == 0:
                    tgt.load_state_dict(q.state_dict())
                if progress and (step + 1) % max(cfg.steps // 20, 1) == 0:
                    progress((step + 1) / cfg.steps, f"DQN step {step + 1}/{cfg.steps}")
            self.q_net_ = q.eval()
            self.train_loss_ = float(np.mean(losses[-500:]))
        finally:
            torch.set_num_threads(prev_threads)
        return self

    # ---- acting ---------------------------------------------------------------------------
    def _check(self):
        if not hasattr(self, "q_net_"):
            raise NotTrainedError("The DQN agent is not trained. Run `quantdesk train risk`.")

    def q_values(self, states: np.ndarray) -> np.ndarray:
        """Q-values (n x 5, float32) for scaled states (n x 6, ``FEATURES`` order)."""
        import torch  # deferred: torch is slow to import

        self._check()
        with torch.no_grad():
            return self.q_net_(torch.from_numpy(np.asarray(states, "float32"))).numpy()

    def exposure(self, frame: pd.DataFrame, interval: str = "1d") -> pd.Series:
        """Greedy exposure [fraction of equity] at every bar (NaN in the warm-up), rolled
        forward bar by bar because the previous exposure is part of the state."""
        self._check()
        X, _, idx = market_matrix(frame, interval)
        out = pd.Series(np.nan, index=frame.index, name="dqn")
        if len(X) == 0:
            return out
        n, n_a = len(X), len(ACTIONS)
        acts = np.asarray(ACTIONS, "float32")
        S = np.concatenate([np.repeat(X, n_a, axis=0), np.tile(acts, n)[:, None]], axis=1)
        Q = self.q_values(S).reshape(n, n_a, n_a)  # [bar, prev action, action]
        best = Q.argmax(axis=2)
        prev = 0
        chosen = np.empty(n, int)
        for i in range(n):
            prev = best[i, prev]
            chosen[i] = prev
        out.loc[idx] = acts[chosen]
        return out

    # ---- persistence ----------------------------------------------------------------------
    def to_files(self) -> dict[str, bytes]:
        """``q_net.safetensors`` (state_dict) and ``config.json``."""
        from safetensors.torch import save

        self._check()
        cfg = {"config": asdict(self.config), "features": list(FEATURES),
               "actions": list(ACTIONS), "scale": SCALE}
        return {"q_net.safetensors": save({k: v.contiguous() for k, v in
                                           self.q_net_.state_dict().items()}),
                "config.json": json.dumps(cfg, indent=2).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> "DQNAgent":
        """Rebuild from :meth:`to_files` bytes (sha256 already checked by the registry)."""
        from safetensors.torch import load

        meta = json.loads(files["config.json"].decode())
        if tuple(meta["features"]) != FEATURES or tuple(meta["actions"]) != ACTIONS:
            raise NotTrainedError("The saved DQN uses other state features; retrain it with "
                                  "`quantdesk train risk`.")
        agent = cls(DQNConfig(**meta["config"]))
        net = _build_net(len(FEATURES), agent.config.hidden, len(ACTIONS))
        net.load_state_dict(load(files["q_net.safetensors"]))
        agent.q_net_ = net.eval()
        return agent


# ---- the training protocol (held-out symbols and period) ----------------------------------
TRAIN_SYMBOLS = ("AAPL", "MSFT", "^GSPC")
HELDOUT_SYMBOLS = ("IBM", "GOOG", "^IXIC")
TRAIN_END = "2007-12-31"      # training bars end here; held-out scoring starts 2008-01-01
TEST_START = "2008-01-01"


def load_agent(models_dir=None) -> tuple[DQNAgent, dict]:
    """The active DQN agent and its metadata. Raises NotTrainedError/ArtifactIntegrityError."""
    art = load_active(FAMILY, models_dir=models_dir)
    return DQNAgent.from_files(art.files), art.metadata
