"""Domain predictor list: lazy skipping, disabled fallback, skill annotation, logging."""

import json

import pandas as pd
import pytest

from core.data import MarketData
from core.predictors import (DOMAIN_PREDICTORS, DomainPredictor, artifact_skill, loggable,
                             log_panel, run_domain, symbol_panel, with_skill)


def md_of(frame, symbol="SYN"):
    return MarketData(frame, symbol, "1d", "synthetic", frame.index[-1])


def test_missing_modules_are_skipped_with_a_reason(synthetic_frame):
    dps = [DomainPredictor("forecast", "core.no_such_module:predict_latest", ("forecast",),
                           "forecast model not installed"),
           DomainPredictor("vol", "core.data:no_such_function", ("volatility",),
                           "volatility model not installed")]
    run = run_domain(md_of(synthetic_frame), dps)
    assert run.predictions == []
    assert run.skipped == {"forecast": "forecast model not installed",
                           "vol": "volatility model not installed"}


def test_default_list_names_the_three_domains():
    targets = {dp.name: dp.target for dp in DOMAIN_PREDICTORS}
    assert {"forecast", "volatility", "patterns"} <= set(targets)
    assert all(":" in t for t in targets.values())


def test_failing_predictor_is_recorded_not_raised(synthetic_frame, fakes):
    dps = [DomainPredictor("bad", fakes.broken, ("x",), "-"),
           DomainPredictor("forecast", fakes.momentum_forecast, ("forecast",), "-")]
    run = run_domain(md_of(synthetic_frame), dps)
    assert any("bug in a domain" in e for e in run.errors)
    assert len(run.predictions) == 2  # the other predictor still ran


def _save_forecast(metadata: dict):
    from core.registry import save_artifact

    return save_artifact("forecast", {"params.json": b"{}"}, metadata)


def test_disabled_family_falls_back_to_naive_with_banner(synthetic_frame, fakes):
    from core.store import disable, session_scope, sync_models_dir

    _save_forecast({"metrics": {"skill": True}})
    dps = [DomainPredictor("forecast", fakes.active_forecast, ("forecast",), "-")]
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


@pytest.mark.parametrize("meta, expected", [
    ({"metrics": {"skill": False}}, False),
    ({"skill": True}, True),
    ({"skill": {"SYN": {"5": False}}}, False),
    ({"walk_forward": {"SYN": {"5": {"dm_pvalue": 0.01, "rmse_ratio": 0.97}}}}, True),
    ({"walk_forward": {"SYN": {"5": {"dm_pvalue": 0.40, "rmse_ratio": 0.99}}}}, False),
    ({"walk_forward": [{"symbol": "SYN", "horizon": 5, "dm_pvalue": 0.01,
                        "rmse_ratio": 1.02}]}, False),
    ({"evaluation": {"5": {"SYN": {"skill": True}}}}, True),
    ({"walk_forward": {"OTHER": {"5": {"skill": True}}}}, None),
    ({}, None),
])
def test_artifact_skill_layouts(meta, expected):
    assert artifact_skill(meta, "syn", 5) is expected


def test_no_skill_metadata_keeps_model_out_of_signal(synthetic_frame, fakes):
    from core.store import session_scope, sync_models_dir

    art = _save_forecast({"metrics": {"skill": False}})
    with session_scope() as s:
        sync_models_dir(session=s)
    dps = [DomainPredictor("forecast", fakes.active_forecast, ("forecast",), "-")]
    sp = symbol_panel(md_of(synthetic_frame), dps)
    fcs = [p for p in sp.predictions if p.model_name == "forecast"]
    assert fcs and all(p.output["skill"] is False for p in fcs)
    assert all(p.model_version == art.version for p in fcs)
    assert sp.signal.action == "HOLD" and "forecast" not in sp.signal.components
    assert any("did not beat its naive baseline" in r for r in sp.signal.reasons)


def test_with_skill_leaves_naive_alone(synthetic_frame):
    from core.data.replay import naive_predictor

    p = naive_predictor(md_of(synthetic_frame))[0]
    assert with_skill(p) is p


def test_horizon_zero_detections_shown_not_logged(synthetic_frame, fakes):
    from core.store import PredictionRow, session_scope

    dps = [DomainPredictor("patterns", fakes.pattern_detection, ("patterns-cnn",), "-")]
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
    dps = [DomainPredictor("forecast", fakes.momentum_forecast, ("forecast",), "-")]
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
    from core.abtest import CHALLENGER, compare, route, start_ab_test
    from core.predictors import refresh_panel, replay_tick, running_experiments
    from core.registry import load_active, save_artifact
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
    dps = [DomainPredictor("forecast", versioned, ("forecast",), "-")]
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
