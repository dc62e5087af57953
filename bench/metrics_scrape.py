#!/usr/bin/env python
"""Bench: the cost of a Prometheus scrape of ``/metrics`` and of the business snapshot, on 100,000 orders.

Fills its own database (``<name>_bench_metrics``) with N orders in the admin bench's realistic mix of
states and one invoice per order that reached emission (bench/admin_data.py), writes some counters, a
paused Omie method and periodic-task heartbeats to Redis, then measures with production settings
(``DEBUG`` off):

- the snapshot (``backoffice.tasks.metrics_snapshot``'s work, done by a worker every 30 s): ms per run;
- the scrape: ``GET /metrics`` with the bearer token through Django's test client (the whole view:
  middleware, auth, the process's own metrics and the collectors reading Redis): ms and SQL queries.

Median and max of ``--runs`` timed runs after one warm-up. Target: a scrape < 50 ms.

    eval "$(python scripts/devstack.py env 2>/dev/null)"   # or DATABASE_URL / REDIS_URL of your own
    python bench/metrics_scrape.py --orders 100000 --runs 30 --redis-db 13

Uses its own database (rebuilt when the order count differs or with --fresh) and the Redis database you
name (flushed at the start).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.admin_order_list import _ensure_database
from testsupport.processes import url_with_path

TOKEN = "bench-metrics-token-0123456789abcdef"


def _stats(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):.1f} ms, max {max(samples):.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--redis-db", type=int, default=13, help="a Redis database no other process uses (flushed)")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    args = parser.parse_args()

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_name = urlsplit(base_db).path.lstrip("/") + "_bench_metrics"
    _ensure_database(base_db, db_name, fresh=args.fresh)
    redis_url = url_with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"/{args.redis_db}")
    os.environ.update(
        DATABASE_URL=url_with_path(base_db, "/" + db_name), REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.django.base", DJANGO_DEBUG="false", METRICS_TOKEN=TOKEN,
        DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789", DJANGO_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING",
        DJANGO_ALLOWED_HOSTS="testserver",
    )

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from backoffice.metrics.collectors import REDIS_COUNTERS
    from backoffice.metrics.snapshot import domain_snapshot_write
    from bench.admin_data import bench_orders_fill
    from common.metrics.counters import counter_add
    from common.metrics.periodic_runs import on_task_end, on_task_start, periodic_entries
    from integrations.omie.calls import ALL_CALLS
    from integrations.omie.throttle import get_redis, get_throttle

    started = time.perf_counter()
    created = bench_orders_fill(total=args.orders)
    if created:
        print(f"filled {created} orders in {time.perf_counter() - started:.1f} s")
    client_redis = get_redis()
    client_redis.flushdb()
    for name, (_help, labels) in REDIS_COUNTERS.items():
        for call in ALL_CALLS:
            counter_add(name, {label: call if label == "method" else "ok" for label in labels})
    get_throttle().pause("FaturarOS", seconds=600, reason="banned")
    for task in periodic_entries():
        on_task_start(task, "bench")
        on_task_end(task, "bench", ok=True)

    snapshot_ms: list[float] = []
    for i in range(min(args.runs, 10) + 1):
        t0 = time.perf_counter()
        series = domain_snapshot_write(client=client_redis)
        if i:
            snapshot_ms.append((time.perf_counter() - t0) * 1000)
    print(f"snapshot ({series} series, {args.orders} orders): {_stats(snapshot_ms)}")

    client = Client()
    scrape_ms: list[float] = []
    size = 0
    for i in range(args.runs + 1):
        t0 = time.perf_counter()
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, response.status_code
        size = len(response.content)
        if i:
            scrape_ms.append(elapsed)
    with CaptureQueriesContext(connection) as queries:
        client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    print(f"scrape GET /metrics ({size} bytes, {len(queries)} SQL queries): {_stats(scrape_ms)}")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    return 0 if statistics.median(scrape_ms) < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
