"""What the Patterns page shows, as tables, figures and sentences: the chart's detections
and nearest levels, the latest bar's CNN scores, the edge summary, the breakout model's
walk-forward figures, the latest breakout and the stored track record. Pure functions of
:mod:`core.patterns` results and the breakout artifact's metadata."""

from __future__ import annotations

import pandas as pd

from core.display import Bar, Metric
from core.patterns.rules import PATTERNS

NAN = float("nan")
#: patterns drawn on the chart by default: doji are frequent (~14% of bars) and hidden
DEFAULT_SHOWN = [p for p in PATTERNS if p != "doji"]
#: the edge table's columns shown first (of :func:`core.patterns.edge.edge_display`)
EDGE_COLUMNS = ["Direction", "Occurrences", "Return 1b [%]", "Return 5b [%]", "95% CI 5b [%]",
                "Base 5b [%]", "Hit 5b [%]", "Base hit 5b [%]", "Return 10b [%]", "Verdict"]
#: most recent breakouts of the track record shown
TRACK_RECORD_ROWS = 200


def chart_bars(n_bars: int) -> tuple[int, int, int]:
    """(minimum, maximum, default) bars on the chart for a history of ``n_bars`` (>= 60):
    60, at most 1,500, 250 by default."""
    return 60, min(1500, n_bars), min(250, n_bars)


def chart_window(frame: pd.DataFrame, bars: int) -> pd.DataFrame:
    """The last ``bars`` bars of ``frame``: what the chart draws."""
    return frame.tail(bars)


def shown_detections(detections: pd.DataFrame, shown: list[str]) -> pd.DataFrame:
    """The detections (one row per bar and pattern, column ``pattern``) of the chosen
    patterns."""
    return detections[detections["pattern"].isin(shown)]


def nearest_levels(resistance: list[float], support: list[float], frame: pd.DataFrame,
                   n: int = 3) -> tuple[list[float], list[float]]:
    """The ``n`` active resistances just above and supports just below the last close.

    Args:
        resistance, support: active levels [price], ascending.
        frame: OHLCV whose last ``close`` is the reference.
    Returns:
        (resistances above the last close, lowest first; supports below it, highest last).
    """
    last_close = float(frame["close"].iloc[-1])
    return ([r for r in resistance if r > last_close][:n],
            [s for s in support if s < last_close][-n:])


