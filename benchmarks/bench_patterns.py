"""Patterns benchmarks: rule detection, CNN inference, levels, edge table, predict_latest."""

from __future__ import annotations


def run() -> None:
    from benchmarks.timing import median_ms, report
    from core.data import load_ohlcv
    from core.patterns.breakouts import find_levels
    from core.patterns.cnn import load_cnn, windows
    from core.patterns.edge import edge_table
    from core.patterns.rules import detect
    from core.patterns.serve import predict_latest

    md = load_ohlcv("^GSPC")
    f = md.frame  # ~5,000 daily bars
    report(f"detect 15 patterns, {len(f)} bars", median_ms(lambda: detect(f), repeat=10), 100)
    cnn, _ = load_cnn()
    X, _ = windows(f)
    report(f"CNN probabilities, {len(X)} windows", median_ms(lambda: cnn.predict_proba(X),
                                                              repeat=5), 2000)
    report("CNN latest bar (1 window)", median_ms(lambda: cnn.predict_proba(X[-1:]), repeat=20), 20)
    report(f"support/resistance + breakouts, {len(f)} bars", median_ms(lambda: find_levels(f),
                                                                      repeat=5), 500)
    report("edge table (2,000 bootstrap resamples)", median_ms(lambda: edge_table(f), repeat=3),
           3000)
    md_small = type(md)(f.tail(500), md.symbol, md.interval, md.source, md.as_of)
    report("predict_latest (500 bars, both models)", median_ms(lambda: predict_latest(md_small),
                                                               repeat=5), 1000)
