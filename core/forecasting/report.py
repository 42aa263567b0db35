"""Markdown tables of walk-forward results (docs/forecast.md, README)."""

from __future__ import annotations


def _f(v, fmt="{:.4f}") -> str:
    return "n/a" if v is None or v != v else fmt.format(v)


def markdown_table(results: list[dict]) -> str:
    """One row per symbol x horizon: ensemble vs raw members vs naive, direction vs always-up,
    IC, DM p-value, interval coverage."""
    head = ("| symbol | h | n_test | ensemble RMSE ratio | raw ens. | XGB | LGBM | RF | "
            "ens. MAE ratio | dir. acc (95% CI) | always-up | IC ens. (raw) | DM p | "
            "cov80 | cov95 | mean shrink |\n|" + "---|" * 16)
    rows = [head]
    for r in results:
        e, raw, m = r["ensemble"], r["ensemble_raw"], r["members"]
        lo, hi = e["directional_accuracy_ci95"]
        rows.append(
            f"| {r['symbol']} | {r['horizon']} | {r['n_test']} | {_f(e['rmse_ratio'])} | "
            f"{_f(raw['rmse_ratio'])} | {_f(m['xgboost']['rmse_ratio'])} | "
            f"{_f(m['lightgbm']['rmse_ratio'])} | {_f(m['random_forest']['rmse_ratio'])} | "
            f"{_f(e['mae_ratio'])} | {100 * e['directional_accuracy']:.1f}% "
            f"({100 * lo:.1f}-{100 * hi:.1f}) | "
            f"{100 * r['baselines']['always_up']['directional_accuracy']:.1f}% | "
            f"{_f(e['ic'], '{:.3f}')} ({_f(raw['ic'], '{:.3f}')}) | {_f(e['dm_pvalue'], '{:.2f}')} | "
            f"{100 * r['coverage_80']:.1f}% | {100 * r['coverage_95']:.1f}% | "
            f"{_f(r['mean_shrink'], '{:.4f}')} |")
    return "\n".join(rows)


def members_table(results: list[dict]) -> str:
    """One row per symbol x horizon x model (three raw members, raw ensemble, shipped
    ensemble): RMSE and MAE ratio vs the zero-return forecast, directional accuracy with its
    95% Wilson CI (effective n = n / horizon), Spearman IC, DM p-value vs naive."""
    rows = ["| symbol | h | model | RMSE ratio | MAE ratio | dir. acc (95% CI) | IC | DM p |",
            "|---|---|---|---|---|---|---|---|"]
    names = (("xgboost", "XGBoost"), ("lightgbm", "LightGBM"), ("random_forest", "RandomForest"),
             ("ensemble_raw", "raw ensemble"), ("ensemble", "**shipped ensemble**"))
    for r in results:
        for key, label in names:
            m = r["members"][key] if key in r["members"] else r[key]
            lo, hi = m["directional_accuracy_ci95"]
            rows.append(
                f"| {r['symbol']} | {r['horizon']} | {label} | {_f(m['rmse_ratio'])} | "
                f"{_f(m['mae_ratio'])} | {100 * m['directional_accuracy']:.1f}% "
                f"({100 * lo:.1f}-{100 * hi:.1f}) | {_f(m['ic'], '{:.3f}')} | "
                f"{_f(m['dm_pvalue'], '{:.2f}')} |")
    return "\n".join(rows)
