#!/usr/bin/env python
"""Bench: the CPU django-prometheus adds to one trigger request, without a profiler's distortion.

``bench/trigger_profile.py --profile`` counts what the instrumentation does per ``POST /v1/orders/{id}/sync-omie``
(new order): about 26 ``labels()`` lookups, 19 counter increments and 12 histogram observations (the request
and response counters, the latency histograms, and a counter plus a histogram per SQL query through the
database wrapper). This repeats exactly that work on metrics of the same shape and reports the CPU time per
request, in prometheus-client's single-process mode and in the multiprocess mode gunicorn uses
(``PROMETHEUS_MULTIPROC_DIR``, values in memory-mapped files).

    python bench/metrics_request_cost.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

N = 20_000


def _measure() -> float:
    from prometheus_client import Counter, Histogram

    counter = Counter("bench_requests", "bench", ["method", "view", "status"])
    histogram = Histogram("bench_latency_seconds", "bench", ["view", "method"])
    started = time.process_time()
    for _ in range(N):
        for _ in range(14):
            counter.labels("POST", "order-sync", "202").inc()
        for _ in range(12):
            histogram.labels("order-sync", "POST").observe(0.01)
        for _ in range(5):
            counter.labels("POST", "order-sync", "200").inc()
    return (time.process_time() - started) / N * 1e6


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(f"{_measure():.1f}")
        return 0
    for mode in ("single-process", "multiprocess"):
        env = dict(os.environ)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with tempfile.TemporaryDirectory() as directory:
            if mode == "multiprocess":
                env["PROMETHEUS_MULTIPROC_DIR"] = directory
            out = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True).stdout
        print(f"{mode}: {out.strip()} µs CPU per trigger request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
