"""The paper book: a replayed week against a hand computation (fills at the next bar's open
with costs, a long then a sell, marks at the closes), no same-bar fill (no lookahead),
shorts and reversals, signal orders linked to the logged prediction that caused them, the
store round trip and the migration on SQLite and PostgreSQL, and the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from typer.testing import CliRunner

from core.cli import app as cli_app
from core.data import MarketData
from core.errors import DataValidationError
from core.panel.signals import Signal
from core.panel.symbol import SymbolPanel
from core.paper import book as bk
from core.paper import desk
from core.predictions import Prediction
from core.store import paper as store
from core.store import session_scope
from core.store.tables import PredictionRow
from core.strategy.spec import Costs
from tests.pg import both_backends
from tests.store.test_migrations_backends import migrate, new_database  # noqa: F401

pytestmark = both_backends

# One hand-made week (Mon 2024-01-08 .. Fri 2024-01-12), round prices.
WEEK = pd.DataFrame(
    {"open": [100.0, 102.0, 101.0, 105.0, 104.0],
     "high": [102.0, 104.0, 105.0, 106.0, 107.0],
     "low": [99.0, 101.0, 100.0, 102.0, 103.0],
     "close": [101.0, 103.0, 102.0, 103.0, 106.0],
     "volume": [1e6] * 5},
    index=pd.DatetimeIndex(pd.bdate_range("2024-01-08", periods=5, tz="UTC"), name="timestamp"))
MON, TUE, WED, THU, FRI = WEEK.index
# commission 10 bp; half of a 20 bp spread + 5 bp slippage = 15 bp price concession
COSTS = Costs(commission_bp=10.0, spread_bp=20.0, slippage_bp=5.0)

# --- the hand computation -------------------------------------------------------------
# buy 100 placed at Mon's close -> fills at Tue's open 102 * 1.0015 = 102.153
#   commission 0.001 * 100 * 102.153 = 10.2153; cash 100000 - 10215.3 - 10.2153
BUY_PX, BUY_FEE = 102.153, 10.2153
CASH_LONG = 100_000 - 10_215.3 - 10.2153                      # 89_774.4847
# marks: Mon 100000 (flat); Tue 89774.4847 + 100 * 103; Wed + 100 * 102
EQ_TUE, EQ_WED = CASH_LONG + 10_300, CASH_LONG + 10_200        # 100074.4847, 99974.4847
# sell 100 placed at Wed's close -> fills at Thu's open 105 * 0.9985 = 104.8425
#   commission 10.48425; realised = 100 * (104.8425 - 102.153) - 10.2153 - 10.48425
SELL_PX, SELL_FEE = 104.8425, 10.48425
REALISED = 100 * (104.8425 - 102.153) - 10.2153 - 10.48425    # 248.25045
CASH_END = CASH_LONG + 10_484.25 - 10.48425                   # 100248.25045
EQUITY = [100_000.0, EQ_TUE, EQ_WED, CASH_END, CASH_END]
DD_WED = EQ_WED / EQ_TUE - 1                                  # -0.000999...


def week_orders():
    return [bk.Order("MSFT", "buy", 100, MON, id=1), bk.Order("MSFT", "sell", 100, WED, id=2)]


@pytest.fixture
def db():
    with session_scope() as s:
        yield s


def test_replayed_week_matches_the_hand_computation():
    book, fills, marks = bk.replay(bk.Book(100_000.0, 100_000.0), "MSFT", WEEK, week_orders(),
                                   COSTS)
    assert [(f.order_id, f.ts, f.open) for f in fills] == [(1, TUE, 102.0), (2, THU, 105.0)]
    assert fills[0].price == pytest.approx(BUY_PX) and fills[0].commission == pytest.approx(BUY_FEE)
    assert fills[1].price == pytest.approx(SELL_PX) and fills[1].commission == pytest.approx(SELL_FEE)
    assert [m.ts for m in marks] == list(WEEK.index)
    assert [m.equity for m in marks] == pytest.approx(EQUITY)
    # Tue: unrealised 100 * (103 - 102.153) = 84.7, realised = -commission
    assert marks[1].unrealised == pytest.approx(84.7)
    assert marks[1].realised == pytest.approx(-BUY_FEE)
    assert marks[1].gross == pytest.approx(10_300) and marks[1].net == pytest.approx(10_300)
    assert marks[-1].realised == pytest.approx(REALISED) and marks[-1].unrealised == 0
    assert book.cash == pytest.approx(CASH_END) and book.position("MSFT").quantity == 0
    for m in marks:  # equity = initial + realised + unrealised, every bar
        assert m.equity == pytest.approx(100_000 + m.realised + m.unrealised)
    frame = bk.marks_frame(marks)
    assert frame["drawdown"].tolist() == pytest.approx([0, 0, DD_WED, 0, 0])
    assert frame["exposure"].iloc[1] == pytest.approx(10_300 / EQ_TUE)


def test_fills_at_the_next_open_never_the_same_bar():
    order = bk.Order("MSFT", "buy", 10, WED)
    with pytest.raises(DataValidationError, match="later bar"):
        bk.fill_order(order, WED, 101.0, COSTS)
    # placed at the last bar: nothing fills, whatever that bar's prices are
    _, fills, _ = bk.replay(bk.Book(1e5, 1e5), "MSFT", WEEK, [bk.Order("MSFT", "buy", 1, FRI)],
                            COSTS)
    assert fills == []
    # the fill depends on the next bar's open only: change the placing bar, nothing moves
    changed = WEEK.copy()
    changed.loc[WED, ["open", "close"]] = [50.0, 60.0]
    a = bk.replay(bk.Book(1e5, 1e5), "MSFT", WEEK, [order], COSTS)[1]
    b = bk.replay(bk.Book(1e5, 1e5), "MSFT", changed, [order], COSTS)[1]
    assert a[0].ts == b[0].ts == THU and a[0].price == b[0].price == pytest.approx(105 * 1.0015)


def test_short_cover_and_reversal():
    p, cash = bk.apply_fill(bk.Position(), bk.Fill(None, "X", "sell", 10, TUE, 100, 100, 1.0))
    assert (p.quantity, p.avg_price, p.realised, cash) == (-10, 100, -1.0, 999.0)
    # buy 15 at 90: 10 cover (+100), 5 open long at 90
    p, cash = bk.apply_fill(p, bk.Fill(None, "X", "buy", 15, WED, 90, 90, 0.5))
    assert (p.quantity, p.avg_price) == (5, 90)
    assert p.realised == pytest.approx(-1.0 + 100 - 0.5) and cash == pytest.approx(-1350.5)


def test_signal_target():
    kw = {"equity": 100_000.0, "price": 30.0, "fraction": 0.5, "current": 7.0}
    assert bk.signal_target("BUY", allow_short=False, **kw) == 1666
    assert bk.signal_target("STRONG_SELL", allow_short=True, **kw) == -1666
    assert bk.signal_target("SELL", allow_short=False, **kw) == 0
    assert bk.signal_target("HOLD", allow_short=True, **kw) == 7.0


# --- the stored book ------------------------------------------------------------------

def week_md(upto: int = 5) -> MarketData:
    f = WEEK.iloc[:upto]
    return MarketData(f, "MSFT", "1d", "bundled", f.index[-1])


def test_stored_week_replayed_one_bar_at_a_time(db):
    store.reset_account("u", session=db, commission_bp=10, spread_bp=20, slippage_bp=5)
    md = week_md()
    o1 = desk.place_order("u", md, "buy", 100, session=db)  # the clock starts at Mon
    assert o1.placed_at == MON and o1.status == "pending"
    assert desk.advance("u", md, session=db, steps=0).fills == []
    a = desk.advance("u", md, session=db, steps=1)
    assert a.last_ts == TUE and [(f.order_id, f.ts) for f in a.fills] == [(o1.id, TUE)]
    desk.advance("u", md, session=db, steps=1)  # Wed
    o2 = desk.place_order("u", md, "sell", 100, session=db)
    assert o2.placed_at == WED
    a = desk.advance("u", md, session=db)  # catch up: Thu, Fri
    assert a.bars == 2 and a.at_end and a.fills[0].price == pytest.approx(SELL_PX)
    st = desk.status("u", session=db)
    assert st["simulated"] is True and st["open_orders"] == []
    assert st["cash"] == pytest.approx(CASH_END) and st["equity"] == pytest.approx(CASH_END)
    assert st["realised_pnl"] == pytest.approx(REALISED) and st["unrealised_pnl"] == 0
    assert st["max_drawdown"] == pytest.approx(DD_WED)
    marks = bk.marks_frame(store.list_marks("u", session=db))
    assert marks["equity"].tolist() == pytest.approx(EQUITY)
    filled = store.list_orders("u", session=db)
    assert [(o.status, o.fill_ts, o.commission) for o in filled] == [
        ("filled", TUE, pytest.approx(BUY_FEE)), ("filled", THU, pytest.approx(SELL_FEE))]
    assert desk.advance("u", md, session=db, steps=3).bars == 0  # the end of the data


def test_orders_are_checked(db):
    store.reset_account("u", session=db, cash=1_000)
    md = week_md()
    with pytest.raises(DataValidationError, match="does not go short"):
        desk.place_order("u", md, "sell", 1, session=db)
    with pytest.raises(DataValidationError, match="Not enough cash"):
        desk.place_order("u", md, "buy", 100, session=db)
    with pytest.raises(DataValidationError, match="buy or sell"):
        desk.place_order("u", md, "hold", 1, session=db)
    with pytest.raises(DataValidationError, match="positive"):
        desk.place_order("u", md, "buy", float("nan"), session=db)


def test_store_round_trip(db):
    acct = store.open_account("user:ann", session=db, cash=5_000, commission_bp=2)
    assert store.open_account("user:ann", session=db, cash=1).cash == 5_000  # kept
    assert acct.allow_short is False and acct.commission_bp == 2
    p = store.save_position("user:ann", "msft", session=db, quantity=3, avg_price=10,
                            realised=-1, last_price=11, last_ts="2024-01-08")
    o = store.add_order("user:ann", "msft", "buy", 2, MON, session=db)
    store.update_order(o, session=db, status="filled", fill_price=10.5, fill_ts=TUE,
                       commission=0.01)
    store.add_marks("user:ann", [bk.Mark(TUE, 1, 2, 3, 4, 5, 6)], session=db)
    db.commit()
    with session_scope() as s:
        (pos,) = store.get_positions("user:ann", session=s)
        assert (pos.symbol, pos.quantity, pos.last_ts) == ("MSFT", 3, MON.to_pydatetime())
        (order,) = store.list_orders("user:ann", session=s)
        assert (order.status, order.fill_ts, order.placed_at) == ("filled", TUE, MON)
        assert [m.equity for m in store.list_marks("user:ann", session=s)] == [2]
        assert store.cancel_order("user:ann", order.id, session=s) is False
        store.reset_account("user:ann", session=s, cash=7_000)
    with session_scope() as s:
        assert store.get_positions("user:ann", session=s) == []
        assert store.list_orders("user:ann", session=s) == []
        assert store.get_account("user:ann", session=s).cash == 7_000
    assert p.owner == "user:ann"
    with session_scope() as s, pytest.raises(DataValidationError, match="ticker"):
        store.add_order("user:ann", "<b>x</b>", "buy", 1, MON, session=s)
    with session_scope() as s, pytest.raises(DataValidationError, match="No logged prediction"):
        store.add_order("user:ann", "MSFT", "buy", 1, MON, session=s, prediction_id=999)


# --- the desk's signal ----------------------------------------------------------------

def forecast(md: MarketData, horizon: int, value: float) -> Prediction:
    return Prediction("forecast", "v1", md.symbol, md.interval, "log_return", horizon,
                      md.frame.index[-1], value, lower=value - 0.01, upper=value + 0.01,
                      output={"skill": True})


def fake_panel(action: str, seen: list):
    """A panel_fn: two forecasts on the visible bars, the signal ``action``."""
    def panel_fn(md: MarketData) -> SymbolPanel:
        seen.append(md.frame.index[-1])
        preds = [forecast(md, 1, 0.002), forecast(md, 5, 0.008)]
        score = 0.5 if action.endswith("BUY") else -0.5 if action.endswith("SELL") else 0.0
        sig = Signal(action, score, abs(score), ["test"], {"forecast": score} if score else {})
        return SymbolPanel(md.symbol, md.interval, md.source, md.frame.index[-1],
                           float(md.frame["close"].iloc[-1]), None, preds, [], None, None,
                           None, None, sig, {}, {}, [])
    return panel_fn


def test_signal_orders_link_to_the_prediction_that_caused_them(db):
    store.reset_account("u", session=db, fraction=0.5)
    md, seen = week_md(), []
    d = desk.follow_signal("u", md, session=db, panel_fn=fake_panel("BUY", seen))
    assert seen == [MON]  # the panel saw the bars up to the book's clock only
    assert d.action == "BUY" and d.order is not None and d.order.reason == "signal"
    assert d.order.quantity == 495  # floor(0.5 * 100000 / 101)
    row = db.get(PredictionRow, d.prediction_id)
    assert (row.model_name, row.horizon, row.origin_ts) == ("forecast", 5, MON)  # strongest
    assert d.order.prediction_id == row.id and d.order.signal == "BUY"
    # again on the same bar: already at the target (the pending order counts)
    again = desk.follow_signal("u", md, session=db, panel_fn=fake_panel("BUY", seen))
    assert again.order is None and "already at the target" in again.message
    desk.advance("u", md, session=db, steps=1)
    hold = desk.follow_signal("u", md, session=db, panel_fn=fake_panel("HOLD", seen))
    assert hold.order is None and hold.prediction_id is None
    sell = desk.follow_signal("u", md, session=db, panel_fn=fake_panel("SELL", seen))
    assert (sell.order.side, sell.order.quantity, sell.target) == ("sell", 495, 0)  # flat
    assert db.get(PredictionRow, sell.prediction_id).origin_ts == TUE
    out = desk.follow_signals("u", [md], session=db, panel_fn=fake_panel("SELL", seen))
    assert out[0].order is None  # flat is the target already
    assert desk.status("u", session=db)["open_orders"][0]["prediction_id"] == sell.prediction_id
    assert desk.prediction_dict(sell.prediction_id, session=db)["model"] == "forecast"


def test_causing_prediction_skips_components_against_the_signal():
    md = week_md()
    preds = [forecast(md, 1, -0.01),
             Prediction("breakout", "v1", "MSFT", "1d", "probability", 10, MON, 0.8,
                        output={"event": "breakout_up"})]
    sig = Signal("BUY", 0.3, 0.3, [], {"forecast": -0.2, "breakout": 0.6})
    assert desk.causing_prediction(preds, sig).model_name == "breakout"
    assert desk.causing_prediction(preds, Signal("HOLD", 0, 0)) is None


# --- the migration --------------------------------------------------------------------

PAPER = {"paper_accounts", "paper_orders", "paper_positions", "paper_marks"}


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)  # new_database: both
def test_migration_up_and_down(new_database):  # noqa: F811
    engine = new_database
    migrate(engine, command.upgrade, "0004_saved_screens")
    assert not PAPER & set(sa.inspect(engine).get_table_names())
    migrate(engine, command.upgrade, "0005_paper_book")
    assert PAPER <= set(sa.inspect(engine).get_table_names())
    fks = {fk["referred_table"] for fk in sa.inspect(engine).get_foreign_keys("paper_orders")}
    assert fks == {"paper_accounts", "predictions"}
    migrate(engine, command.downgrade, "0004_saved_screens")
    assert not PAPER & set(sa.inspect(engine).get_table_names())
    assert "saved_screens" in sa.inspect(engine).get_table_names()


# --- the CLI --------------------------------------------------------------------------

runner = CliRunner()


def cli(*args):
    return runner.invoke(cli_app, ["paper", *args], catch_exceptions=False)


def test_cli_order_mark_status():
    r = cli("order", "MSFT", "--side", "buy", "--qty", "10")
    assert r.exit_code == 0, r.output
    assert "fills at the next bar's open" in r.output
    st = json.loads(cli("status", "--json").output)
    assert st["simulated"] and st["cash"] == 100_000 and len(st["open_orders"]) == 1
    placed = pd.Timestamp(st["open_orders"][0]["placed_at"])
    r = cli("mark", "--replay-steps", "1", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    (fill,) = out["symbols"][0]["fills"]
    assert pd.Timestamp(fill["ts"]) > placed  # the next bar, never the same one
    assert fill["price"] == pytest.approx(fill["open"] * (1 + 2e-4))  # 1 bp spread/2 + 1 bp
    st = out["status"]
    assert st["positions"][0]["quantity"] == 10 and st["open_orders"] == []
    assert st["equity"] == pytest.approx(100_000 + st["realised_pnl"] + st["unrealised_pnl"])
    for key in ("cash", "equity", "realised_pnl", "unrealised_pnl", "drawdown", "positions",
                "open_orders"):
        assert key in st
    assert "Simulated only" in cli("status").output
    assert "cash 100,000.00" in cli("reset").output
    assert json.loads(cli("status", "--json").output)["positions"] == []


@pytest.mark.parametrize("args, message", [
    (("order", "MSFT", "--side", "hold", "--qty", "1"), "buy or sell"),
    (("order", "MSFT", "--side", "buy", "--qty", "0"), "positive"),
    (("order", "MSFT", "--side", "buy", "--qty", "nan"), "positive"),
    (("order", "MSFT", "--side", "sell", "--qty", "5"), "does not go short"),
    (("order", "NOPE^^", "--side", "buy", "--qty", "1"), "NOPE"),
    (("mark", "--replay-steps", "-1"), ">= 0"),
    (("cancel", "42"), "No pending order #42"),
    (("reset", "--cash", "-5"), "Cash must be"),
    (("reset", "--commission-bp", "9999"), "Commission"),
])
def test_cli_bad_input_exits_2_with_a_plain_message(args, message):
    r = runner.invoke(cli_app, ["paper", *args])
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)  # the real panel: slow-ish
def test_cli_follow_uses_the_bars_up_to_the_clock():
    r = cli("follow", "MSFT", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["action"] in ("STRONG_BUY", "BUY", "HOLD", "SELL", "STRONG_SELL")
    assert out["bar"].startswith("2012-03-01")  # the replay clock, not the last bar
    if out["order"] is not None:
        assert out["order"]["reason"] == "signal"
