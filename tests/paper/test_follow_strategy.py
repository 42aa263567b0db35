"""A paper book that follows a strategy: on the replayed bundled history it takes the very
trades the strategy tester takes on the same bars (entry and exit bars, fill prices with
costs), a stop the tester fills inside a bar is left at the next open, sizing follows the
strategy's policy in whole units, a short strategy is refused by a book that does not short,
every book action is audited, and the CLI drives it."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from typer.testing import CliRunner

from core.cli import app as cli_app
from core.data import load_ohlcv
from core.errors import DataValidationError
from core.paper import desk, follow
from core.store import paper as store
from core.store import session_scope
from core.store.ops import audit_log
from core.strategy.backtest import StrategyState, backtest
from core.strategy.spec import parse_strategy
from tests.pg import both_backends
from tests.store.test_migrations_backends import migrate, new_database  # noqa: F401

pytestmark = both_backends

FAST = """
name = "fast RSI"
side = "long"
[entry]
signals = ["rsi"]
[exit]
signals = ["rsi"]
{stop}
max_hold = 8
[sizing]
{sizing}
[costs]
commission_bp = 1
spread_bp = 4
slippage_bp = 2
[signals.rsi]
period = 5
lower = 35
upper = 65
"""


def fast(stop: str = "", sizing: str = "fraction = 0.5"):
    return parse_strategy(FAST.format(stop=stop, sizing=sizing))


@pytest.fixture
def db():
    with session_scope() as s:
        yield s


@pytest.fixture(scope="module")
def md():
    return load_ohlcv("MSFT", "1d", source="bundled")


def _replay(db, md, spec, steps=None):
    store.reset_account("u", session=db, commission_bp=1, spread_bp=4, slippage_bp=2)
    first = follow.follow_strategy("u", md, spec, session=db)
    adv, decisions = follow.step("u", md, session=db, steps=steps)
    return first, adv, [first, *decisions]


def _fills(db):
    return [(o.side, o.fill_ts, o.fill_price, o.signal) for o in
            store.list_orders("u", session=db) if o.status == "filled"]


def test_the_book_takes_the_testers_trades_on_the_same_bars(db, md):
    spec = fast()
    first, adv, _ = _replay(db, md, spec)
    assert adv.at_end and adv.bars == desk.REPLAY_BARS
    start = md.frame.index.get_loc(first.bar_ts)
    bt = backtest(md.frame, spec, start=start)
    want = []
    for _, t in bt.trades.iterrows():
        if want and want[-1][1] == t["entry_time"]:  # renewed at the holding limit: the
            want.pop()                                # tester's round trip, the book holds
        else:
            want.append(("buy", t["entry_time"], t["entry_price"]))
        if t["exit_reason"] != "end":  # the tester's last trade may still be open
            want.append(("sell", t["exit_time"], t["exit_price"]))
    assert len(want) >= 8
    got = [(side, pd.Timestamp(ts), px) for side, ts, px, _ in _fills(db)]
    assert [(s, ts) for s, ts, _ in got] == [(s, ts) for s, ts, _ in want]
    assert [px for *_, px in got] == pytest.approx([px for *_, px in want], rel=1e-12)
    reasons = {o.signal.split(": ")[1].split()[0] for o in store.list_orders("u", session=db)}
    assert reasons <= {"entry", "signal", "max_hold"} and "entry" in reasons


def test_a_stop_inside_a_bar_is_left_at_the_next_open(db, md):
    spec = fast(stop="stop_atr = 0.7")
    first, _, _ = _replay(db, md, spec)
    start = md.frame.index.get_loc(first.bar_ts)
    bt = backtest(md.frame, spec, start=start)
    stops = bt.trades[bt.trades["exit_reason"] == "stop"]
    assert len(stops) >= 1
    sells = {pd.Timestamp(ts): sig for side, ts, _, sig in _fills(db) if side == "sell"}
    idx = md.frame.index
    t = stops.iloc[0]["exit_time"]
    nxt = idx[idx.get_loc(t) + 1]
    assert nxt in sells and "stop" in sells[nxt]
    assert t not in sells  # never inside the bar


def test_sizing_follows_the_policy_in_whole_units(db, md):
    spec = fast(sizing='policy = "vol_target"\nfraction = 1.0\ntarget_vol = 0.08')
    _, _, decisions = _replay(db, md, spec, steps=120)
    entries = [d for d in decisions if d.order is not None and d.order.side == "buy"]
    assert entries
    for d in entries:
        want = math.floor(d.state.fraction * _equity_before(db, d) / _close(md, d.bar_ts)
                          + 1e-9)
        assert d.order.quantity == want and d.order.quantity == int(d.order.quantity)
        assert d.state.fraction < 1.0  # the volatility target cut it


def _equity_before(db, d) -> float:
    marks = [m for m in store.list_marks("u", session=db) if pd.Timestamp(m.ts) == d.bar_ts]
    return marks[-1].equity


def _close(md, ts) -> float:
    return float(md.frame.loc[ts, "close"])


def test_target_units_for_each_policy():
    st = StrategyState(pd.Timestamp("2024-01-02", tz="UTC"), 0, 1, 0.5, 4.0, "entry", {})
    assert follow.target_units(st, fast(), equity=10_000, price=30) == 166  # 5000 / 30
    risk = fast(stop="stop_atr = 2.0",
                sizing='policy = "atr_risk"\nfraction = 1.0\nrisk_per_trade = 0.01')
    assert follow.target_units(st, risk, equity=10_000, price=30) == 25  # 100 / 4
    flat = StrategyState(st.ts, 1, 0, 0.0, math.nan, "signal", {})
    assert follow.target_units(flat, fast(), equity=10_000, price=30) == 0
    assert follow.target_units(st, fast(), equity=math.inf, price=30) == 0


def test_a_short_strategy_needs_a_book_that_shorts(db, md):
    store.reset_account("u", session=db)
    spec = parse_strategy(FAST.format(stop="", sizing="").replace('side = "long"',
                                                                  'side = "both"'))
    with pytest.raises(DataValidationError, match="does not go short"):
        follow.follow_strategy("u", md, spec, session=db)
    assert store.get_strategy("u", "MSFT", session=db) is None


def test_every_book_action_is_audited(db, md):
    store.reset_account("u", session=db)
    follow.follow_strategy("u", md, fast(), session=db)
    o = desk.place_order("u", md, "buy", 3, session=db)
    assert store.cancel_order("u", o.id, session=db)
    assert follow.unfollow("u", "MSFT", session=db)
    rows = [r for r in audit_log(session=db, limit=50) if r.who == "u"]
    actions = [r.action for r in reversed(rows)]
    assert actions == ["paper.reset", "paper.follow_strategy", "paper.order", "paper.cancel",
                       "paper.unfollow_strategy"]
    order_row = next(r for r in rows if r.action == "paper.order")
    assert order_row.target == "MSFT" and order_row.detail["quantity"] == 3
    assert order_row.detail["reason"] == "click"


def test_no_strategy_no_decision(db, md):
    store.reset_account("u", session=db)
    with pytest.raises(DataValidationError, match="follows no strategy"):
        follow.decide("u", md, session=db)
    assert not follow.unfollow("u", "MSFT", session=db)


runner = CliRunner()


def cli(*args):
    return runner.invoke(cli_app, ["paper", *args])


def test_cli_follows_a_strategy_file_through_the_replay(tmp_path):
    assert cli("reset").exit_code == 0
    r = cli("follow", "MSFT", "--strategy", "rsi_reversal", "--bundled", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["strategy"] == "RSI reversal" and out["bar"].startswith("2012-03-01")
    r = cli("mark", "--replay-steps", "250", "--bundled", "--json")
    assert r.exit_code == 0, r.output
    sym = json.loads(r.output)["symbols"][0]
    assert sym["bars"] == 250 and len(sym["decisions"]) == 250
    assert any(d["order"] is not None for d in sym["decisions"])
    st = json.loads(cli("status", "--json").output)
    assert st["strategies"] == [{"symbol": "MSFT", "interval": "1d", "strategy": "RSI reversal",
                                 "side": "long", "sizing": "fixed",
                                 "from_bar": out["bar"]}]
    assert "follows 'RSI reversal' on MSFT" in cli("status").output
    assert cli("unfollow", "MSFT").exit_code == 0
    r = cli("unfollow", "MSFT")
    assert r.exit_code == 2 and "follows no strategy" in r.output
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[entry]\nsignals = ["rsx"]\n')
    r = cli("follow", "MSFT", "--strategy", str(bad), "--bundled")
    assert r.exit_code == 2 and "unknown signal 'rsx'" in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)  # new_database: both
def test_migration_0006_up_and_down(new_database):  # noqa: F811
    engine = new_database
    migrate(engine, command.upgrade, "0005_paper_book")
    assert "paper_strategies" not in sa.inspect(engine).get_table_names()
    migrate(engine, command.upgrade, "0006_paper_strategies")
    assert "paper_strategies" in sa.inspect(engine).get_table_names()
    fks = {fk["referred_table"] for fk in sa.inspect(engine).get_foreign_keys("paper_strategies")}
    assert fks == {"paper_accounts"}
    migrate(engine, command.downgrade, "0005_paper_book")
    assert "paper_strategies" not in sa.inspect(engine).get_table_names()
    assert "paper_marks" in sa.inspect(engine).get_table_names()
