"""The Patterns chart's support/resistance levels: one dashed line per level across the bars
drawn, labelled at its left end, in one trace per side (not a shape and an annotation each,
which Plotly lays out one by one: issue 15)."""

from __future__ import annotations

import pandas as pd

from core.data.bundled import load_bundled
from core.plots.patterns import BEAR, BULL, level_lines, pattern_chart

NO_DETECTIONS = pd.DataFrame(columns=["timestamp", "pattern", "direction", "rule_hit",
                                      "cnn_probability"])


def test_each_level_is_a_labelled_line_across_the_bars_drawn():
    frame = load_bundled("MSFT").tail(250)
    fig = pattern_chart(frame, NO_DETECTIONS, resistance=[30.5, 1234.567], support=[25.25])
    assert not fig.layout.shapes and not fig.layout.annotations
    lines = {t.name: t for t in fig.data if t.name in ("R levels", "S levels")}
    r, s = lines["R levels"], lines["S levels"]
    assert list(r.y) == [30.5, 30.5, None, 1234.567, 1234.567, None]
    assert list(r.text) == ["R 30.50", "", "", "R 1,234.57", "", ""]
    assert list(s.text) == ["S 25.25", "", ""]
    first, last = pd.Timestamp(r.x[0]), pd.Timestamp(r.x[1])
    assert (first, last) == (frame.index[0], frame.index[-1])
    assert r.line.color == BEAR and s.line.color == BULL and r.line.dash == "dash"
    assert r.textposition == "top right" and s.textposition == "bottom right"
    assert r.hoverinfo == "skip" and r.showlegend is False  # the caption explains them


def test_no_levels_no_trace():
    frame = load_bundled("MSFT").tail(60)
    assert level_lines(frame.index, [], "R", BEAR, "top right") is None
    fig = pattern_chart(frame, NO_DETECTIONS)
    assert [t.type for t in fig.data if t.name and t.name.endswith("levels")] == []
