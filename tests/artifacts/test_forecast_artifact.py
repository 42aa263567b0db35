"""The committed forecast artifact's stored walk-forward results (issue 3, "do no harm")."""

import math

from core.data import BUNDLED_SYMBOLS
from core.forecasting.evaluate import verdict
from core.registry import list_versions, read_metadata


def _walk_forward():
    # newest version carrying stored results (the committed one unless retrained with them)
    for v in reversed(list_versions("forecast")):
        wf = read_metadata("forecast", v).get("walk_forward")
        if wf:
            return wf
    raise AssertionError("no forecast version with stored walk-forward results")


def test_every_bundled_cell_is_evaluated_and_does_no_harm():
    wf = _walk_forward()
    for sym in BUNDLED_SYMBOLS:
        for h in ("1", "5", "20"):
            r = wf[sym][h]
            assert r["n_test"] > 1000
            assert round(r["rmse_ratio"], 4) <= 1.0, (sym, h, r["rmse_ratio"])
            raw_ic = r["ensemble_raw"]["ic"]
            if raw_ic > 0:
                assert r["ic"] > 0, (sym, h, r["ic"], raw_ic)
            for cov, nominal in (("coverage_80", 0.80), ("coverage_95", 0.95)):
                assert abs(r[cov] - nominal) <= 0.03, (sym, h, cov, r[cov])


def test_verdict_separates_negligible_from_real_skill():
    base = {"horizon": 5}
    assert verdict(base | {"rmse_ratio": 0.99999, "dm_pvalue": 0.01}).startswith(
        "No practical difference")
    assert verdict(base | {"rmse_ratio": 0.997, "dm_pvalue": 0.01}).startswith("Significant skill")
    assert verdict(base | {"rmse_ratio": 1.01, "dm_pvalue": 0.01}).startswith("Significantly worse")
    assert "DM p = 0.41" in verdict(base | {"rmse_ratio": 0.999, "dm_pvalue": 0.41})
    assert "n/a" in verdict(base | {"rmse_ratio": 1.0, "dm_pvalue": math.nan})
