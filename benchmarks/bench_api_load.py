"""HTTP API load benchmark (issue 16): warm ``POST /predict/forecast`` under Locust at 10
and 50 concurrent users, on loopback.

Starts ``quantdesk serve-api`` (uvicorn, one worker) on a free loopback port with a private
temporary data dir, ``QUANTDESK_OFFLINE=1`` and ``HF_HUB_OFFLINE=1``, and the per-client
rate limit off through its documented setting (``QUANTDESK_API_RATE_PER_MINUTE=0``, only for
this server: every Locust user shares one address, which the default limit would throttle).
It warms the route (the first answer loads the model; then a short Locust run at the most
users, after which the "start" memory is read), then runs Locust headless in a
subprocess (``benchmarks/locustfile.py``; gevent's monkey-patching stays out of this
process) once per user count for a fixed duration, every user in a closed loop (next
request as soon as the answer arrives). Statistics are reset once all users are running.

Prints per user count: p50 / p95 / p99 latency [ms] (Locust rounds them: to 1 ms below
100 ms, to 10 ms below 1 s), requests per second and the error rate; and the server's
resident memory [MB] after warm-up, at the end and its peak (sampled every 0.5 s). Targets
from the issue: p95 <= 50 ms at 10 users, no errors at 50 users, memory flat.

``python -m benchmarks api_load`` runs 20 s per user count; ``python -m
benchmarks.bench_api_load --quick`` (or ``QD_BENCH_API_QUICK=1``) 5 s;
``QD_BENCH_API_SECONDS`` sets the duration, ``QD_LOCUST_WAIT_S`` a think time [s] per user.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks.timing import free_port, serve, stop_server

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
USERS = (10, 50)
SECONDS, QUICK_SECONDS = 20, 5
SYMBOL = "AAPL"
P95_TARGET_MS = 50.0  # at 10 users
WARMUP_REQUESTS = 30
WARMUP_LOAD_S = 5  # Locust warm-up at the most users before "start" [s]


def _env(data_dir: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QUANTDESK_OFFLINE="1", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", QUANTDESK_DATA_DIR=str(data_dir),
               QUANTDESK_API_RATE_PER_MINUTE="0")
    env.pop("DATABASE_URL", None)
    return env


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` [MB] (psutil, else /proc/PID/status VmRSS).

    Raises:
        RuntimeError: the process is gone. OSError: /proc cannot be read.
    """
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return psutil.Process(pid).memory_info().rss / 2**20
        except psutil.Error as err:
            raise RuntimeError(f"process {pid}: {err}") from None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no VmRSS for process {pid}")


def _post(url: str, body: dict, timeout: float = 120) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def start_server(env: dict, log: Path) -> tuple[str, subprocess.Popen]:
    """``quantdesk serve-api`` on a free loopback port; returns (base URL, process) once
    ``/openapi.json`` answers (at most 60 s)."""
    port = free_port()
    return serve([sys.executable, "-m", "core.cli", "serve-api", "--host", "127.0.0.1",
                  "--port", str(port), "--log-level", "warning"], port, "/openapi.json",
                 env, log)


def _num(v: str) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def run_locust(url: str, users: int, seconds: int, prefix: Path) -> dict:
    """One headless Locust run; the ``Aggregated`` row of its CSV as numbers: requests,
    failures, p50/p95/p99 [ms], rps [1/s], and the first failure message if any."""
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
           "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", url,
           "--csv", str(prefix), "--reset-stats", "--only-summary", "--stop-timeout", "5",
           "--loglevel", "WARNING"]
    env = dict(os.environ, QD_LOCUST_SYMBOL=SYMBOL)
    log = prefix.with_suffix(".log")
    with open(log, "w") as fh:
        res = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
                             timeout=seconds + 60, check=False)  # the CSV tells what happened
    stats = prefix.parent / f"{prefix.name}_stats.csv"
    if not stats.exists():
        raise RuntimeError(f"locust wrote no stats (exit {res.returncode}): "
                           f"{log.read_text()[-2000:]}")
    with open(stats) as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    out = {"users": users, "seconds": seconds, "requests": int(row["Request Count"]),
           "failures": int(row["Failure Count"]), "p50": _num(row["50%"]),
           "p95": _num(row["95%"]), "p99": _num(row["99%"]), "rps": _num(row["Requests/s"]),
           "failure": None}
    fails = prefix.parent / f"{prefix.name}_failures.csv"
    if out["failures"] and fails.exists():
        with open(fails) as fh:
            first = next(csv.DictReader(fh), None)
        out["failure"] = first and f"{first['Error']} (x{first['Occurrences']})"
    return out


