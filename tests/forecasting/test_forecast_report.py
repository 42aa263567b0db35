"""The Forecasts page's tables and sentences (core.forecasting.report), from hand-made
walk-forward results."""

import io

import pandas as pd
import pytest

from core.forecasting import report


def _m(rmse_ratio, da=0.55, ic=0.03, p=0.5):
    return {"rmse_ratio": rmse_ratio, "mae_ratio": rmse_ratio - 0.001, "directional_accuracy": da,
            "ic": ic, "dm_pvalue": p}


def _result(h, ens_ratio=0.999, p=0.5):
    return {"horizon": h, "n_test": 100 * h, "coverage_80": 0.81, "coverage_95": 0.951,
            "rmse_ratio": ens_ratio, "dm_pvalue": p,
            "members": {"xgboost": _m(1.001), "lightgbm": _m(1.002)},
            "ensemble_raw": _m(1.0005), "ensemble": _m(ens_ratio, p=p),
            "baselines": {"always_up": {"directional_accuracy": 0.53}}}


ROWS = {"20": _result(20), "5": _result(5, ens_ratio=0.98, p=0.01), "1": _result(1)}


def test_verdicts_are_ordered_by_horizon_and_flag_significance():
    got = report.verdicts(ROWS)
    assert [s.split(" at ")[1].split(" bars")[0] for _, s in got] == ["1", "5", "20"]
    assert [sig for sig, _ in got] == [False, True, False]
    assert got[1][1] == ("Significant skill over a random walk at 5 bars (RMSE ratio 0.9800, "
                         "DM p = 0.01).")


def test_skill_frame_rows_and_units():
    t = report.skill_frame(ROWS)
    assert t["Horizon [bars]"].tolist() == [1] * 5 + [5] * 5 + [20] * 5
    assert t["Model"].tolist()[:5] == ["xgboost", "lightgbm", "ensemble (raw)",
                                       "ensemble (shipped)", "naive (zero return)"]
    x = t.iloc[0]
    assert x["RMSE ratio vs naive"] == 1.001 and x["MAE ratio vs naive"] == pytest.approx(1.0)
    assert x["Dir. accuracy [%]"] == pytest.approx(55.0) and x["Always-up [%]"] == 53.0
    assert x["IC (Spearman)"] == 0.03 and x["DM p vs naive"] == 0.5
    naive = t.iloc[4]
    assert naive["RMSE ratio vs naive"] == naive["MAE ratio vs naive"] == 1.0
    assert naive["Always-up [%]"] == 53.0 and pd.isna(naive["Dir. accuracy [%]"])


def test_coverage_frame_in_percent():
    t = report.coverage_frame(ROWS)
    assert t.to_dict("records")[0] == {"Horizon [bars]": 1, "Coverage 80% [%]": 81.0,
                                       "Coverage 95% [%]": 95.1, "Test bars": 100}
    assert t["Horizon [bars]"].tolist() == [1, 5, 20]


def test_page_table_and_csv():
    table = pd.DataFrame([{c: i for i, c in enumerate(report.PAGE_COLUMNS)}])
    table["symbol"] = "MSFT"
    assert list(report.page_table(table).columns) == report.PAGE_COLUMNS
    back = pd.read_csv(io.BytesIO(report.table_csv(table)))
    assert list(back.columns) == list(table.columns) and back["symbol"].tolist() == ["MSFT"]


def test_feature_importance_sorted_by_horizon():
    meta = {"feature_importance": {"MSFT": {"20": {"a": 1}, "1": {"b": 2}, "5": {"c": 3}}}}
    got = report.feature_importance(meta, "MSFT")
    assert list(got) == ["1", "5", "20"] and got["5"] == {"c": 3}
    assert report.feature_importance(meta, "IBM") == {}
    assert report.feature_importance({}, "MSFT") == {}


def test_scope_note_and_pooled_verdict():
    from core.forecasting.report import pooled_verdict, scope_note
    from core.predictions import Prediction

    ts = pd.Timestamp("2020-01-02", tz="UTC")

    def pred(sym, h, scope):
        return Prediction("forecast", "v", sym, "1d", "log_return", h, ts, 0.0,
                          output={"scope": scope})

    meta = {"symbols": ["AAPL", "MSFT"]}
    assert scope_note([pred("AAPL", 1, "symbol"), pred("AAPL", 5, "symbol")], meta) is None
    note = scope_note([pred("AAPL", 1, "symbol"), pred("AAPL", 5, "pooled")], meta)
    assert "horizon(s) 5" in note and "did not beat the pooled one" in note
    assert "no model of its own" in scope_note([pred("NEWCO", 1, "pooled")], meta)
    cells = [{"symbol": "A", "horizon": 1, "dm_pvalue": 0.01, "rmse_ratio": 0.98,
              "coverage_80": 0.79},
             {"symbol": "B", "horizon": 20, "dm_pvalue": 0.01, "rmse_ratio": 0.99999,
              "coverage_80": 0.686}]  # significant but negligible: not a win
    assert pooled_verdict(cells) == ("On unseen symbols the pooled model beat the random walk "
                                     "significantly in 1 of 2 cells; its 80% interval covered "
                                     "as little as 68.6% (B, h=20).")