def latest_table(scores: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` best CNN scores of the latest bar for display: pattern (spaces for
    underscores), CNN confidence [%] (1 decimal), threshold [%] (0 decimals), rule fires
    (yes/no); other columns of ``scores`` kept.

    Args:
        scores: :func:`core.patterns.serve.latest_pattern_scores` (``pattern``,
            ``cnn_probability``, ``threshold``, ``rule_hit``), best first.
    """
    view = scores.head(n).copy()
    view["pattern"] = view["pattern"].str.replace("_", " ")
    view["CNN confidence [%]"] = (view.pop("cnn_probability") * 100).round(1)
    view["threshold [%]"] = (view.pop("threshold") * 100).round(0)
    view["rule fires"] = view.pop("rule_hit").map({True: "yes", False: "no"})
    return view


def shown_summary(shown: list[str]) -> str:
    """Which patterns the chart marks, in words: ``"all 15 patterns"``, ``"14 of 15 patterns
    (hidden: doji)"``, ``"2 of 15 patterns: doji, hammer"`` (the shorter list is named, in
    :data:`PATTERNS` order)."""
    hidden = [p for p in PATTERNS if p not in shown]
    n, total = len(PATTERNS) - len(hidden), len(PATTERNS)
    if not hidden:
        return f"all {total} patterns"
    if not n:
        return f"none of the {total} patterns"
    if len(hidden) <= n:
        return f"{n} of {total} patterns (hidden: {', '.join(hidden).replace('_', ' ')})"
    named = [p for p in PATTERNS if p in shown]
    return f"{n} of {total} patterns: {', '.join(named).replace('_', ' ')}"


def confidence_bars(scores: pd.DataFrame) -> list[Bar]:
    """The CNN's confidence [%] in every pattern on the latest bar, highest first, as bars:
    strong where the rule also fires; the text says the percent and ``· rule`` then.

    Args:
        scores: :func:`core.patterns.serve.latest_pattern_scores` (``pattern``,
            ``cnn_probability``, ``rule_hit``).
    """
    s = scores.sort_values("cnn_probability", ascending=False)
    return [Bar(p.replace("_", " "), 100 * v, f"{100 * v:.0f}%" + (" · rule" if r else ""),
                bool(r))
            for p, v, r in zip(s["pattern"], s["cnn_probability"], s["rule_hit"])]


def rule_hits(scores: pd.DataFrame) -> str:
    """The patterns whose rule fires on the latest bar, comma-separated (``"none"``)."""
    hits = scores[scores["rule_hit"]]["pattern"].tolist()
    return ", ".join(h.replace("_", " ") for h in hits) if hits else "none"


def patterns_with_edge(table: pd.DataFrame) -> int:
    """How many patterns have a CI off the base value somewhere: verdicts other than
    ``no measurable edge``, less those with ``too few cases``
    (:func:`core.patterns.edge.edge_table`)."""
    return int((table["verdict"] != "no measurable edge").sum()
               - (table["verdict"] == "too few cases").sum())


def breakout_rule(metadata: dict) -> str:
    """The breakout trade the model scores, e.g. ``+2 ATR target before a −1 ATR stop within
    10 bars`` (from the artifact's ``params``; those defaults when absent)."""
    p = metadata.get("params", {})
    return (f"+{p.get('k_target', 2):g} ATR target before a −{p.get('k_stop', 1):g} ATR stop "
            f"within {p.get('horizon', 10)} bars")


def no_skill_warning(metadata: dict) -> str:
    """Markdown warning that the breakout filter has no out-of-sample skill, with its AUC
    (95% CI), Brier score against the base rate's and the base rate to use instead."""
    m = metadata.get("metrics", {})
    base = metadata.get("base_rate", NAN)
    ci = m.get("auc_ci95", [NAN] * 2)
    return (f"**No skill.** Out of sample (walk-forward, {m.get('n_events', 0)} breakouts) the "
            f"breakout filter's AUC is {m.get('auc', NAN):.2f} [{ci[0]:.2f}, {ci[1]:.2f}] and "
            f"its Brier score {m.get('brier', NAN):.4f} is not better than the base-rate "
            f"forecast ({m.get('brier_base_rate', NAN):.4f}). Treat every breakout as having "
            f"the base-rate chance of about {base:.0%} to reach {breakout_rule(metadata)}. "
            "Model probabilities are not shown as a signal.")


def breakout_metrics(metadata: dict) -> list[Metric]:
    """Four walk-forward figures of the breakout model: success rate of all breakouts and of
    the model-selected ones [%], AUC and Brier skill vs the base rate (NaN when absent)."""
    m = metadata.get("metrics", {})
    return [
        Metric("Breakout success, all [%]", f"{m.get('success_rate_all', NAN) * 100:.1f}"),
        Metric("Model-selected success [%]", f"{m.get('success_rate_selected', NAN) * 100:.1f}",
               help="Breakouts whose walk-forward probability exceeded the base rate."),
        Metric("AUC (walk-forward)", f"{m.get('auc', NAN):.3f}"),
        Metric("Brier skill vs base rate", f"{m.get('brier_skill', NAN):+.3f}"),
    ]


def latest_breakout(events: pd.DataFrame, frame: pd.DataFrame, metadata: dict,
                    version: str) -> str:
    """Markdown line on the last breakout: date, age [bars], direction, level, target and
    stop [price], horizon [bars], risk to the stop [% of price] and the model version.

    Args:
        events: :func:`core.patterns.serve.breakout_events` (at least one row).
        frame: the OHLCV the events come from (for the age).
    Raises:
        IndexError: no events.
    """
    last = events.iloc[-1]
    direction = "UP" if last["direction"] > 0 else "DOWN"
    age = len(frame.loc[events.index[-1]:]) - 1
    risk = abs(last["close"] - last["stop_price"]) / last["close"] * 100
    horizon = metadata.get("params", {}).get("horizon", 10)
    return (f"{events.index[-1]:%Y-%m-%d} ({age} bars ago) · **{direction}** through "
            f"{last['level']:,.2f} · target {last['target_price']:,.2f} · stop "
            f"{last['stop_price']:,.2f} · horizon {horizon} bars · risk {risk:.2f}% of price"
            f" to the stop · model {version}")


def success_metric(events: pd.DataFrame, metadata: dict) -> Metric:
    """The model's P(success) [%] of the last breakout (shown only when it has skill)."""
    return Metric("P(success) [%]", f"{events['probability'].iloc[-1] * 100:.1f}",
                  help=f"P(price reaches {breakout_rule(metadata)}).")


def raw_probability(events: pd.DataFrame, metadata: dict) -> str:
    """``P(success) = p vs base rate b.`` for the last breakout (percent, 1 decimal)."""
    base = metadata.get("base_rate", NAN)
    return f"P(success) = {events['probability'].iloc[-1]:.1%} vs base rate {base:.1%}."


def track_record_table(record: pd.DataFrame) -> pd.DataFrame:
    """The last ``TRACK_RECORD_ROWS`` breakouts of a track record, newest first, for
    display: date (YYYY-MM-DD), level (2 decimals), direction UP/DOWN, success yes/no,
    probability [%] and base rate [%] (1 decimal).

    Args:
        record: :func:`core.patterns.serve.track_record` (non-empty).
    """
    view = record.tail(TRACK_RECORD_ROWS).iloc[::-1].copy()
    view["timestamp"] = view["timestamp"].dt.strftime("%Y-%m-%d")
    view["level"] = view["level"].round(2)
    view["direction"] = view["direction"].map({1: "UP", -1: "DOWN"})
    view["probability [%]"] = (view.pop("probability") * 100).round(1)
    view["base rate [%]"] = (view.pop("base_rate") * 100).round(1)
    view["success"] = view["success"].map({1.0: "yes", 0.0: "no"})
    return view


def track_record_caption(record: pd.DataFrame, symbol: str) -> str:
    """``"<n> breakouts of SYMBOL: success <rate>."`` (rate in percent, 1 decimal)."""
    return f"{len(record)} breakouts of {symbol}: success {record['success'].mean():.1%}."
