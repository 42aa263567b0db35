"""Risk benchmarks: sizing, portfolio risk, policy backtest and DQN inference on bundled data.

Issue 7 sets no latency targets; the page budget used here is 1 s per interactive panel.
"""

from __future__ import annotations

import pandas as pd

from benchmarks.timing import median_ms, report


def run() -> None:
    from core.data import load_ohlcv
    from core.risk.backtest import compare
    from core.risk.dqn import load_agent
    from core.risk.evaluate import policy_exposures
    from core.risk.portfolio import aligned_returns, portfolio_risk
    from core.risk.sizing import RiskParameters, size_position

    f = load_ohlcv("MSFT").frame
    p = RiskParameters(equity=100_000, risk_pct=1.0)
    report("size_position MSFT (3270 bars, Kelly from history)",
           median_ms(lambda: size_position(f, p, "MSFT"), repeat=10), 1000)
    closes = {s: load_ohlcv(s).frame["close"] for s in ("IBM", "GOOG", "MSFT", "^GSPC")}
    R = aligned_returns(closes)
    w = pd.Series({"IBM": 0.3, "GOOG": 0.2, "MSFT": 0.2, "^GSPC": 0.3})
    report("portfolio_risk 4 positions x 500 bars", median_ms(lambda: portfolio_risk(R, w)),
           1000)
    agent, _ = load_agent()
    report("DQN exposure over MSFT history", median_ms(lambda: agent.exposure(f), repeat=5),
           1000)
    report("policy backtest MSFT (4 policies)",
           median_ms(lambda: compare(f["close"], policy_exposures(f, agent)), repeat=5), 1000)
