"""Domain predictors from the family declarations: disabled fallback, skill annotation from
the evaluation record, logging, A/B routing."""

import json

import pytest

from core.data import MarketData
from core.families import FAMILIES
from core.family import EvalCell, ModelFamily, record_to_json
from core.panel.predictors import (DOMAIN_PREDICTORS, DomainPredictor, artifact_skill,
                                   domain_predictors, loggable, run_domain, with_skill)
from core.panel.refresh import log_panel
from core.panel.symbol import symbol_panel


def md_of(frame, symbol="SYN"):
    return MarketData(frame, symbol, "1d", "synthetic", frame.index[-1])


def test_domain_predictors_come_from_the_family_declarations():
    by_name = {dp.name: dp for dp in DOMAIN_PREDICTORS}
    assert list(by_name)[:4] == ["forecast", "volatility", "patterns", "sentiment"]
    assert by_name["forecast"].predict is FAMILIES["forecast"].predict_latest
    assert by_name["patterns"].families == ("patterns-cnn", "breakout")
    assert by_name["forecast"].accepts_artifact and not by_name["volatility"].accepts_artifact
    assert "risk" not in by_name and "baseline" not in by_name  # no panel predictor declared


def test_a_new_family_is_one_declaration(fakes):
    """Adding a family (one declaration) adds its domain to the panel; no other list."""
    extra = ModelFamily(name="momentum", domain="momentum", title="Momentum", kind="log_return",
                        train=lambda progress=None: None, predict_latest=fakes.momentum_forecast)
    dps = domain_predictors({**FAMILIES, "momentum": extra})
    assert dps[-1] == DomainPredictor("momentum", fakes.momentum_forecast, ("momentum",))


def test_failing_predictor_is_recorded_not_raised(synthetic_frame, fakes):
    dps = [DomainPredictor("bad", fakes.broken, ("x",)),
           DomainPredictor("forecast", fakes.momentum_forecast, ("forecast",))]
    run = run_domain(md_of(synthetic_frame), dps)
    assert any("bug in a domain" in e for e in run.errors)
    assert len(run.predictions) == 2  # the other predictor still ran


def _save_forecast(metadata: dict):
    from core.registry import save_artifact

    return save_artifact("forecast", {"params.json": b"{}"}, metadata)


def test_disabled_family_falls_back_to_naive_with_banner(synthetic_frame, fakes):
    from core.store import disable, session_scope, sync_models_dir

    _save_forecast({"metrics": {"skill": True}})
    dps = [DomainPredictor("forecast", fakes.active_forecast, ("forecast",))]
    md = md_of(synthetic_frame)
    with session_scope() as s:
        sync_models_dir(session=s)
    sp = symbol_panel(md, dps)
    assert [f["model"] for f in sp.forecasts].count("forecast") == 2
    assert sp.fallbacks == {}
    with session_scope() as s:
        disable("forecast", who="alice", session=s)
    sp = symbol_panel(md, dps)
    assert sp.fallbacks == {"forecast": "disabled by an admin: naive baseline shown"}
    assert {f["model"] for f in sp.forecasts} == {"naive"}
    assert "forecast" not in sp.signal.components
    assert any("disabled by an admin" in r for r in sp.signal.reasons)


_CELL = EvalCell("rmse", 0.0100, 0.0102, 0.98, 0.01, True)


@pytest.mark.parametrize("family, meta, expected", [
    ("forecast", {"metrics": {"skill": False}}, False),  # family-wide verdict
    ("forecast", {"record": record_to_json({"SYN": {"5": _CELL}})}, True),
    ("forecast", {"record": {"SYN": {"5": {"metric": "rmse", "skill": False}}}}, False),
    ("forecast", {"record": record_to_json({"SYN": {"1": _CELL}})}, None),  # other horizon
    ("forecast", {"record": record_to_json({"OTHER": {"5": _CELL}})}, None),
    # forecast artifacts written before the record: read from their walk_forward layout
    ("forecast", {"walk_forward": {"SYN": {"5": {"dm_pvalue": 0.01, "rmse_ratio": 0.97}}}}, True),
    ("forecast", {"walk_forward": {"SYN": {"5": {"dm_pvalue": 0.40, "rmse_ratio": 0.99}}}}, False),
    ("forecast", {"walk_forward": {"SYN": {"5": {"dm_pvalue": 0.01, "rmse_ratio": 1.02}}}}, False),
    ("volatility", {"walk_forward": {"SYN": {"5": {"dm_pvalue": 0.01, "rmse_ratio": 0.97}}}},
     None),  # no legacy layout declared for volatility
    ("not-a-family", {"record": record_to_json({"SYN": {"5": _CELL}})}, None),
    ("forecast", {}, None),
])
def test_artifact_skill_reads_the_family_record(family, meta, expected):
    assert artifact_skill(family, meta, "syn", 5) is expected


