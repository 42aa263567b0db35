"""What the Volatility page and ``docs/volatility.md`` show: forecast, cone and evaluation
tables and sentences from computed or stored results (artifact metadata or ``evaluate``).
Nothing here recomputes a forecast."""

from __future__ import annotations

import math

import pandas as pd

from core.display import Metric
from core.predictions import Prediction
from core.volatility.evaluate import MODELS, MODEL_LABELS
from core.volatility.serve import load_model



#: bars of the estimator history drawn on the page (about three years of daily bars)
ESTIMATOR_CHART_BARS = 750


def realised_vol_interval(pred: Prediction, periods_per_year: float
                          ) -> tuple[float, float] | None:
    """The 80 % interval of the realised volatility [fraction, annualised] from a variance
    forecast's bounds: ``sqrt(bound x periods_per_year / horizon)`` (a negative lower bound
    counts as 0); None when the forecast has no interval."""
    if pred.lower is None or pred.upper is None:
        return None
    return (math.sqrt(max(pred.lower, 0) * periods_per_year / pred.horizon),
            math.sqrt(pred.upper * periods_per_year / pred.horizon))


def forecast_metrics(preds: list[Prediction], periods_per_year: float) -> list[Metric]:
    """The page's headline row: the regime of the first forecast, then per horizon the best
    model's volatility forecast [% ann.] with its ML 80 % interval of the realised vol
    (:func:`realised_vol_interval`) under it. Model names are shown literally."""
    reg = preds[0].output.get("regime") if preds else None
    out = [Metric("Regime", (reg or "unknown").upper(),
                  help="21-bar realised vol ranked against the previous 5 years.")]
    for p in preds:
        interval = realised_vol_interval(p, periods_per_year)
        out.append(Metric(
            f"h={p.horizon} · {p.output['best_model']} [% ann.]", f"{p.output['vol_ann']:.1%}",
            None if interval is None else
            f"ML 80% interval of realised: {interval[0]:.1%} – {interval[1]:.1%}",
            "Variance of the summed log return over the horizon, annualised. Interval: 80 % "
            "range of the realised vol from the ML quantiles."))
    return out


def models_table(preds: list[Prediction]) -> list[dict]:
    """One row per horizon and model of the volatility forecasts: ``horizon [bars]``,
    ``model``, ``variance (sum over horizon)`` [fraction²], ``Volatility [% ann.]`` (2
    decimals) and ``best`` (the model the forecast serves)."""
    rows = []
    for p in preds:
        for m, v in p.output["models"].items():
            rows.append({"horizon [bars]": p.horizon, "model": m,
                         "variance (sum over horizon)": v["variance"],
                         "Volatility [% ann.]": round(v["vol_ann"] * 100, 2),
                         "best": m == p.output["best_model"]})
    return rows


def vix_comparison(vix: pd.Series, realised: pd.Series | None, start, end
                   ) -> tuple[pd.Series, pd.Series | None]:
    """^VIX closes within [start, end] and the realised vol from the first of them on (both
    as given, realised None stays None)."""
    vix = vix[(vix.index >= start) & (vix.index <= end)]
    if realised is not None and not vix.empty:
        realised = realised[realised.index >= vix.index[0]]
    return vix, realised


def cone_table(cone: pd.DataFrame) -> pd.DataFrame:
    """The volatility cone (rows: windows [bars]; columns: quantiles, fractions) in percent,
    2 decimals, index named ``window [bars]``."""
    return (cone * 100).round(2).rename_axis("window [bars]")


def estimators_for_chart(estimates: pd.DataFrame) -> pd.DataFrame:
    """The last ``ESTIMATOR_CHART_BARS`` rows of the estimator history."""
    return estimates.tail(ESTIMATOR_CHART_BARS)


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


def evaluation_display(ev: dict, horizon: int) -> pd.DataFrame:
    """:func:`evaluation_table` for the page: ``In MCS`` as ``"✓"`` or ``""``."""
    table = evaluation_table(ev, horizon)
    table["In MCS"] = table["In MCS"].map({True: "✓", False: ""})
    return table


def evaluated_symbol(ev_by_symbol: dict, symbol: str, fallback: str = "^GSPC") -> str:
    """The symbol whose stored evaluation the page shows: ``symbol`` when it was evaluated,
    else ``fallback``."""
    return symbol if symbol in ev_by_symbol else fallback


def evaluation_caption(symbol: str, ev: dict, horizon: int) -> str:
    """Markdown line naming the evaluation's symbol, horizon, test period and protocol."""
    sc = ev["results"][str(horizon)]["primary"]
    return (f"**{symbol}, h = {horizon}**: rolling out-of-sample {sc['test_start']} .. "
            f"{sc['test_end']}, n = {sc['n_test']}, refit every 21 bars; target = sum of "
            "squared log returns over the horizon. Baseline: GARCH(1,1). ✓ = in arch's 90 % "
            "Model Confidence Set.")


def ml_verdict(ev: dict, horizon: int) -> str:
    """One sentence: does the ML model beat GARCH(1,1) on QLIKE (ratio < 1) at ``horizon``,
    and how often its 80 % interval covered the realised variance."""
    sc = ev["results"][str(horizon)]["primary"]
    ml = sc["models"]["ml"]["qlike_ratio"]
    cov = sc["interval"]["coverage"]
    verdict = "beats" if ml < 1 else "does not beat"
    return (f"The ML model {verdict} GARCH(1,1) here (QLIKE ratio {ml:.3f}); its 80 % "
            f"interval covered {cov:.0%} of outcomes.")


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
