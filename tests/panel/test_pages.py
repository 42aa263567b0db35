"""AppTest of the Overview, Model Monitoring and Admin pages."""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok, cards, html_tables

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.warning] + [e.value for e in at.info]
    parts += [e.value for e in at.error] + [e.value for e in at.success]
    return "\n".join(map(str, parts))


@pytest.fixture
def no_domains(monkeypatch):
    """Only the naive baseline (the panel must work before any model lands)."""
    from core.panel import predictors

    monkeypatch.setattr(predictors, "DOMAIN_PREDICTORS", [])


def overview(**state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in state.items():
        at.session_state[k] = v
    at.query_params["symbol"] = "IBM"
    at.run()
    return at


def test_overview_panel_logs_and_shows_as_of(no_domains):
    from core.store import PredictionRow, session_scope

    at = overview(ov_watchlist=["MSFT", "IBM"])
    assert_page_ok(at)
    assert "As of " in texts(at) and "auto-refresh every 30 s" in texts(at)
    assert "2 new prediction(s) logged" not in texts(at)  # 2 symbols x 2 horizons = 4
    assert "4 new prediction(s) logged" in texts(at)
    # offline (the tests' setting): which data the cards show, with its as-of date
    from core.display import literal

    assert literal("MSFT, IBM: Bundled history (offline demo), last bar 2013-03-01.") in [
        c.value.split("  \n")[0] for c in at.caption]
    assert not [w for w in at.warning if "Not live" in w.value]
    shown = cards(at)  # one per symbol, in the watchlist's order, in one st.html element
    assert [c.split(" · ")[0] for c in shown] == ["MSFT", "IBM"]
    assert len([e for e in at.get("html") if "qd-card" in str(e.proto.body)]) == 1
    for card in shown:  # the last close, the fused signal, the forecasts, the context lines
        assert re.search(r"^\w+ · [\d,]+\.\d\d ", card)
        assert "confidence " in card and "baseline" in card and "\nPattern:" in card
        assert "Volatility regime:" in card and "Sentiment:" in card
    heads, bodies = html_tables(at)  # each card's forecasts beside the naive baseline
    assert heads == [["Model", "h [bars]", "Return [%] (80% interval)", "Skill"]] * 2
    assert all(any(r[0] == "naive" and r[3] == "baseline" for r in b) for b in bodies)
    # the reasons, sources and model status of every card: one expander under them
    assert [e.label for e in at.expander if "reasons" in e.label] == [
        "Signal reasons, sources and model status"]
    # drawn only once opened (a closed expander's content costs every visit, issue 15)
    assert "**MSFT** · source " not in texts(at)
    at.session_state["ov_details"] = True
    at.run()
    assert "**MSFT** · source " in texts(at) and "**IBM** · source " in texts(at)
    with session_scope() as s:
        assert s.query(PredictionRow).count() == 4
    at.run()  # a refresh on the same bars logs nothing new, hits the cache
    assert "0 new prediction(s) logged" in texts(at) and "2 cached / 0 computed" in texts(at)


def test_overview_pause_and_replay_mode(no_domains):
    from core.store import Outcome, session_scope

    at = overview(ov_watchlist=["MSFT"], ov_paused=True, ov_replay=True)
    assert_page_ok(at)
    assert "paused" in texts(at)
    assert "Replay: MSFT bar 300" in texts(at)
    for _ in range(3):
        at.button(key="ov_step").click().run()
    assert_page_ok(at)
    assert "Replay: MSFT bar 303" in texts(at)
    with session_scope() as s:
        assert s.query(Outcome).count() >= 2  # h=1 outcomes of the revealed bars


def test_overview_disabled_model_banner(monkeypatch, fakes):
    from core.panel import predictors
    from core.registry import save_artifact
    from core.store import disable, session_scope, sync_models_dir

    monkeypatch.setattr(predictors, "DOMAIN_PREDICTORS", [predictors.DomainPredictor(
        "forecast", fakes.active_forecast, ("forecast",))])
    save_artifact("forecast", {"params.json": b"{}"}, {"metrics": {"skill": True}})
    with session_scope() as s:
        sync_models_dir(session=s)
        disable("forecast", who="alice", session=s)
    at = overview(ov_watchlist=["MSFT"])
    assert not at.exception
    warn = "\n".join(w.value for w in at.warning)
    assert "MSFT: model forecast disabled by an admin: naive baseline shown." in warn
    assert "Disabled by an admin: forecast" in warn


def test_monitoring_empty_state_then_figures(no_domains):
    at = AppTest.from_file(str(ROOT / "views" / "monitoring.py"), default_timeout=60)
    at.run()
    assert_page_ok(at)
    assert any("no predictions logged yet" in i.value.lower() for i in at.info)
    from core.panel.replay import run_replay

    run_replay("MSFT", steps=30, start_bars=300)
    at.run()
    assert_page_ok(at)
    assert not any("no predictions logged yet" in i.value.lower() for i in at.info)
    heads, bodies = html_tables(at)  # the summary: one HTML table (issue 15)
    i = next(k for k, h in enumerate(heads) if "Outcomes" in h)
    rows = [dict(zip(heads[i], r)) for r in bodies[i]]
    assert {r["Model"] for r in rows} == {"naive"} and {r["Outcomes"] for r in rows} == {"30",
                                                                                          "26"}
    assert all(r["MAE"] == "–" or len(r["MAE"].split(".")[1]) == 4 for r in rows), rows
    assert [t.label for t in at.tabs] == ["Accuracy and error", "Coverage and calibration",
                                          "Prediction volume"]

    def charts(at):
        return sorted(c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart"))

    assert charts(at) == ["mon_acc", "mon_mae"]  # the other tabs' charts: only when open
    for tab, keys in (("coverage", ["mon_cov"]), ("volume", ["mon_vol"])):
        other = AppTest.from_file(str(ROOT / "views" / "monitoring.py"), default_timeout=60)
        other.query_params["tab"] = tab
        other.run()
        assert_page_ok(other)
        assert charts(other) == keys, tab


# ---------------------------------------------------------------- admin

def quick_family(monkeypatch):
    """A tiny family for retrain tests (writes a JSON artifact to the private models dir)."""
    from core import training
    from core.registry import save_artifact

    def tiny(progress=None):
        if progress:
            progress(0.5, "halfway")
        return save_artifact("tiny", {"params.json": b"{}"}, {"metrics": {"mae": 0.01}})

    monkeypatch.setattr(training, "FAMILIES", {"tiny": tiny})


def admin_page(user: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / "admin.py"), default_timeout=60)
    if user:
        at.session_state["admin_user"] = user
    at.run()
    return at


def test_non_admin_gets_no_page_and_no_actions():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    with pytest.raises(Exception):
        at.switch_page("views/admin.py").run()  # not registered in st.navigation
    at = admin_page(None)
    assert not at.exception
    assert [e.value for e in at.error] == ["This page is for admins. Log in as an admin first."]
    assert len(at.button) == 0


def test_admin_retrain_promote_rollback_disable(monkeypatch):
    from core.store import audit_log, list_model_versions, session_scope

    quick_family(monkeypatch)
    at = admin_page("alice")
    assert not at.exception
    for _ in range(2):  # two versions, both candidates
        at.button(key="adm_retrain").click().run()
        assert not at.exception
        assert any("new candidate version" in s.value for s in at.success)
    with session_scope() as s:
        vs = list_model_versions(session=s)
    assert [v.status for v in vs] == ["candidate", "candidate"]
    old, new = sorted(v.version for v in vs)
    at.selectbox(key="adm_ops_version").set_value(old).run()
    at.button(key="adm_promote").click().run()
    at.selectbox(key="adm_ops_version").set_value(new).run()
    at.button(key="adm_promote").click().run()
    assert not at.exception
    at.button(key="adm_rollback").click().run()
    with session_scope() as s:
        st = {v.version: v.status for v in list_model_versions(session=s)}
    assert st == {old: "active", new: "deprecated"}
    at.button(key="adm_disable").click().run()
    with session_scope() as s:
        st = {v.version: v.status for v in list_model_versions(session=s)}
        actions = [(a.who, a.action) for a in audit_log(session=s)]
    assert st[old] == "disabled"
    assert ("alice", "disable") in actions and ("alice", "rollback") in actions
    assert ("alice", "train_complete") in actions
    assert not at.exception
    assert "disable: tiny/" in texts(at)


def test_admin_action_rechecks_login(monkeypatch):
    from core.store import TrainingRun, session_scope

    quick_family(monkeypatch)
    at = admin_page("alice")
    del at.session_state["admin_user"]  # the login lapsed while the page was open
    at.button(key="adm_retrain").click().run()
    assert not at.exception
    with session_scope() as s:
        assert s.query(TrainingRun).count() == 0
    assert any("for admins" in e.value or "refused" in e.value for e in at.error)


def test_second_retrain_while_one_runs_is_refused(monkeypatch):
    from core.store import session_scope
    from core.store.ops import acquire_lock

    quick_family(monkeypatch)
    with session_scope() as s:
        assert acquire_lock("training", "bob#1234", "tiny", session=s) is not None
    at = admin_page("alice")
    at.button(key="adm_retrain").click().run()
    assert not at.exception
    assert any("A retrain of tiny started by bob" in w.value for w in at.warning)


def test_overview_corrupt_artifact_banner_names_family(monkeypatch, fakes):
    """A corrupt forecast artifact: a visible error (not only inside the expander) names
    the family and says retrain or roll back; the pattern model keeps serving."""
    from core.panel import predictors
    from core.registry import models_root, save_artifact
    from core.store import session_scope, sync_models_dir

    monkeypatch.setattr(predictors, "DOMAIN_PREDICTORS", [
        predictors.DomainPredictor("forecast", fakes.active_forecast, ("forecast",)),
        predictors.DomainPredictor("patterns", fakes.pattern_detection, ("patterns-cnn",))])
    art = save_artifact("forecast", {"params.json": b"{}"}, {"metrics": {"skill": True}})
    with session_scope() as s:
        sync_models_dir(session=s)
    (models_root() / "forecast" / art.version / "params.json").write_bytes(b"{ }")
    at = overview(ov_watchlist=["MSFT", "IBM"])
    assert not at.exception
    errors = [e.value for e in at.error]
    banners = [e for e in errors if e.startswith("Model forecast cannot be served")]
    assert len(banners) == 1, errors  # once for the page, not per symbol
    assert "sha256" in banners[0] and "roll" in banners[0] and "retrain" in banners[0]
    assert any("\nPattern: hammer" in c for c in cards(at))  # the other family still serves


def test_overview_after_another_page_keeps_the_watchlist(no_domains):
    """Streamlit drops a widget's state after a run on another page: coming back to the
    Overview must redraw the session's watchlist, not raise (a KeyError reached the page)."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["watchlist"] = "IBM,AAPL"
    at.run()
    assert_page_ok(at)
    assert at.multiselect(key="ov_watchlist").value == ["IBM", "AAPL"]
    at.multiselect(key="ov_watchlist").unselect("AAPL").run()
    at.switch_page("views/paper.py").run()
    assert not at.exception
    at.switch_page("views/overview.py").run()
    assert_page_ok(at)
    assert at.multiselect(key="ov_watchlist").value == ["IBM"]


def test_overview_names_watchlist_symbols_that_are_not_live(monkeypatch, no_domains):
    """A copy that a background download has not renewed (Yahoo failing) is named with its
    date above the cards; live symbols are not."""
    import dataclasses

    import ui.data
    from core.data import load_ohlcv
    from core.display import literal

    def served(symbol, interval, start=None, end=None, source="auto"):
        md = load_ohlcv(symbol, interval, source="bundled")
        if symbol == "IBM":
            return md
        return dataclasses.replace(md, source="cache", stale=True, fallback=(
            "Cached copy from 2026-12-01 14:02 UTC, last bar 2013-03-01; updating it in the "
            "background."))

    monkeypatch.setattr(ui.data, "cached_market", served)  # the panel's loads
    at = overview(ov_watchlist=["MSFT", "GOOG", "IBM"], ov_paused=True)
    assert_page_ok(at, allow_warnings=("Not live: ",))
    warning, = [w.value for w in at.warning if "Not live" in w.value]
    assert warning == "Not live: " + literal(
        "MSFT, GOOG: Cached copy from 2026-12-01 14:02 UTC, last bar 2013-03-01; updating it "
        "in the background.")
    assert [c.split(" · ")[0] for c in cards(at)] == ["MSFT", "GOOG", "IBM"]
