"""Classification metrics for 3-class sentiment (accuracy, macro-F1, confusion matrix).

Macro-F1 is the unweighted mean of per-class F1 (as in Araci 2019, Table 2). The accuracy
interval is the Wilson score interval (Wilson 1927) at 95%. The majority baseline predicts the
most frequent label *of the evaluated set itself* (an optimistic baseline, as used for the
0.61 reference on PhraseBank all-agree).
"""

from __future__ import annotations

import math

import numpy as np

from core.sentiment.labels import LABELS


def confusion(y_true, y_pred) -> list[list[int]]:
    """3x3 counts, rows = true label, columns = predicted, LABELS order."""
    idx = {lab: i for i, lab in enumerate(LABELS)}
    m = np.zeros((3, 3), dtype=int)
    for t, p in zip(y_true, y_pred):
        m[idx[t], idx[p]] += 1
    return m.tolist()


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (95% for z=1.96)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (c - h, c + h)


def classification_report(y_true, y_pred) -> dict:
    """accuracy, accuracy_ci95 (Wilson), macro_f1, per-class f1, confusion, n."""
    y_true, y_pred = list(y_true), list(y_pred)
    n = len(y_true)
    cm = np.array(confusion(y_true, y_pred))
    correct = int(np.trace(cm))
    f1 = {}
    for i, lab in enumerate(LABELS):
        tp, fp, fn = cm[i, i], cm[:, i].sum() - cm[i, i], cm[i, :].sum() - cm[i, i]
        f1[lab] = float(2 * tp / (2 * tp + fp + fn)) if (2 * tp + fp + fn) else 0.0
    lo, hi = wilson(correct, n)
    return {"n": n, "accuracy": correct / n if n else float("nan"),
            "accuracy_ci95": [lo, hi], "macro_f1": float(np.mean(list(f1.values()))),
            "f1": f1, "confusion": cm.tolist()}


def majority_label(y) -> str:
    """Most frequent label (ties -> LABELS order)."""
    y = list(y)
    return max(LABELS, key=lambda lab: (y.count(lab), -LABELS.index(lab)))