def test_no_skill_metadata_keeps_model_out_of_signal(synthetic_frame, fakes):
    from core.store import session_scope, sync_models_dir

    art = _save_forecast({"metrics": {"skill": False}})
    with session_scope() as s:
        sync_models_dir(session=s)
    dps = [DomainPredictor("forecast", fakes.active_forecast, ("forecast",))]
    sp = symbol_panel(md_of(synthetic_frame), dps)
    fcs = [p for p in sp.predictions if p.model_name == "forecast"]
    assert fcs and all(p.output["skill"] is False for p in fcs)
    assert all(p.model_version == art.version for p in fcs)
    assert sp.signal.action == "HOLD" and "forecast" not in sp.signal.components
    assert any("did not beat its naive baseline" in r for r in sp.signal.reasons)


def test_with_skill_leaves_naive_alone(synthetic_frame):
    from core.baseline.naive import naive_predictor

    p = naive_predictor(md_of(synthetic_frame))[0]
    assert with_skill(p) is p


def test_horizon_zero_detections_shown_not_logged(synthetic_frame, fakes):
    from core.store import PredictionRow, session_scope

    dps = [DomainPredictor("patterns", fakes.pattern_detection, ("patterns-cnn",))]
    sp = symbol_panel(md_of(synthetic_frame), dps)
    assert sp.pattern.startswith("hammer (bullish")
    assert "Pattern: hammer (bullish, p=0.90)" in sp.signal.reasons
    assert all(p.horizon >= 1 for p in loggable(sp.predictions))
    with session_scope() as s:
        n, errors = log_panel([sp], session=s)
        again, _ = log_panel([sp], session=s)
        rows = s.query(PredictionRow).all()
    assert (n, again, errors) == (2, 0, [])  # naive h=1 and h=5 once; hammer not logged
    assert {r.model_name for r in rows} == {"naive"}


def test_symbol_panel_figures(synthetic_frame, fakes):
    dps = [DomainPredictor("forecast", fakes.momentum_forecast, ("forecast",))]
    sp = symbol_panel(md_of(synthetic_frame), dps)
    c = synthetic_frame["close"]
    assert sp.last_price == pytest.approx(c.iloc[-1])
    assert sp.change_pct == pytest.approx(100 * (c.iloc[-1] / c.iloc[-2] - 1))
    assert sp.bar_ts == synthetic_frame.index[-1]
    first = sp.forecasts[0]  # model rows before the naive rows
    assert first["model"] == "forecast" and first["lower_pct"] < first["value_pct"] < first["upper_pct"]
    assert json.dumps(sp.signal.reasons)


def test_ab_test_logs_both_versions_and_serves_the_routed_one(synthetic_frame, fakes):
    """Champion/challenger: both versions logged on every bar, the served one follows the
    deterministic route, and the comparison runs on the paired outcomes."""
    from core.panel.abtest import CHALLENGER, compare, route, start_ab_test
    from core.panel.predictors import running_experiments
    from core.panel.refresh import refresh_panel
    from core.panel.replay import replay_tick
    from core.registry import save_artifact
    from core.serving import load_active
    from core.store import PredictionRow, session_scope, sync_models_dir

    def versioned(md, artifact=None):
        art = artifact if artifact is not None else load_active("forecast")
        return fakes.momentum_forecast(md, version=art.version)

    champ = save_artifact("forecast", {"params.json": b"{}"}, {}, version="20200101T000000Z-aaaa")
    with session_scope() as s:
        sync_models_dir(session=s)
    chall = save_artifact("forecast", {"params.json": b"{}"}, {}, version="20200102T000000Z-bbbb")
    with session_scope() as s:
        sync_models_dir(session=s)
        start_ab_test("fc-ab", "forecast", champ.version, chall.version, share=0.5,
                      who="alice", session=s)
    dps = [DomainPredictor("forecast", versioned, ("forecast",), accepts_artifact=True)]
    served = []
    with session_scope() as s:
        exps = running_experiments(session=s)
        assert set(exps) == {"forecast"}
        for i in range(12):
            md = replay_tick("SYN", synthetic_frame, session=s, steps=0 if i == 0 else 1,
                             start_bars=280 if i == 0 else None)
            res = refresh_panel([md], session=s, predictors=dps)
            sp = res.panels[0]
            shown = {p.model_version for p in sp.predictions if p.model_name == "forecast"}
            want = chall.version if route("SYN", md.frame.index[-1], 0.5, "fc-ab") == \
                CHALLENGER else champ.version
            assert shown == {want}
            assert {p.model_version for p in sp.shadow} == {champ.version, chall.version} - {want}
            served.append(want)
        rows = s.query(PredictionRow).filter(PredictionRow.model_name == "forecast").all()
        cmp_res = compare(session=s, family="forecast", champion_version=champ.version,
                          challenger_version=chall.version, horizon=1)
    assert len(rows) == 12 * 2 * 2  # 12 bars x 2 horizons x 2 versions
    assert len(set(served)) == 2  # both arms served at share 0.5 over 12 bars
    assert cmp_res.n_pairs == 11 and cmp_res.champion_mse == pytest.approx(cmp_res.challenger_mse)


