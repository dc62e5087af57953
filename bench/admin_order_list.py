#!/usr/bin/env python
"""Bench: the admin's order list (docs/backoffice.md) on 100,000 orders.

Fills its own database with N orders in a realistic mix of states (a dozen template rows copied
with INSERT … SELECT generate_series, so it takes seconds, and new model columns need no change
here), then renders the changelist in-process with Django's test client as a logged-in staff user
of the ``Ops`` group (not a superuser: the permission checks are part of the cost), for the default
page and the filters and searches ops use. Prints queries and milliseconds per URL over several
runs (after one warm-up). Target: a bounded number of queries and < 1 s per page.

    eval "$(python scripts/devstack.py env 2>/dev/null)"   # or DATABASE_URL / REDIS_URL of your own
    python bench/admin_order_list.py --orders 100000 --runs 7

Uses its own database (<name>_bench_admin; rebuilt when the order count differs or with --fresh)
and the Redis database you name (sessions are in PostgreSQL; nothing is written to Redis).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.processes import url_with_path


def _ensure_database(base_db: str, name: str, *, fresh: bool) -> None:
    import psycopg

    with psycopg.connect(url_with_path(base_db, "/postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7, help="timed renders per URL (after one warm-up)")
    parser.add_argument("--redis-db", type=int, default=14, help="a Redis database no other process uses")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the slowest query per URL")
    args = parser.parse_args()

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_name = urlsplit(base_db).path.lstrip("/") + "_bench_admin"
    _ensure_database(base_db, db_name, fresh=args.fresh)
    redis_url = url_with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"/{args.redis_db}")
    os.environ.update(
        DATABASE_URL=url_with_path(base_db, "/" + db_name), REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.django.base", DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789", DJANGO_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING",
        # Production settings serve hashed static files from a manifest: collect them, as a deploy does.
        DJANGO_STATIC_ROOT=str(ROOT / "var" / "bench_static"),
    )

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from bench.admin_data import bench_orders_fill, bench_user

    started = time.perf_counter()
    created = bench_orders_fill(total=args.orders)
    if created:
        print(f"filled {created} orders in {time.perf_counter() - started:.1f} s")
    user = bench_user()
    return _measure(user=user, runs=args.runs, explain=args.explain, total=args.orders)


def _urls(total: int) -> list[tuple[str, str]]:
    from backoffice.admin.orders import OrderAdmin
    from bench.admin_data import sample_values

    sample = sample_values()
    return [
        ("default page (newest first)", "/admin/orders/order/"),
        # Page 1,000, or the last page of a smaller table (a page past the end is the admin's "invalid page").
        ("page 1,000 (deep paging)", f"/admin/orders/order/?p={max(1, min(1000, total // 50)) - 1}"),
        ("filter: sync failed", "/admin/orders/order/?sync_status__exact=FAILED"),
        ("filter: billing failed + PF", "/admin/orders/order/?billing_status__exact=FAILED&customer_kind__exact=PF"),
        ("filter: on hold (any reason)", "/admin/orders/order/?retido=sim"),
        ("filter: scheduled for the next run", "/admin/orders/order/?previsto=proximo"),
        ("filter: stuck in emission > 24 h", "/admin/orders/order/?emissao=parada"),
        ("sort: amount, descending", f"/admin/orders/order/?o=-{OrderAdmin.list_display.index('amount_display')}"),
        ("dashboard (admin index)", "/admin/"),
        ("search: customer name", "/admin/orders/order/?q=" + sample["name"]),
        ("search: CPF as typed (with dots)", "/admin/orders/order/?q=" + sample["document_masked"]),
        ("search: Bubble id", "/admin/orders/order/?q=" + sample["bubble_id"]),
        ("search: OS number", "/admin/orders/order/?q=" + sample["os_number"]),
        *([("search: NF number", "/admin/orders/order/?q=" + sample["nf_number"])] if sample.get("nf_number") else []),
        ("search: rare name (trigram)", "/admin/orders/order/?q=" + sample["rare_name"]),
        ("search: no match", "/admin/orders/order/?q=Zzyzx%20Quaresma"),
        ("order page", f"/admin/orders/order/{sample['order_id']}/change/"),
        ("month close (this month)", "/admin/billing/invoice/faturamento-do-mes/"),
    ]


def _result_rows(html: str) -> int:
    if 'id="result_list"' not in html:
        return 0
    return html.split('id="result_list"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr")


def _measure(*, user: object, runs: int, explain: bool, total: int) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"orders={total} runs={runs} cpus={os.cpu_count()} load={load} user={user} (group Ops, not superuser)")
    print(f"{'url':38} {'queries':>7} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8} {'min ms':>8} {'max ms':>8}")
    worst = 0.0
    failures = 0
    for label, url in _urls(total):
        client.get(url)  # warm-up: template loading, plans
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                print(f"{label}: HTTP {response.status_code}")
                failures += 1
                break
        rows = _result_rows(response.content.decode())
        p50 = statistics.median(timings)
        worst = max(worst, max(timings))
        p95 = sorted(timings)[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)]
        print(f"{label:38} {len(ctx.captured_queries):>7} {rows:>5} {p50:>8.1f} {p95:>8.1f} {min(timings):>8.1f} {max(timings):>8.1f}")
        if explain:
            slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + slowest["sql"])
                print("    " + "\n    ".join(r[0] for r in cursor.fetchall()))
    print(f"slowest render: {worst:.1f} ms (target < 1000 ms); load average now {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    # 1: a page failed (the bench is broken or the admin is); 2: measured, but the target was missed.
    return 1 if failures else 2 if worst >= 1000 else 0


if __name__ == "__main__":
    sys.exit(main())
