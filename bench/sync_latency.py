#!/usr/bin/env python
"""Bench: trigger → "Sincronizado" arriving at Bubble (docs/contract.md#sync target: p95 < 3 s).

Starts the whole path on this machine — gunicorn (the API and the fake Omie, Bubble and BrasilAPI)
and a Celery worker — sets the fakes' latency to realistic values (Omie 300 ms, Bubble 150 ms,
BrasilAPI 200 ms by default), seeds N orders (one customer each, a share of them PJ), triggers them
at a fixed rate through the API, and measures from each trigger's send time to the moment the fake
Bubble applied the PATCH that set ``status_pedido`` to "Sincronizado". Results go in docs/benchmarks.md.

    eval "$(python scripts/devstack.py env 2>/dev/null)"   # or DATABASE_URL / REDIS_URL of your own
    python bench/sync_latency.py --redis-db 11 --orders 200 --rate 5

Uses its own database (<name>_bench_sync) and the Redis database you name (one nobody else uses:
it is flushed at the start and at the end).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "faults"))  # syncflow: the seed the fault scenarios use

from common.queues import ALL_QUEUES, ALL_QUEUES_CSV, OMIE_WRITES
from testsupport.processes import free_port, url_with_path


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-db", type=int, required=True, help="a Redis database no other process uses")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="triggers per second")
    parser.add_argument("--pj-share", type=float, default=0.2, help="share of PJ orders (BrasilAPI lookup + company writeback)")
    parser.add_argument("--omie-ms", type=int, default=300)
    parser.add_argument("--bubble-ms", type=int, default=150)
    parser.add_argument("--brasilapi-ms", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8, help="Celery worker processes")
    parser.add_argument("--omie-concurrency", type=int, default=0,
                        help="run the omie queue on its own worker with this many processes (docs/deploying.md); 0: one worker")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--max-floor-ratio", type=float, default=1.1,
                        help="target: the last order's latency within this multiple of the FIFO floor (exit 2 when missed)")
    args = parser.parse_args()
    # SIGTERM (timeout, Ctrl-C in a runner) unwinds through the finally that stops gunicorn and the worker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_name = urlsplit(base_db).path.lstrip("/") + "_bench_sync"
    redis_url = url_with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"/{args.redis_db}")
    port = free_port()
    sandbox = f"http://127.0.0.1:{port}/sandbox"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url_with_path(base_db, "/" + db_name), REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.django.base", SANDBOX="true", SANDBOX_FORCE="true", DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789", API_TOKEN_RATE="1000000/min",
        SANDBOX_BASE_URL=f"http://127.0.0.1:{port}", OMIE_BASE_URL=f"{sandbox}/omie/api/v1/",
        OMIE_APP_KEY="bench-app-key", OMIE_APP_SECRET="bench-app-secret",
        BUBBLE_BASE_URL=f"{sandbox}/bubble/api/1.1", BUBBLE_API_TOKEN="bench-token-0123456789",
        BRASILAPI_BASE_URL=f"{sandbox}/brasilapi/api", DJANGO_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING",
        DJANGO_CONN_MAX_AGE="0",
    )
    os.environ.update(env)

    import psycopg
    import redis

    with psycopg.connect(url_with_path(base_db, "/postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone():
            conn.execute(f'CREATE DATABASE "{db_name}"')
    redis.Redis.from_url(redis_url).flushdb()

    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from common.api.auth import service_group_add

    call_command("migrate", verbosity=0)
    from syncflow import sync_seed

    from common.api.models import IdempotencyRecord
    from integrations.bubble.models import BubbleWriteback
    from integrations.omie.models import OmieCall
    from orders.models import ActionLog, Order
    from sandbox.fake_brasilapi import services as fake_brasilapi
    from sandbox.fake_bubble import services as fake_bubble
    from sandbox.fake_bubble.models import FakePatch
    from sandbox.fake_omie.models import FakeOmieCall

    # A clean slate (the action log is append-only by trigger: TRUNCATE is the only way to empty it).
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {ActionLog._meta.db_table}, {Order._meta.db_table} RESTART IDENTITY CASCADE")
    for model in (IdempotencyRecord, BubbleWriteback, OmieCall):
        model.objects.all().delete()
    pj_every = round(1 / args.pj_share) if args.pj_share else 0
    order_ids = sync_seed(args.orders, pj_every=pj_every, time_scale=1.0, latency_ms=args.omie_ms)
    fake_bubble.control_set(latency_ms=args.bubble_ms)
    fake_brasilapi.control_set(latency_ms=args.brasilapi_ms)
    user, _ = get_user_model().objects.get_or_create(username="bench-bubble", defaults={"is_superuser": True, "is_staff": True})
    token = str(AccessToken.for_user(service_group_add(user)))
    connection.close()

    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers),
         "--threads", "8", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    pools = [(ALL_QUEUES_CSV, args.concurrency)]
    if args.omie_concurrency:
        pools = [(",".join(q for q in ALL_QUEUES if q != OMIE_WRITES), args.concurrency), (OMIE_WRITES, args.omie_concurrency)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "--concurrency", str(concurrency),
             "--without-gossip", "--without-mingle", "-n", f"bench-{port}-{i}@%h"],
            cwd=ROOT, start_new_session=True,
            # BENCH_WORKER_LOG=INFO shows every task run and retry (text logs on stderr).
            env={**env, "DJANGO_LOG_LEVEL": os.environ.get("BENCH_WORKER_LOG", "WARNING"), "LOG_FORMAT": "text"},
        )
        for i, (queues, concurrency) in enumerate(pools)
    ]
    sent_at: dict[str, float] = {}
    load_before = os.getloadavg()
    statuses: list[int | str] = []
    try:
        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if session.get(f"http://127.0.0.1:{port}/health/live", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        # gunicorn workers import Django on their first request
        for _ in range(args.web_workers * 2):
            session.get(f"http://127.0.0.1:{port}/v1/orders/{order_ids[0]}", timeout=30)
        time.sleep(3)  # the Celery worker finishes starting

        lock = threading.Lock()

        def trigger(order_id: str) -> None:
            # Timed from the first try; a try that timed out on a saturated machine is sent again (the
            # trigger is create-or-get), instead of being lost and leaving the wait below to time out.
            sent = time.time()
            status: int | str = "no answer"
            for _ in range(3):
                try:
                    status = session.post(f"http://127.0.0.1:{port}/v1/orders/{order_id}/sync-omie", json={},
                                          timeout=30).status_code
                    break
                except requests.RequestException as exc:
                    status = type(exc).__name__
            with lock:
                statuses.append(status)
                if isinstance(status, int) and status < 300:
                    sent_at[order_id] = sent

        started = time.time()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i, order_id in enumerate(order_ids):
                time.sleep(max(0.0, started + i / args.rate - time.time()))
                pool.submit(trigger, order_id)
        send_span = time.time() - started

        deadline = time.time() + args.timeout
        synced_label = "Sincronizado"
        arrived: dict[str, datetime] = {}
        while time.time() < deadline and len(arrived) < len(sent_at):
            for patch in FakePatch.objects.filter(type_name="pedido", status_code=204).exclude(bubble_id__in=list(arrived)):
                if (patch.body or {}).get("status_pedido") == synced_label:
                    arrived.setdefault(patch.bubble_id, patch.received_at)
            connection.close()
            time.sleep(0.5)
        synced_local = {o.bubble_id: o.synced_at for o in Order.objects.filter(synced_at__isnull=False)}
        latencies = sorted(arrived[o].timestamp() - sent_at[o] for o in arrived if o in sent_at)
        local = sorted(synced_local[o].timestamp() - sent_at[o] for o in synced_local if o in sent_at)
        failed = Order.objects.filter(sync_status="FAILED").count()
        omie_calls = {c: FakeOmieCall.objects.filter(call=c, http_status=200).count() for c in ("UpsertCliente", "IncluirOS")}
        # The order Omie received the OS in, against the order Bubble triggered them in.
        trigger_rank = {b: i for i, b in enumerate(Order.objects.order_by("sync_started_at", "pk").values_list("bubble_id", flat=True))}
        sent = [trigger_rank[i] for i in FakeOmieCall.objects.filter(call="IncluirOS", http_status=200).order_by("id")
                .values_list("ident", flat=True) if i in trigger_rank]
        displaced = [abs(rank - position) for position, rank in enumerate(sent)]
        refused = FakeOmieCall.objects.exclude(http_status=200).count()
        write_ms = list(OmieCall.objects.filter(call="IncluirOS", outcome="ok").values_list("duration_ms", flat=True))
    finally:
        for proc in (*workers, web):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in (*workers, web):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        redis.Redis.from_url(redis_url).flushdb()

    print(f"orders={args.orders} rate={args.rate}/s (sent in {send_span:.1f} s) pj_share={args.pj_share} "
          f"latency: omie={args.omie_ms} ms bubble={args.bubble_ms} ms brasilapi={args.brasilapi_ms} ms "
          f"workers={' + '.join(f'{q}×{c}' for q, c in pools)} cpus={os.cpu_count()}")
    print(f"trigger responses: {sorted(set(map(str, statuses)))}; failed syncs: {failed}; "
          f"Omie OK calls {omie_calls}; Omie answers other than 200: {refused}")
    if displaced:
        print(f"IncluirOS in trigger order: {sum(d == 0 for d in displaced)} of {len(displaced)} at their place "
              f"(furthest {max(displaced)} places away)")
    print(f"load average: {load_before[0]:.2f} at start, {os.getloadavg()[0]:.2f} at the end (1 min)")
    for name, values in (("trigger → 'Sincronizado' in Bubble", latencies), ("trigger → SYNCED locally", local)):
        if values:
            print(f"{name}: n={len(values)} p50 {statistics.median(values):.2f} s  p95 {_percentile(values, 0.95):.2f} s  "
                  f"p99 {_percentile(values, 0.99):.2f} s  max {values[-1]:.2f} s")
    if latencies and write_ms:
        # Omie takes one IncluirOS at a time: the i-th order cannot have its OS before i calls of the
        # mean duration have gone by. Even with perfect scheduling its wait is i × (call − 1/rate).
        call = statistics.mean(write_ms) / 1000
        floor = sorted(latencies[0] + i * max(0.0, call - 1 / args.rate) for i in range(len(order_ids)))
        print(f"floor with one IncluirOS at a time (mean call {call * 1000:.0f} ms, capacity {1 / call:.2f}/s): "
              f"p50 ≥ {statistics.median(floor):.2f} s  p95 ≥ {_percentile(floor, 0.95):.2f} s  max ≥ {floor[-1]:.2f} s")
        ratio = latencies[-1] / floor[-1]
        print(f"max / floor: {ratio:.2f} (target ≤ {args.max_floor_ratio})")
    if len(latencies) != len(order_ids) or failed:
        return 1
    return 2 if latencies and write_ms and ratio > args.max_floor_ratio else 0


if __name__ == "__main__":
    sys.exit(main())