def test_corrupt_artifact_names_the_family_and_others_keep_serving(synthetic_frame, fakes):
    """One flipped byte in the active forecast artifact: forecast is reported as broken,
    with what to do; the pattern domain still serves on the same bar."""
    from core.registry import models_root
    from core.store import session_scope, sync_models_dir

    art = _save_forecast({"metrics": {"skill": True}})
    with session_scope() as s:
        sync_models_dir(session=s)
    path = models_root() / "forecast" / art.version / "params.json"
    path.write_bytes(b"{ }")  # one byte more: the sha256 no longer matches
    dps = [DomainPredictor("forecast", fakes.active_forecast, ("forecast",)),
           DomainPredictor("patterns", fakes.pattern_detection, ("patterns-cnn",))]
    run = run_domain(md_of(synthetic_frame), dps)
    assert list(run.broken) == ["forecast"]
    assert "sha256" in run.broken["forecast"]
    assert "retrains it or rolls back" in run.broken["forecast"]
    assert "quantdesk models rollback forecast" in run.broken["forecast"]
    assert [p.model_name for p in run.predictions] == ["patterns-cnn"]
    sp = symbol_panel(md_of(synthetic_frame), dps)
    assert sp.broken == run.broken and sp.pattern is not None


def test_store_unavailable_serves_last_known_with_notice(synthetic_frame, fakes, monkeypatch):
    from core.store import session_scope, sync_models_dir

    art = _save_forecast({"metrics": {"skill": True}})
    with session_scope() as s:
        sync_models_dir(session=s)
    dps = [DomainPredictor("forecast", fakes.active_forecast, ("forecast",))]
    md = md_of(synthetic_frame)
    assert run_domain(md, dps).notices == {}

    def broken(family):
        raise RuntimeError("database disk image is malformed")

    monkeypatch.setattr("core.serving.serving_version", broken)
    run = run_domain(md, dps)
    assert {p.model_version for p in run.predictions} == {art.version}
    assert run.notices == {"forecast": "model store unavailable: serving the last known "
                                       f"version {art.version}"}


def test_model_status_follows_the_serving_rule(monkeypatch):
    """Status text matches load_active: no row -> disk; candidates only -> nothing serves;
    store unreadable -> the last known version."""
    from core import serving
    from core.panel.refresh import model_status
    from core.store import promote, register_version, session_scope

    art = _save_forecast({"metrics": {}})
    with session_scope() as s:
        assert model_status(["forecast"], session=s)[0].state == "disk"
        register_version("forecast", art.version, session=s)
        st = model_status(["forecast"], session=s)[0]
        assert st.state == "candidates" and "promote" in st.message
        promote("forecast", art.version, who="a", session=s)
    assert serving.load_active("forecast").version == art.version

    class Broken:
        def exec(self, *a, **k):
            raise RuntimeError("database is locked")

        get = exec

    monkeypatch.setattr("core.serving.serving_version",
                        lambda f: (_ for _ in ()).throw(RuntimeError("locked")))
    st = model_status(["forecast"], session=Broken())[0]
    assert (st.state, st.version) == ("last known", art.version)
    assert st.message == f"model store unavailable: serving the last known version {art.version}"


def test_a_bad_batch_is_reported_and_the_others_are_logged(synthetic_frame, fakes):
    """log_panel validates each (symbol, model) batch on its own, then writes the valid
    ones together: a forecast with a non-finite bound costs only that symbol's batch."""
    import dataclasses

    from core.store import PredictionRow, session_scope

    dps = [DomainPredictor("forecast", fakes.momentum_forecast, ("forecast",))]
    good = symbol_panel(md_of(synthetic_frame, "GOOD"), dps)
    bad = symbol_panel(md_of(synthetic_frame, "BAD"), dps)
    bad.predictions[:] = [dataclasses.replace(p, lower=float("inf"))
                          if p.model_name == "forecast" else p for p in bad.predictions]
    with session_scope() as s:
        n, errors = log_panel([bad, good], session=s)
        rows = s.query(PredictionRow).all()
    assert len(errors) == 1 and errors[0].startswith("BAD forecast:")
    assert {(r.symbol, r.model_name) for r in rows} == {("GOOD", "forecast"), ("GOOD", "naive"),
                                                        ("BAD", "naive")}
    assert n == len(rows)
