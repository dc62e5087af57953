#!/usr/bin/env python
"""Bench: the Bubble writeback outbox (docs/contract.md#bubble-writeback) against the fake Bubble served by gunicorn.

Measures (1) the cost writeback_enqueue adds to a caller's transaction (upsert + version stamp +
the on-commit publish to Redis), (2) delivery throughput with N concurrent deliverers, and (3) how
much coalescing saves (changes decided vs PATCHes sent). Results go in docs/benchmarks.md.

    eval "$(python scripts/devstack.py env 2>/dev/null)"   # or DATABASE_URL / REDIS_URL of your own
    python bench/bubble_writeback.py --redis-db 12 --things 200 --changes 10 --deliverers 4

Uses its own database (<name>_bench_bubble) and the Redis database you name (one nobody else uses:
the enqueue publishes delivery tasks to its "bubble" queue, which the bench deletes at the end).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.processes import free_port, url_with_path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-db", type=int, required=True, help="a Redis database no other process uses")
    parser.add_argument("--things", type=int, default=200)
    parser.add_argument("--changes", type=int, default=10, help="changes per thing")
    parser.add_argument("--deliverers", type=int, default=4)
    parser.add_argument("--live", action="store_true", help="deliver while enqueueing (default: a backlog, then delivery)")
    args = parser.parse_args()

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_name = urlsplit(base_db).path.lstrip("/") + "_bench_bubble"
    redis_url = url_with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"/{args.redis_db}")
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url_with_path(base_db, "/" + db_name), REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.django.base", SANDBOX="true", SANDBOX_FORCE="true", DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789",
        BUBBLE_BASE_URL=f"http://127.0.0.1:{port}/sandbox/bubble/api/1.1", BUBBLE_API_TOKEN="bench-token-0123456789",
        DJANGO_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING",
    )
    os.environ.update(env)

    import psycopg

    with psycopg.connect(url_with_path(base_db, "/postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone():
            conn.execute(f'CREATE DATABASE "{db_name}"')

    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from integrations.bubble.models import BubbleWriteback
    from integrations.bubble.services import writeback_deliver_due, writeback_enqueue
    from sandbox.fake_bubble.models import FakePatch, FakeThing
    from sandbox.fake_bubble.services import control_reset, thing_put

    BubbleWriteback.objects.all().delete()
    FakePatch.objects.all().delete()
    FakeThing.objects.all().delete()
    control_reset()
    things = [f"{1700000000000 + i}x{100000000000000000 + i}" for i in range(args.things)]
    for bubble_id in things:
        thing_put(type_name="pedido", bubble_id=bubble_id, fields={"cliente": "c", "valor_total": 1})

    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        done_enqueueing = threading.Event()

        def deliverer() -> None:
            try:
                while True:
                    finished = done_enqueueing.is_set()
                    if not writeback_deliver_due(time_budget=5.0).delivered:
                        if finished:
                            return
                        time.sleep(0.01)
            finally:
                connection.close()

        threads = [threading.Thread(target=deliverer) for _ in range(args.deliverers)]
        if args.live:
            started = time.perf_counter()
            for thread in threads:
                thread.start()

        # (1) enqueue cost, round-robin over things as real traffic would be (after a warm-up request:
        # gunicorn workers import Django on their first request)
        import requests

        requests.get(env["BUBBLE_BASE_URL"] + "/obj/pedido/warmup", timeout=30)
        latencies = []
        for change in range(args.changes):
            for bubble_id in things:
                call_started = time.perf_counter()
                with transaction.atomic():
                    writeback_enqueue(thing="order", bubble_id=bubble_id,
                                      fields={"status_faturamento": f"s{change}", f"k{change % 3}": change})
                latencies.append((time.perf_counter() - call_started) * 1000)
        decided = len(latencies)
        latencies.sort()

        # (2) delivery (in --live mode it ran all along)
        done_enqueueing.set()
        if not args.live:
            started = time.perf_counter()
            for thread in threads:
                thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        patches = FakePatch.objects.filter(status_code=204).count()
        left = BubbleWriteback.objects.exclude(status="DONE").count()
        final_ok = all(
            t.data.get("status_faturamento") == f"s{args.changes - 1}" for t in FakeThing.objects.filter(type_name="pedido")
        )
    finally:
        web.terminate()
        web.wait(10)
        import redis

        redis.Redis.from_url(redis_url).delete("bubble")

    mode = "live (delivering while enqueueing)" if args.live else "backlog (enqueue all, then deliver)"
    print(f"things={args.things} changes/thing={args.changes} deliverers={args.deliverers} cpus={os.cpu_count()} mode={mode}")
    print(f"enqueue (own transaction, incl. on-commit publish): p50 {statistics.median(latencies):.2f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)]:.2f} ms, max {latencies[-1]:.2f} ms over {decided} changes")
    print(f"delivery: {patches} PATCHes in {elapsed:.2f} s = {patches / elapsed:.0f} PATCH/s; "
          f"{decided / elapsed:.0f} changes/s delivered; coalescing {decided / max(patches, 1):.1f} changes per PATCH")
    print(f"left undelivered: {left}; every thing ends with the newest value: {final_ok}")
    return 0 if left == 0 and final_ok else 1


if __name__ == "__main__":
    sys.exit(main())
