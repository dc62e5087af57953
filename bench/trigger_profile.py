#!/usr/bin/env python
"""In-process cost of the trigger ``POST /v1/orders/{id}/sync-omie``: CPU ms and SQL queries per request.

Runs N requests through Django's own WSGI handler (``config.wsgi.application``, what gunicorn calls) with
the production settings (``config.django.production``, DEBUG off, JSON logs), the headers Bubble and
nginx send (service token, ``X-Forwarded-Proto: https``) and a real PostgreSQL and Redis:

- "new": a fresh Bubble id per request (the 202 path: order insert, outbox row, action log, Celery
  publishes after commit);
- "repeat": ids of orders that exist (the 200 path: read, action log).

For each it prints, per request, the median of ``--rounds`` timed rounds (the kinds alternate, so a
burst of load elsewhere hits both): this process's CPU time (``time.process_time``: much less sensitive
to other load on the machine than wall time, though a busy or throttled core still moves it ±15 %),
the CPU time of the PostgreSQL backend serving the connection (read from ``/proc/<pid>/stat`` when
PostgreSQL runs on this machine; Redis's is not counted), the wall time, and the number of SQL
queries (a separate pass under ``CaptureQueriesContext``, which itself costs CPU).
``--show-sql`` prints the statements of one request of each kind; ``--profile`` adds a cProfile of
each kind, top 25 by cumulative time (wall-clock timer: the PostgreSQL and Redis round trips show as time
in psycopg and redis-py; ``--profile-dump`` keeps the raw profiles).

    eval "$(python scripts/devstack.py env 2>/dev/null)"
    python bench/trigger_profile.py --redis-db 14 [--rounds 5 --requests 500] [--profile] [--show-sql]

Uses its own database (``<name>_trigger_profile``, or ``--db-name``), emptied at the start, and the
Redis database you name (flushed at the start and the end: the published messages land there and no
worker consumes them). Logs go where production sends them (stderr); the trigger writes none on success.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.processes import url_with_path


def _backend_cpu_seconds(pid: int | None) -> float:
    """utime + stime of a local process (the PostgreSQL backend), 0 when it cannot be read."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500, help="requests per kind and round (timed passes)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (the kinds alternate; the median is reported)")
    parser.add_argument("--query-requests", type=int, default=50, help="requests per kind in the query-counting pass")
    parser.add_argument("--redis-db", type=int, default=14, help="a Redis database no other process uses (flushed)")
    parser.add_argument("--db-name", help="database to use (created, migrated and emptied); default <name>_trigger_profile")
    parser.add_argument("--profile", action="store_true", help="cProfile each kind, top 25 by cumulative time")
    parser.add_argument("--profile-dump", help="also write each kind's raw profile to <this>.<kind>.prof (for pstats/snakeviz)")
    parser.add_argument("--show-sql", action="store_true", help="print the SQL of one request of each kind")
    args = parser.parse_args()

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_name = args.db_name or urlsplit(base_db).path.lstrip("/") + "_trigger_profile"
    redis_url = url_with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"/{args.redis_db}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.django.production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50), API_TOKEN_RATE="1000000/min",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", DATABASE_URL=url_with_path(base_db, "/" + db_name),
        REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, PAGARME_WEBHOOK_SECRET=secrets.token_hex(16),
        # The events are signed with the v4 HMAC (no JWKS to serve here); rs256's RSA check is one public-key op more.
        PAGARME_WEBHOOK_AUTH="hmac",
        # Never called (no worker runs); production settings only require them to be set.
        PAGARME_SECRET_KEY=f"sk_bench_{secrets.token_hex(16)}", OMIE_APP_KEY="bench-app-key", OMIE_APP_SECRET=secrets.token_hex(16),
        OMIE_SERVICE_ID="2480000001",
        BUBBLE_BASE_URL="http://127.0.0.1:9/api/1.1", BUBBLE_API_TOKEN=secrets.token_hex(16),
    )
    os.environ.pop("SANDBOX", None)
    os.environ.pop("DJANGO_DEBUG", None)

    import psycopg
    import redis

    with psycopg.connect(url_with_path(base_db, "/postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone():
            conn.execute(f'CREATE DATABASE "{db_name}"')
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()

    from config import wsgi  # django.setup() with the production settings

    application = wsgi.application
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from common.api.models import IdempotencyRecord
    from integrations.bubble.models import BubbleWriteback
    from integrations.pagarme.webhooks.models import PagarmeEvent
    from orders.models import ActionLog, Order

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        tables = ", ".join(m._meta.db_table for m in (ActionLog, PagarmeEvent, BubbleWriteback, IdempotencyRecord, Order))
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    existing = [f"1671702337369x{i:018d}" for i in range(1000)]
    Order.objects.bulk_create([Order(bubble_id=bubble_id) for bubble_id in existing])
    get_user_model().objects.get_or_create(username="bench-bubble", defaults={"is_superuser": True, "is_staff": True})
    out = io.StringIO()
    call_command("issue_service_token", "bench-bubble", "--days", "1", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip()

    run_tag = str(int(time.time() * 1000))
    counter = iter(range(10**9))

    def new_id() -> str:
        return f"{run_tag}x{next(counter):018d}"

    repeat_cycle = iter(range(10**9))

    def repeat_id() -> str:
        return existing[next(repeat_cycle) % len(existing)]

    def trigger(bubble_id: str, expected: int) -> None:
        body = b"{}"
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": f"/v1/orders/{bubble_id}/sync-omie", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_FORWARDED_PROTO": "https",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        statuses: list[str] = []
        result = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(result)
        result.close()  # request_finished: what gunicorn does after each answer (connection age checks)
        if not statuses[0].startswith(str(expected)):
            raise SystemExit(f"{bubble_id}: expected {expected}, got {statuses[0]}")

    kinds: dict[str, tuple[Callable[[], str], int]] = {"new": (new_id, 202), "repeat": (repeat_id, 200)}
    for _ in range(20):  # imports, the database and broker connections, caches
        for make_id, expected in kinds.values():
            trigger(make_id(), expected)

    print(f"{args.requests} requests per kind and round, {args.rounds} rounds (kinds alternate; median of the rounds) "
          f"through config.wsgi.application, config.django.production; database {db_name}, broker {redis_url}")
    print("| kind | CPU ms/req (this process) | min–max of the rounds | PostgreSQL backend CPU ms/req | wall ms/req | queries/req |")
    print("|---|---|---|---|---|---|")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_pid = backend if Path(f"/proc/{backend}/stat").exists() else None
    samples: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in kinds}
    for _ in range(args.rounds):
        for kind, (make_id, expected) in kinds.items():
            ids = [make_id() for _ in range(args.requests)]
            db_before, cpu_before, wall_before = _backend_cpu_seconds(backend_pid), time.process_time(), time.perf_counter()
            for bubble_id in ids:
                trigger(bubble_id, expected)
            samples[kind].append((
                (time.process_time() - cpu_before) / args.requests * 1000,
                (_backend_cpu_seconds(backend_pid) - db_before) / args.requests * 1000,
                (time.perf_counter() - wall_before) / args.requests * 1000,
            ))
    for kind, (make_id, expected) in kinds.items():
        cpus, db_cpus, walls = zip(*samples[kind], strict=True)
        cpu, db_cpu, wall = statistics.median(cpus), statistics.median(db_cpus), statistics.median(walls)
        ids = [make_id() for _ in range(args.query_requests)]
        with CaptureQueriesContext(connection) as queries:
            for bubble_id in ids:
                trigger(bubble_id, expected)
        per_request = len(queries.captured_queries) / args.query_requests
        db_text = f"{db_cpu:.2f}" if backend_pid else "n/a (not local)"
        print(f"| {kind} ({expected}) | {cpu:.2f} | {min(cpus):.2f}–{max(cpus):.2f} | {db_text} | {wall:.2f} | {per_request:.1f} |",
              flush=True)

    if args.show_sql:
        for kind, (make_id, expected) in kinds.items():
            with CaptureQueriesContext(connection) as queries:
                trigger(make_id(), expected)
            print(f"\nSQL of one {kind} trigger ({len(queries.captured_queries)} statements):")
            for query in queries.captured_queries:
                print(f"  {query['sql'][:220]}")

    if args.profile or args.profile_dump:
        for kind, (make_id, expected) in kinds.items():
            ids = [make_id() for _ in range(args.requests)]
            profiler = cProfile.Profile()
            profiler.enable()
            for bubble_id in ids:
                trigger(bubble_id, expected)
            profiler.disable()
            if args.profile_dump:
                profiler.dump_stats(f"{args.profile_dump}.{kind}.prof")
            print(f"\ncProfile, {args.requests} {kind} triggers, top 25 by cumulative time:")
            stats = io.StringIO()
            pstats.Stats(profiler, stream=stats).sort_stats("cumulative").print_stats(25)
            print(stats.getvalue())

    queued = sum(broker.llen(q) for q in ("default", "omie", "bubble"))
    print(f"Celery messages published (no worker ran): {queued}")
    broker.flushdb()
    return 0


if __name__ == "__main__":
    sys.exit(main())
