import numpy as np
import pandas as pd

from core.monitoring.drift import drift_table
from core.monitoring.figures import GroupFigures, MonitoringReport
from core.plots.monitoring import (
    accuracy_figure, coverage_figure, drift_figure, mae_figure, reliability_figure, volume_figure,
)


def _group():
    idx = pd.date_range("2020-01-01", periods=5, tz="UTC", name="origin_ts")
    s = pd.DataFrame({"mae": [0.01] * 5, "baseline_mae": [0.012] * 5, "accuracy": [0.5, 0.6, 0.5, 0.4, 0.5],
                      "baseline_accuracy": [0.5] * 5, "coverage": [0.8] * 5}, index=idx)
    return GroupFigures("fc", "v1", "log_return", None, 1, 5, 5, mae=0.01, series=s)


def test_figures_have_model_and_baseline_traces():
    g = _group()
    assert [t.name for t in accuracy_figure(g).data] == ["model", "naive (always up)"]
    fig = mae_figure(g)
    assert fig.data[0].y[0] == 1.0 and "%" in fig.layout.yaxis.title.text  # log return in %
    assert coverage_figure(g).data[0].y[0] == 80.0


def test_empty_inputs_give_a_note_not_an_error():
    g = GroupFigures("fc", "v1", "log_return", None, 1, 0, 0)
    for fig in (accuracy_figure(g), mae_figure(g), coverage_figure(g), reliability_figure(g)):
        assert not fig.data and fig.layout.annotations
    rep = MonitoringReport(pd.Timestamp.now(tz="UTC"), 50, [], pd.DataFrame(columns=["date", "model_name", "n"]), {}, [])
    assert not volume_figure(rep).data
    assert not drift_figure(pd.DataFrame()).data


def test_reliability_and_drift():
    g = GroupFigures("brk", "v1", "probability", "up", 1, 10, 10, brier=0.2, brier_climatology=0.25,
                     reliability=[{"mean_predicted": 0.2, "observed": 0.1, "n": 4},
                                  {"mean_predicted": 0.8, "observed": 0.7, "n": 6}])
    assert list(reliability_figure(g).data[1].x) == [20.0, 80.0]
    rng = np.random.default_rng(0)
    t = drift_table(pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)}),
                    pd.DataFrame({"a": rng.normal(2, 1, 200), "b": rng.normal(size=200)}))
    fig = drift_figure(t)
    assert list(fig.data[0].y)[-1] == "a"  # largest PSI on top
