"""The Volatility page's tables and sentences (core.volatility.report)."""

import math

import pandas as pd
import pytest

from core.predictions import Prediction
from core.volatility import report
from core.volatility.evaluate import MODEL_LABELS, MODELS


def _pred(h, lower=None, upper=None, models=None, best="gjr"):
    return Prediction("volatility", "v1", "SYN", "1d", "variance", h,
                      pd.Timestamp("2020-01-02", tz="UTC"), 0.001, lower=lower, upper=upper,
                      output={"models": models or {}, "best_model": best})


def test_realised_vol_interval_annualises_the_variance_bounds():
    lo, hi = report.realised_vol_interval(_pred(5, lower=0.0005, upper=0.002), 252)
    assert lo == pytest.approx(math.sqrt(0.0005 * 252 / 5))
    assert hi == pytest.approx(math.sqrt(0.002 * 252 / 5))
    lo, _ = report.realised_vol_interval(_pred(1, lower=-0.01, upper=0.002), 252)
    assert lo == 0.0  # a negative lower bound counts as zero variance
    assert report.realised_vol_interval(_pred(1, upper=0.002), 252) is None


def test_models_table_one_row_per_horizon_and_model():
    preds = [_pred(1, models={"gjr": {"variance": 1e-4, "vol_ann": 0.158745},
                              "ml": {"variance": 2e-4, "vol_ann": 0.2}}),
             _pred(5, models={"gjr": {"variance": 5e-4, "vol_ann": 0.17}}, best="gjr")]
    rows = report.models_table(preds)
    assert rows == [
        {"horizon [bars]": 1, "model": "gjr", "variance (sum over horizon)": 1e-4,
         "Volatility [% ann.]": 15.87, "best": True},
        {"horizon [bars]": 1, "model": "ml", "variance (sum over horizon)": 2e-4,
         "Volatility [% ann.]": 20.0, "best": False},
        {"horizon [bars]": 5, "model": "gjr", "variance (sum over horizon)": 5e-4,
         "Volatility [% ann.]": 17.0, "best": True},
    ]


def test_vix_comparison_clips_both_series():
    idx = pd.bdate_range("2015-01-01", periods=10, tz="UTC")
    vix = pd.Series(range(10), index=idx, dtype=float)
    rv = pd.Series(range(10), index=idx, dtype=float)
    v, r = report.vix_comparison(vix, rv, idx[3], idx[6])
    assert list(v.index) == list(idx[3:7]) and list(r.index) == list(idx[3:])
    v, r = report.vix_comparison(vix, None, idx[3], idx[6])
    assert len(v) == 4 and r is None
    v, r = report.vix_comparison(vix, rv, pd.Timestamp("2030-01-01", tz="UTC"),
                                 pd.Timestamp("2031-01-01", tz="UTC"))
    assert v.empty and r is rv  # nothing to compare: realised vol left as given


def test_cone_table_and_chart_window():
    cone = pd.DataFrame({"p50": [0.123456, 0.2]}, index=[21, 63])
    t = report.cone_table(cone)
    assert t.index.name == "window [bars]" and t["p50"].tolist() == [12.35, 20.0]
    est = pd.DataFrame({"cc": range(1000)})
    assert report.estimators_for_chart(est)["cc"].tolist() == list(range(250, 1000))


def _ev():
    models = {m: {"qlike": 1.0 + i, "qlike_ratio": 1.0 - 0.05 * i, "mse": 1e-8,
                  "mz_r2": 0.3, "dm_pvalue_vs_garch": 0.04} for i, m in enumerate(MODELS)}
    sc = {"models": models, "mcs_members": ["har", "ml"], "test_start": "2010-01-04",
          "test_end": "2013-02-28", "n_test": 789, "best": "ml",
          "interval": {"coverage": 0.7834, "below": 0.1, "above": 0.12}}
    return {"results": {"5": {"primary": sc}}}


def test_evaluation_display_caption_and_verdict():
    ev = _ev()
    t = report.evaluation_display(ev, 5)
    assert t["Model"].tolist() == [MODEL_LABELS[m] for m in MODELS]
    assert t["In MCS"].tolist() == ["", "", "", "✓", "✓"]
    assert report.evaluation_caption("^GSPC", ev, 5).startswith(
        "**^GSPC, h = 5**: rolling out-of-sample 2010-01-04 .. 2013-02-28, n = 789, refit")
    assert report.ml_verdict(ev, 5) == ("The ML model beats GARCH(1,1) here (QLIKE ratio "
                                        "0.800); its 80 % interval covered 78% of outcomes.")
    ev["results"]["5"]["primary"]["models"]["ml"]["qlike_ratio"] = 1.02
    assert report.ml_verdict(ev, 5).startswith("The ML model does not beat GARCH(1,1) here")


def test_evaluated_symbol_falls_back_to_the_index():
    assert report.evaluated_symbol({"IBM": {}, "^GSPC": {}}, "IBM") == "IBM"
    assert report.evaluated_symbol({"^GSPC": {}}, "ZZZ") == "^GSPC"
    assert report.evaluated_symbol({}, "ZZZ", fallback="^IXIC") == "^IXIC"