def measure(seconds: int, users=USERS) -> dict:
    """Start the server, warm it (sequential requests, then :data:`WARMUP_LOAD_S` s of
    Locust at the most users), run Locust per user count; ``{"runs": [...], "rss_mb":
    {"before_load", "start", "end", "max"}}`` [MB] (``before_load``: after the sequential
    warm-up; each run also has ``rss_end_mb``, the server's RSS when it ended). The server
    and the temporary data dir are removed after."""
    tmp = Path(tempfile.mkdtemp(prefix="qd-bench-api-"))
    url, proc = start_server(_env(tmp / "data"), tmp / "server.log")
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            try:
                samples.append(rss_mb(proc.pid))
            except (OSError, RuntimeError):  # the server is gone; the run says so
                return

    try:
        for _ in range(WARMUP_REQUESTS):
            status, body = _post(f"{url}/predict/forecast", {"symbol": SYMBOL, "interval": "1d"})
            if status != 200:
                raise RuntimeError(f"warm-up answered {status}: {body}")
        before_load = rss_mb(proc.pid)
        # a short run at the most users first: connection buffers, worker threads and the
        # allocator's arenas grow once under concurrency; "start" is measured after that
        run_locust(url, max(users), WARMUP_LOAD_S, tmp / "locust_warmup")
        start = rss_mb(proc.pid)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        runs = []
        for n in users:
            runs.append(run_locust(url, n, seconds, tmp / f"locust_{n}u"))
            runs[-1]["rss_end_mb"] = rss_mb(proc.pid)
        stop.set()
        sampler.join(5)
        end = rss_mb(proc.pid)
        return {"runs": runs, "rss_mb": {"before_load": before_load, "start": start,
                                         "end": end, "max": max(samples + [start, end])}}
    finally:
        stop.set()
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:.0f}"


def table(res: dict) -> str:
    """The README's markdown table of :func:`measure`'s result."""
    rss = res["rss_mb"]
    out = [("| users | duration [s] | p50 [ms] | p95 [ms] | p99 [ms] | req/s | errors "
            "| server RSS start / end [MB] |"), "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in res["runs"]:
        out.append(f"| {r['users']} | {r['seconds']} | {_ms(r['p50'])} | {_ms(r['p95'])} | "
                   f"{_ms(r['p99'])} | {r['rps']:.0f} | {r['failures']} / {r['requests']} | "
                   f"{rss['start']:.0f} / {rss['end']:.0f} |")
    return "\n".join(out)


def run(quick: bool | None = None) -> None:
    if quick is None:
        quick = os.environ.get("QD_BENCH_API_QUICK", "") not in ("", "0")
    seconds = int(os.environ.get("QD_BENCH_API_SECONDS", QUICK_SECONDS if quick else SECONDS))
    res = measure(seconds)
    for r in res["runs"]:
        rate = r["failures"] / r["requests"] if r["requests"] else float("nan")
        verdict = ""
        if r["users"] == 10:
            verdict = (f"target p95 <= {P95_TARGET_MS:g} ms "
                       f"{'OK' if r['p95'] is not None and r['p95'] <= P95_TARGET_MS else 'MISS'}")
        elif r["users"] == 50:
            verdict = f"target 0 errors {'OK' if r['failures'] == 0 and r['requests'] else 'MISS'}"
        print(f"   POST /predict/forecast {r['users']:>3} users {r['seconds']} s: p50 "
              f"{_ms(r['p50'])} ms  p95 {_ms(r['p95'])} ms  p99 {_ms(r['p99'])} ms  "
              f"{r['rps']:.1f} req/s  errors {r['failures']}/{r['requests']} ({rate:.2%})  "
              f"{verdict}")
        print(f"      server RSS after this run: {r['rss_end_mb']:.1f} MB")
        if r["failure"]:
            print(f"      first failure: {r['failure']}")
    rss = res["rss_mb"]
    print(f"   server RSS: {rss['before_load']:.1f} MB before load; after the load warm-up "
          f"(start) {rss['start']:.1f} MB, end {rss['end']:.1f} MB, peak {rss['max']:.1f} MB "
          f"({100 * (rss['end'] / rss['start'] - 1):+.1f}% start to end)")
    print(table(res))


if __name__ == "__main__":
    run(quick="--quick" in sys.argv[1:] or None)
