"""Locust user of the HTTP API load benchmark (``benchmarks/bench_api_load.py`` runs it
headless in a subprocess, so gevent's monkey-patching never enters the benchmark process).

Each user posts the same warm request, ``POST /predict/forecast`` for one bundled symbol
(``QD_LOCUST_SYMBOL``, default AAPL; interval 1d), and sends the next one as soon as the
answer arrives (closed loop, no think time) unless ``QD_LOCUST_WAIT_S`` [s] sets a pause.
A request counts as failed unless it answers 200 with at least one prediction.
"""

from __future__ import annotations

import json
import os

from locust import FastHttpUser, constant, task

BODY = json.dumps({"symbol": os.environ.get("QD_LOCUST_SYMBOL", "AAPL"), "interval": "1d"})
HEADERS = {"Content-Type": "application/json"}


class ForecastUser(FastHttpUser):
    wait_time = constant(float(os.environ.get("QD_LOCUST_WAIT_S", "0")))

    @task
    def forecast(self) -> None:
        with self.client.post("/predict/forecast", data=BODY, headers=HEADERS,
                              catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}: {(r.text or '')[:200]}")
            # a substring check, not json.loads: the client's CPU is shared with the server
            elif b'"predictions":[{' not in (r.content or b""):
                r.failure("answer without predictions")
