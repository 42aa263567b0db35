"""Volatility benchmarks (issue 4): all forecasters for one symbol, warm (<= 100 ms), and the
full rolling evaluation of one symbol and horizon (<= 30 s). ``python -m benchmarks volatility``."""

from __future__ import annotations

import os
import time

from benchmarks.timing import median_ms, report


def run() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from core.data import load_ohlcv
    from core.volatility.evaluation import evaluate
    from core.volatility.serve import forecasts_from_artifact, load_model

    md = load_ohlcv("^GSPC")
    art = load_model()
    if art is None:
        print("   no volatility artifact: run `quantdesk train volatility` first")
    else:
        def all_forecasters():
            return forecasts_from_artifact(md.frame, "^GSPC", art, (1, 5, 21))

        report("all 5 forecasters x 3 horizons, ^GSPC, warm", median_ms(all_forecasters, 10),
               100.0)
    t0 = time.perf_counter()
    evaluate(md.frame, "^GSPC", (1,))
    report("rolling evaluation ^GSPC h=1 (5 models, MCS)", time.perf_counter() - t0, 30.0, "s")
