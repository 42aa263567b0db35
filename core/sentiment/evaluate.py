"""Score a labelled dataset with every active scorer, the ensemble and the majority baseline.

Labels per scorer: VADER ``compound >= 0.05`` positive / ``<= -0.05`` negative (thresholds
from the VADER README), Loughran-McDonald the sign of the polarity, MiniLM head / FinBERT /
ensemble the most probable class. Nothing here fits anything: PhraseBank stays evaluation-only.
"""

from __future__ import annotations

import time

import numpy as np

from core.sentiment.datasets import LabelledText, class_counts
from core.sentiment.labels import LABELS, label_from_score
from core.sentiment.metrics import classification_report, majority_label
from core.sentiment.scorers import TITLES, ScorerSet, load_scorers, raw_scores

LEXICON_THRESHOLDS = {"vader": 0.05, "lm": 0.0}


def scorer_labels(name: str, scorer, texts: list[str], scores: np.ndarray) -> np.ndarray:
    """Labels of one scorer (see module doc)."""
    if name in LEXICON_THRESHOLDS:
        thr = LEXICON_THRESHOLDS[name]
        s = np.asarray(scores)
        out = np.full(len(s), "neutral", dtype=object)
        out[s >= thr if thr else s > 0] = "positive"
        out[s <= -thr if thr else s < 0] = "negative"
        return out
    if hasattr(scorer, "predict_proba"):
        return np.array(LABELS, dtype=object)[scorer.predict_proba(texts).argmax(1)]
    return label_from_score(scores, 0.05)


def evaluate(ds: LabelledText, scorers: ScorerSet | None = None) -> dict:
    """Metrics of every active scorer, the ensemble and the majority baseline on ``ds``.

    Returns:
        dict with ``dataset``, ``n``, ``class_counts``, ``rows`` (list of dicts: ``model``,
        ``title``, accuracy, accuracy_ci95, macro_f1, f1, confusion, seconds,
        texts_per_s) and ``unavailable`` (name -> reason), ``ensemble_scorers``.
    """
    scorers = scorers or load_scorers()
    texts, y = ds.texts, ds.labels
    rows, scores = [], {}
    for name in scorers.names:
        t0 = time.perf_counter()
        sc = scorers.scorers[name]
        if hasattr(sc, "predict_proba"):
            p = sc.predict_proba(texts)
            scores[name] = p  # the stacker takes the three probabilities
            pred = np.array(LABELS, dtype=object)[p.argmax(1)]
        else:
            scores[name] = raw_scores(texts, ScorerSet(scorers={name: sc}))[name]
            pred = scorer_labels(name, sc, texts, scores[name])
        dt = time.perf_counter() - t0
        rows.append({"model": name, "title": TITLES[name], **classification_report(y, pred),
                     "seconds": round(dt, 3), "texts_per_s": round(len(texts) / dt, 1)})
    res = scorers.ensemble.combine(scores)
    rows.append({"model": "ensemble", "title": "Ensemble (" + " + ".join(res.scorers) +
                 (", as is" if res.as_is else ", fitted" if res.fitted
                                             else ", default weights") + ")",
                 **classification_report(y, res.label), "weights": res.weights})
    maj = majority_label(y)
    rows.append({"model": "majority", "title": f"Majority baseline (always {maj})",
                 **classification_report(y, [maj] * len(y))})
    return {"dataset": ds.name, "kind": ds.kind, "n": len(y), "class_counts": class_counts(y),
            "notes": ds.notes, "rows": rows, "ensemble_scorers": res.scorers,
            "unavailable": {s.name: s.detail for s in scorers.status if not s.active}}


def markdown_table(result: dict) -> str:
    """The evaluation as a markdown table (accuracy [95% CI], macro-F1)."""
    lines = [f"**{result['dataset']}** (n = {result['n']:,})", "",
             "| model | accuracy | 95% CI | macro-F1 |", "|---|---|---|---|"]
    for r in result["rows"]:
        lo, hi = r["accuracy_ci95"]
        lines.append(f"| {r['title']} | {r['accuracy']:.3f} | {lo:.3f}–{hi:.3f} | "
                     f"{r['macro_f1']:.3f} |")
    return "\n".join(lines)
