"""Tables of forecast results: markdown for docs/forecast.md and the README, display frames
for the Forecasts page."""

from __future__ import annotations

import pandas as pd

from core.display import csv_export
from core.evaluation import beats_baseline
from core.forecasting.evaluate import verdict


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


def pooled_table(results: list[dict]) -> str:
    """Leave-symbols-out table (results of
    :func:`core.forecasting.pooled.evaluate_leave_symbols_out`): one row per fold x test
    symbol x horizon with the pooled model's and the per-symbol model's RMSE ratio vs the
    random walk on the same test bars, pooled / per-symbol RMSE and its DM p-value, the
    pooled model's IC, DM p vs the random walk, 80% coverage and mean shrink."""
    rows = ["| fold | test symbol | trained on | h | n_test | pooled RMSE ratio | per-symbol "
            "RMSE ratio | pooled / per-symbol (DM p) | pooled IC | pooled DM p vs RW | "
            "pooled cov80 | pooled mean shrink |", "|" + "---|" * 12]
    for r in results:
        ps, pv = r["per_symbol"], r["pooled_vs_symbol"]
        rows.append(
            f"| {r['fold']} | {r['symbol']} | {', '.join(r['train_symbols'])} | {r['horizon']} "
            f"| {r['n_test']} | {_f(r['rmse_ratio'])} | {_f(ps['rmse_ratio'])} | "
            f"{_f(pv['rmse_ratio'])} ({_f(pv['dm_pvalue'], '{:.2f}')}) | "
            f"{_f(r['ic'], '{:.3f}')} | {_f(r['dm_pvalue'], '{:.2f}')} | "
            f"{100 * r['coverage_80']:.1f}% | {_f(r['mean_shrink'], '{:.4f}')} |")
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


# ---------------------------------------------------------------- the Forecasts page

#: columns of the forecast table the page shows (of :func:`core.forecasting.serve.forecast_table`)
PAGE_COLUMNS = ["horizon", "model", "Price", "Return [%]", "ensemble-lo-80", "ensemble-hi-80",
                "ensemble-lo-95", "ensemble-hi-95", "confidence"]


def page_table(table: pd.DataFrame) -> pd.DataFrame:
    """The forecast table's displayed columns (``PAGE_COLUMNS``), all rows."""
    return table[PAGE_COLUMNS]


def table_csv(table: pd.DataFrame) -> bytes:
    """The whole forecast table as CSV bytes (UTF-8, no index) for download."""
    return csv_export(table)


def _by_horizon(rows: dict) -> list[tuple[int, dict]]:
    return [(int(h), r) for h, r in sorted(rows.items(), key=lambda t: int(t[0]))]


def verdicts(rows: dict) -> list[tuple[bool, str]]:
    """One (significant skill?, sentence) per horizon, shortest first.

    Args:
        rows: one symbol's walk-forward results, ``{horizon (str or int): result}`` with
            the keys :func:`core.forecasting.evaluate.verdict` reads.
    """
    out = []
    for _, r in _by_horizon(rows):
        sentence = verdict(r)
        out.append(("Significant skill" in sentence, sentence))
    return out


def skill_frame(rows: dict) -> pd.DataFrame:
    """Walk-forward skill per horizon and model (members, raw and shipped ensemble, and the
    naive zero-return forecast): RMSE and MAE ratio vs naive, directional accuracy [%] beside
    always-up [%], Spearman IC and the DM p-value vs naive (NaN where not applicable).

    Args:
        rows: one symbol's walk-forward results ``{horizon: result}`` (``members``,
            ``ensemble_raw``, ``ensemble``, ``baselines``).
    """
    recs = []
    for h, r in _by_horizon(rows):
        up = 100 * r["baselines"]["always_up"]["directional_accuracy"]
        for name, m in [*r["members"].items(), ("ensemble (raw)", r["ensemble_raw"]),
                        ("ensemble (shipped)", r["ensemble"])]:
            recs.append({"Horizon [bars]": h, "Model": name,
                         "RMSE ratio vs naive": m["rmse_ratio"],
                         "MAE ratio vs naive": m["mae_ratio"],
                         "Dir. accuracy [%]": 100 * m["directional_accuracy"],
                         "Always-up [%]": up, "IC (Spearman)": m["ic"],
                         "DM p vs naive": m["dm_pvalue"]})
        recs.append({"Horizon [bars]": h, "Model": "naive (zero return)",
                     "RMSE ratio vs naive": 1.0, "MAE ratio vs naive": 1.0, "Always-up [%]": up})
    return pd.DataFrame(recs)


