"""Evaluation tables from stored results (artifact metadata or ``evaluate``), for the page
and ``docs/volatility.md``. Nothing here recomputes a forecast."""

from __future__ import annotations

import pandas as pd

from core.volatility.evaluation import MODEL_LABELS, MODELS


def evaluation_table(ev: dict, horizon: int, target: str = "primary") -> pd.DataFrame:
    """One symbol/horizon as a table: Model, QLIKE, QLIKE vs GARCH(1,1), MSE, MZ R²,
    DM p vs GARCH, In MCS (90 %). ``ev``: one symbol's ``evaluate`` result (keys may be str).
    Raises KeyError when the horizon was not evaluated."""
    res = ev["results"].get(str(horizon)) or ev["results"][horizon]
    sc = res[target]
    rows = []
    for m in MODELS:
        v = sc["models"][m]
        rows.append({"Model": MODEL_LABELS[m], "QLIKE": v["qlike"],
                     "QLIKE / GARCH(1,1)": v["qlike_ratio"], "MSE": v["mse"],
                     "MZ R²": v["mz_r2"], "DM p vs GARCH": v["dm_pvalue_vs_garch"],
                     "In MCS": m in sc["mcs_members"]})
    return pd.DataFrame(rows)


def markdown(ev_by_symbol: dict, horizons=(1, 5, 21), target: str = "primary") -> str:
    """Markdown tables (one per symbol and horizon) with n_test, test period and coverage."""
    out = []
    for sym, ev in ev_by_symbol.items():
        for h in horizons:
            res = ev["results"].get(str(h)) or ev["results"][h]
            sc = res[target]
            t = evaluation_table(ev, h, target)
            cov = sc["interval"]
            out.append(f"#### {sym}, h = {h} ({sc['test_start']} .. {sc['test_end']}, "
                       f"n_test = {sc['n_test']})\n")
            out.append("| Model | QLIKE | vs GARCH(1,1) | MSE | MZ R² | DM p vs GARCH | MCS |")
            out.append("|---|---:|---:|---:|---:|---:|:-:|")
            for _, r in t.iterrows():
                p = r["DM p vs GARCH"]
                name = f"**{r['Model']}**" if r["Model"] == MODEL_LABELS[sc["best"]] else r["Model"]
                out.append(f"| {name} | {r['QLIKE']:.4f} | {r['QLIKE / GARCH(1,1)']:.3f} | "
                           f"{r['MSE']:.3e} | {r['MZ R²']:.3f} | "
                           f"{'—' if p != p else f'{p:.3f}'} | {'✓' if r['In MCS'] else ''} |")
            if target == "primary":
                out.append(f"\nML 80 % interval coverage: {cov['coverage']:.3f} "
                           f"(below {cov['below']:.3f}, above {cov['above']:.3f}).\n")
            else:
                out.append("")
    return "\n".join(out)


def summary_rows(ev_by_symbol: dict, horizons=(1, 5, 21)) -> pd.DataFrame:
    """Compact QLIKE-ratio (vs GARCH(1,1)) table: one row per symbol/horizon."""
    rows = []
    for sym, ev in ev_by_symbol.items():
        for h in horizons:
            sc = (ev["results"].get(str(h)) or ev["results"][h])["primary"]
            row = {"symbol": sym, "h": h, "n_test": sc["n_test"]}
            row.update({m: sc["models"][m]["qlike_ratio"] for m in MODELS})
            row["best"] = sc["best"]
            row["mcs"] = " ".join(sc["mcs_members"])
            row["ml_cov80"] = sc["interval"]["coverage"]
            rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    """Print the stored evaluation of the active artifact as markdown
    (``python -m core.volatility.report``)."""
    from core.volatility.serve import load_model

    art = load_model()
    if art is None:
        print("No volatility artifact: run `quantdesk train volatility` first.")
        return
    ev = art.metadata["evaluation"]
    print(f"Artifact volatility/{art.version}\n")
    print("### Summary: QLIKE relative to GARCH(1,1) (primary target)\n")
    s = summary_rows(ev)
    print("| " + " | ".join(s.columns) + " |")
    print("|" + "---|" * len(s.columns))
    for _, r in s.iterrows():
        print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                                for v in r.tolist()) + " |")
    print("\n### Primary target: sum of squared close-to-close log returns\n")
    print(markdown(ev))
    print("\n### Secondary target: sum of Parkinson range variances\n")
    print(markdown(ev, target="range"))


if __name__ == "__main__":
    main()
