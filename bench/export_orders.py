#!/usr/bin/env python
"""Bench: "Exportar" on the admin's order list, 100,000 orders, written by a real Celery worker.

Fills its own database (<name>_bench_export) with the admin bench's data (bench/admin_data.py:
100,000 orders in a realistic mix of states and their invoices), starts one real ``celery worker``
(concurrency 1) on it, then for each case asks for the export through the admin's own URL as a
``Financeiro`` user (in-process test client), waits for the job to finish, and reports: rows, the
time from the click to "Pronta", the file size, and the worker's peak RSS (its pool process,
sampled every 50 ms) against its RSS before the export. Then opens the file (openpyxl read-only /
the csv module) and checks that its data rows equal the filter's count.

    eval "$(python scripts/devstack.py env 2>/dev/null)"
    flock /tmp/blu-reliability.lock python bench/export_orders.py --orders 100000

Flat memory means the peak does not grow with the row count (10k, 50k, 100k rows below).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.processes import url_with_path

CASES = [
    ("PJ scheduled (~20k)", "billing_status__exact=SCHEDULED", "xlsx"),
    ("NF emitida (~50k)", "billing_status__exact=ISSUED", "xlsx"),
    ("all orders (100k)", "", "xlsx"),
    ("all orders (100k)", "", "csv"),
]


def _ensure_database(base_db: str, name: str, *, fresh: bool) -> None:
    import psycopg

    with psycopg.connect(url_with_path(base_db, "/postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


class PeakRss:
    """Samples the RSS of a process tree (the worker and its pool) in a thread; peak of the pool children."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def children_rss(self) -> int:
        total = 0
        for child in self.root.children(recursive=True):
            try:
                total = max(total, child.memory_info().rss)
            except Exception:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.children_rss())
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _count_file(path: Path, file_format: str) -> int:
    if file_format == "csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            return sum(1 for _ in csv.reader(f, delimiter=";")) - 1
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True)) - 1
    workbook.close()
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--redis-db", type=int, default=13, help="a Redis database no other process uses")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    args = parser.parse_args()

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_name = urlsplit(base_db).path.lstrip("/") + "_bench_export"
    _ensure_database(base_db, db_name, fresh=args.fresh)
    redis_url = url_with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"/{args.redis_db}")
    exports_root = ROOT / "var" / "bench_exports"
    os.environ.update(
        DATABASE_URL=url_with_path(base_db, "/" + db_name), REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.django.base", DJANGO_DEBUG="false", DJANGO_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING",
        DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789",
        EXPORT_ASYNC_THRESHOLD="1",  # every case through the worker, whatever --orders (what this bench measures)
        DJANGO_STATIC_ROOT=str(ROOT / "var" / "bench_static"), EXPORTS_ROOT=str(exports_root), DJANGO_ALLOWED_HOSTS="testserver",
    )

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    import redis
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    redis.Redis.from_url(redis_url).flushdb()
    from bench.admin_data import bench_orders_fill

    started = time.perf_counter()
    created = bench_orders_fill(total=args.orders)
    if created:
        print(f"filled {created} orders in {time.perf_counter() - started:.1f} s")
    return _measure(exports_root)


def _measure(exports_root: Path) -> int:
    import subprocess

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from billing.models import ExportJob
    from orders.models import Order

    user, _ = get_user_model().objects.get_or_create(username="bench-financeiro", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Financeiro"))
    client = Client()
    client.force_login(user)

    log = open(ROOT / "var" / "bench-export-worker.log", "wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-Q", "exports", "--concurrency", "1",
         "--without-gossip", "--without-mingle", "-n", f"bench-export-{os.getpid()}@%h"],
        cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    failures = 0
    try:
        time.sleep(8)  # the worker boots and forks its pool process
        sampler = PeakRss(worker.pid)
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"orders={Order.objects.count()} cpus={os.cpu_count()} load={load}")
        print(f"{'case':24} {'fmt':4} {'rows':>7} {'seconds':>8} {'MB file':>8} {'RSS before':>11} {'RSS peak':>9} check")
        for label, query, file_format in CASES:
            before = sampler.children_rss()
            expected = Order.objects.filter(**dict([query.split("=")])).count() if query else Order.objects.count()
            with PeakRss(worker.pid) as peak:
                t0 = time.perf_counter()
                response = client.get(f"/admin/orders/order/exportar/?{query}&formato={file_format}")
                job = ExportJob.objects.order_by("-id").first()
                if response.status_code != 302 or job is None:
                    print(f"{label}: HTTP {response.status_code} (expected the task path)")
                    failures += 1
                    continue
                while job.status in ("PENDING", "RUNNING"):
                    time.sleep(0.2)
                    job.refresh_from_db()
                elapsed = time.perf_counter() - t0
            path = exports_root / job.file_path if job.file_path else None
            rows = _count_file(path, file_format) if path and path.is_file() else -1
            ok = job.status == "DONE" and rows == expected == job.rows_done
            failures += not ok
            size = path.stat().st_size / 1e6 if path and path.is_file() else 0
            print(f"{label:24} {file_format:4} {rows:>7} {elapsed:>8.1f} {size:>8.1f} {before / 1e6:>9.0f}MB {peak.peak / 1e6:>7.0f}MB "
                  f"{'ok' if ok else f'FAIL ({job.status}, expected {expected}, job {job.rows_done}) {job.error}'}")
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(30)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