def coverage_frame(rows: dict) -> pd.DataFrame:
    """Conformal interval coverage per horizon: 80% and 95% coverage [%] and test bars."""
    return pd.DataFrame([{"Horizon [bars]": h, "Coverage 80% [%]": 100 * r["coverage_80"],
                          "Coverage 95% [%]": 100 * r["coverage_95"], "Test bars": r["n_test"]}
                         for h, r in _by_horizon(rows)])


def feature_importance(metadata: dict, symbol: str) -> dict[str, dict]:
    """The artifact's feature importance of ``symbol`` by horizon (str keys, shortest first),
    empty when the version stores none."""
    imp = metadata.get("feature_importance", {}).get(symbol, {})
    return {h: imp[h] for h in sorted(imp, key=int)}


def pooled_frame(results: list[dict]) -> pd.DataFrame:
    """The leave-symbols-out results (``metadata["leave_symbols_out"]``, see
    :func:`core.forecasting.pooled.evaluate_leave_symbols_out`) as the Forecasts page shows
    them: one row per test symbol x horizon, the pooled and the per-symbol model's RMSE ratio
    against the random walk on the same unseen bars, and the pooled 80% coverage [%]."""
    rows = [{"Test symbol": r["symbol"], "Fold": r["fold"], "h [bars]": r["horizon"],
             "Trained on": ", ".join(r.get("train_symbols", [])),
             "Pooled RMSE ratio vs RW": r["rmse_ratio"],
             "Per-symbol RMSE ratio vs RW": (r.get("per_symbol") or {}).get("rmse_ratio"),
             "Pooled coverage 80 [%]": 100 * r["coverage_80"]} for r in results]
    return pd.DataFrame(rows)


def scope_note(preds, metadata: dict) -> str | None:
    """What the page says when the pooled model served some horizons of ``preds`` (None
    when the symbol's own model served every horizon)."""
    pooled = sorted({int(p.horizon) for p in preds if (p.output or {}).get("scope") == "pooled"})
    if not pooled:
        return None
    pooled_on = list(metadata.get("pooled_symbols") or metadata.get("symbols", []))
    trained = ", ".join(pooled_on[:8]) or "the training symbols"
    if len(pooled_on) > 8:  # a universe-wide version: name a few
        trained += f" and {len(pooled_on) - 8} more"
    own = preds[0].symbol in metadata.get("symbols", [])
    why = ("its own model did not beat the pooled one on its validation bars there" if own
           else "it has no model of its own")
    return (f"{preds[0].symbol}: the pooled model (trained on {trained} together) serves "
            f"horizon(s) {', '.join(map(str, pooled))} because {why}.")


def pooled_verdict(results: list[dict]) -> str:
    """One sentence on the leave-symbols-out results: how many cells beat the random walk
    (:func:`core.evaluation.beats_baseline`: significant and of practical size), and the
    worst 80% coverage."""
    wins = sum(1 for r in results if beats_baseline(r.get("dm_pvalue"), r["rmse_ratio"]))
    worst = min(results, key=lambda r: r["coverage_80"])
    return (f"On unseen symbols the pooled model beat the random walk significantly in {wins} "
            f"of {len(results)} cells; its 80% interval covered as little as "
            f"{100 * worst['coverage_80']:.1f}% ({worst['symbol']}, h={worst['horizon']}).")
