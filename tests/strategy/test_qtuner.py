"""The Q-learning strategy-parameter tuner (core.strategy.qtuner): strictly walk-forward,
deterministic with its seed, converging on a SYNTHETIC series with a planted best setting,
the same budget as the grid it is compared with, single-flight as a job, and its CLI JSON."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from core.cli import app
from core.errors import TrainingInProgressError
from core.strategy.backtest import backtest
from core.strategy.qtuner import (
    TUNING_FAMILY,
    ParamGrid,
    QSettings,
    WindowEnv,
    compare_methods,
    qlearning_tune,
    run_policy,
    run_tuning_job,
    train_agent,
    windows,
)
from core.strategy.spec import parse_strategy

ROOT = Path(__file__).resolve().parents[2]
MA = str(ROOT / "strategies" / "ma_cross.toml")
runner = CliRunner()

# A SYNTHETIC strategy for a SYNTHETIC series: buy when RSI(2) drops below 30, leave after
# max_hold bars; the [tune] grid moves max_hold.
PLANTED_SPEC = '''name = "SYNTHETIC planted regime"
side = "long"
[entry]
signals = ["rsi"]
[exit]
max_hold = 2
[signals.rsi]
period = 2
lower = 30
upper = 90
[tune]
"exit.max_hold" = [2, 4, 6, 8, 10]
'''
WINDOW = 40
SPLIT = 1000  # training bars of the synthetic series


def synthetic_planted(n: int = 1400, seed: int = 0) -> pd.DataFrame:
    """A SYNTHETIC series with a planted regime (test data only, never shown to users):
    4 bars down 2% then 4 bars up 2%, repeated, with small noise. RSI(2) falls below 30 on
    the second down bar, so a long filled at the next open gains most when it is held 6 bars
    (two more down bars, then the four up bars): max_hold = 6 is clearly the best setting."""
    rng = np.random.default_rng(seed)
    r = np.resize(np.array([-1, -1, -1, -1, 1, 1, 1, 1]) * 0.02, n) + rng.normal(0, 0.002, n)
    close = 100 * np.exp(np.cumsum(r))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.0005, n))
    idx = pd.bdate_range("2000-01-03", periods=n, tz="UTC", name="timestamp")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.002,
                         "low": np.minimum(open_, close) * 0.998, "close": close,
                         "volume": 1e4}, index=idx)


@pytest.fixture(scope="module")
def planted():
    return synthetic_planted(), parse_strategy(PLANTED_SPEC, where="planted")


def _alter_from(frame: pd.DataFrame, pos: int, seed: int = 7) -> pd.DataFrame:
    """Bars from row ``pos`` on replaced by a different (still valid) random walk."""
    f = frame.copy()
    rng = np.random.default_rng(seed)
    n = len(f) - pos
    scale = np.exp(np.cumsum(rng.normal(0.001, 0.03, n)))
    for c in ("open", "high", "low", "close"):
        f.iloc[pos:, f.columns.get_loc(c)] = f[c].to_numpy()[pos:] * scale
    f.iloc[pos:, f.columns.get_loc("high")] = f[["open", "high", "low", "close"]].iloc[pos:].max(1)
    f.iloc[pos:, f.columns.get_loc("low")] = f[["open", "high", "low", "close"]].iloc[pos:].min(1)
    return f


def _train(frame, spec, episodes=8, seed=0):
    grid = ParamGrid(spec)
    env = WindowEnv(frame, grid, "1d")
    wins = {"SYN": windows(0, SPLIT, WINDOW)}
    agent = train_agent({"SYN": env}, wins, grid, QSettings(window=WINDOW, seed=seed), episodes)
    return grid, env, agent


def test_agent_never_reads_bars_after_the_window_it_acts_on(planted):
    frame, spec = planted
    grid, env, agent = _train(frame, spec)
    # 1. never tuned on test bars: altering every bar from the split leaves the agent as is
    _, _, agent2 = _train(_alter_from(frame, SPLIT), spec)
    np.testing.assert_array_equal(agent.q, agent2.q)
    assert agent.trace == agent2.trace and agent.visited == agent2.visited
    # 2. walking forward on the test bars: altering bars from test window m on leaves the
    # configurations chosen for windows 0..m and the returns of windows 0..m-1 unchanged
    wins = windows(SPLIT, len(frame), WINDOW)
    m = 4
    base = run_policy(agent, env, wins, grid.default_index())
    altered = _alter_from(frame, wins[m][0])
    other = run_policy(agent, WindowEnv(altered, grid, "1d"), wins, grid.default_index())
    assert base.path[: m + 1] == other.path[: m + 1]
    cut = frame.index[wins[m][0]]
    pd.testing.assert_series_equal(base.equity[base.equity.index < cut],
                                   other.equity[other.equity.index < cut])
    assert not base.equity.equals(other.equity)  # the later bars did change something
    # 3. inside a training episode: altering training bars from window m on leaves the
    # first episode's decisions up to window m unchanged
    start = windows(0, SPLIT, WINDOW)[m][0]
    _, _, agent3 = _train(_alter_from(frame, start), spec, episodes=1)
    _, _, agent1 = _train(frame, spec, episodes=1)
    first = [(t["window"], t["from"], t["state"], t["action"]) for t in agent1.trace]
    again = [(t["window"], t["from"], t["state"], t["action"]) for t in agent3.trace]
    assert first[:m] == again[:m]  # step k (window k) is chosen from window k-1's state


def test_same_seed_same_agent_and_result(planted):
    frame, spec = planted
    kw = {"train_symbols": ["SYN"], "test_start": frame.index[SPLIT]}
    a = qlearning_tune({"SYN": frame}, spec, settings=QSettings(window=WINDOW, seed=3,
                                                                episodes=6), **kw)
    b = qlearning_tune({"SYN": frame}, spec, settings=QSettings(window=WINDOW, seed=3,
                                                                episodes=6), **kw)
    np.testing.assert_array_equal(a["_agent"].q, b["_agent"].q)
    assert a["_agent"].trace == b["_agent"].trace
    strip = ("_agent", "_test_returns")
    assert json.dumps({k: v for k, v in a.items() if k not in strip}, default=str) == \
        json.dumps({k: v for k, v in b.items() if k not in strip}, default=str)
    c = qlearning_tune({"SYN": frame}, spec, settings=QSettings(window=WINDOW, seed=4,
                                                                episodes=6), **kw)
    assert c["_agent"].trace != a["_agent"].trace  # the seed does drive the exploration


def test_converges_to_the_planted_best_setting_on_a_synthetic_series(planted):
    frame, spec = planted
    # the planted regime: max_hold = 6 is clearly the best setting on the training bars
    sharpe = {h: backtest(frame.iloc[:SPLIT], spec.with_params({"exit.max_hold": h}))
              .metrics["sharpe"] for h in (2, 4, 6, 8, 10)}
    assert max(sharpe, key=sharpe.get) == 6 and sharpe[6] > 2 + max(
        v for h, v in sharpe.items() if h != 6)
    res = qlearning_tune({"SYN": frame}, spec, train_symbols=["SYN"],
                         test_start=frame.index[SPLIT],
                         settings=QSettings(window=WINDOW, episodes=20))
    assert res["start_params"] == {"exit.max_hold": 2}  # the file's value
    assert res["final_params"] == {"exit.max_hold": 6}  # where the greedy policy settles
    path = [p["exit.max_hold"] for p in res["test"][0]["path"]]
    assert path[0] == 2 and path[-4:] == [6, 6, 6, 6], path  # on unseen bars too
    untuned = backtest(frame, spec, start=SPLIT).metrics["sharpe"]
    assert res["test"][0]["tuned"]["sharpe"] > untuned + 2


def test_grid_and_qlearning_get_the_same_budget(planted):
    frame, spec = planted
    frames = {"SYN": frame, "SYN2": synthetic_planted(seed=1)}
    kw = {"train_symbols": ["SYN", "SYN2"], "test_start": frame.index[SPLIT],
          "settings": QSettings(window=WINDOW)}
    full = compare_methods(frames, spec, **kw)
    b = full["budget"]
    assert b["configs"] == b["grid_configs"] == b["grid_size"] == 5
    assert full["grid"]["n_configs"] == 5 and b["qlearning_episodes"] == 5 * 2
    assert b["grid_bars"] == b["qlearning_bars"] == 5 * 2 * SPLIT
    assert b["qlearning_distinct_window_backtests"] <= 5 * 2 * len(windows(0, SPLIT, WINDOW))
    small = compare_methods(frames, spec, budget=3, **kw)
    b = small["budget"]
    assert small["grid"]["n_configs"] == 3 and b["qlearning_episodes"] == 3 * 2
    assert b["grid_bars"] == b["qlearning_bars"] == 3 * 2 * SPLIT
    methods = [c["method"] for c in small["comparison"]]
    assert methods == ["untuned", "grid", "qlearning", "buy_and_hold"]
    by = {c["method"]: c for c in small["comparison"]}
    assert by["untuned"]["configs_tried"] == 1 and by["untuned"]["pbo"] is None
    assert by["grid"]["configs_tried"] == 3 and by["grid"]["pbo"] is not None
    assert 0 <= by["qlearning"]["deflated_sharpe"] <= 1
    # on the planted regime the agent wins, and the verdict says so
    assert full["qlearning_beats"] in (True, False) and "Out of sample" in full["verdict"]


def test_second_concurrent_tune_is_refused_with_a_plain_message(private_models):
    from core.store import AuditLog, TrainingRun, session_scope

    started, release = threading.Event(), threading.Event()

    def slow(progress=None):
        started.set()
        if progress:
            progress(0.5, "halfway")
        assert release.wait(20)
        return {"strategy": "slow", "deflated_sharpe": 0.5}

    seen, box = [], {}
    t = threading.Thread(target=lambda: box.setdefault("res", run_tuning_job(
        slow, who="alice", progress=lambda f, m: seen.append((f, m)))))
    t.start()
    try:
        assert started.wait(20)
        with pytest.raises(TrainingInProgressError,
                           match=r"Cannot start tuning now: .*A tuning job started by alice"):
            run_tuning_job(lambda progress=None: {}, who="bob")
        r = runner.invoke(app, ["tune", "--strategy", MA, "--symbols", "MSFT", "--heldout",
                                "IBM", "--json"])
        assert r.exit_code == 2 and "A tuning job started by alice" in r.output, r.output
        assert "Traceback" not in r.output
    finally:
        release.set()
        t.join(20)
    res = box["res"]
    assert res["job"]["status"] == "COMPLETED" and res["job"]["family"] == TUNING_FAMILY
    assert (0.5, "halfway") in seen
    saved = private_models / TUNING_FAMILY / res["job"]["version"] / "result.json"
    assert json.loads(saved.read_text())["strategy"] == "slow"
    with session_scope() as s:
        runs = s.exec(select(TrainingRun)).all()
        assert [(r.family, r.who) for r in runs] == [(TUNING_FAMILY, "alice")]
        actions = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions[0] == "train_start" and actions[-1] == "train_complete"
    # a tuner's own error comes back as it is, and the run is recorded FAILED
    with pytest.raises(ValueError, match="no grid"):
        run_tuning_job(lambda progress=None: (_ for _ in ()).throw(ValueError("no grid")),
                       who="cli")


def test_cli_json_keys_for_each_method():
    base = ["tune", "--strategy", MA, "--symbols", "MSFT", "--heldout", "IBM", "--json"]
    r = runner.invoke(app, base)
    assert r.exit_code == 0, r.output
    g = json.loads(r.output)
    assert {"deflated_sharpe", "psr", "pbo", "n_configs", "best_params", "test", "summary",
            "verdict", "job"} <= set(g) and g["n_configs"] == 9
    r = runner.invoke(app, [*base, "--method", "qlearning", "--budget", "2"])
    assert r.exit_code == 0, r.output
    q = json.loads(r.output)
    assert q["method"] == "qlearning" and {"deflated_sharpe", "pbo", "n_configs", "train",
                                           "test", "verdict", "start_params"} <= set(q)
    assert q["train"]["episodes"] == 2 and "_agent" not in q
    r = runner.invoke(app, [*base, "--method", "both", "--budget", "2"])
    assert r.exit_code == 0, r.output
    b = json.loads(r.output)
    assert {"comparison", "verdict", "budget", "grid", "qlearning", "recommended",
            "qlearning_beats"} <= set(b)
    assert [c["method"] for c in b["comparison"]] == ["untuned", "grid", "qlearning",
                                                       "buy_and_hold"]
    assert all({"deflated_sharpe", "pbo", "test_sharpe", "test_sharpe_lo", "test_sharpe_hi"}
               <= set(c) for c in b["comparison"])
    assert b["budget"]["grid_bars"] == b["budget"]["qlearning_bars"]
    if not b["qlearning_beats"]:
        assert "Q-learning does not beat" in b["verdict"] and b["recommended"]["method"] == "grid"
    r = runner.invoke(app, [*base[:-1], "--method", "sideways"])
    assert r.exit_code == 2 and "--method must be one of" in r.output
