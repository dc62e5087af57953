#!/usr/bin/env python
"""Bench: the trigger and the Pagar.me webhook under load, through gunicorn as production runs it.

Starts gunicorn with the production settings and the flags of docker/start-web (sync workers,
WEB_CONCURRENCY default CPUs + 1, keep-alive, max-requests…) against its own database, then runs wrk against
three endpoints at each concurrency: ``GET /health/live`` (the floor: a Django view and nothing
else), ``POST /v1/orders/{id}/sync-omie`` for new orders (202: insert, outbox row, action log, two
Celery publishes after commit) and for existing ones (200: read + action log), and
``POST /webhooks/pagarme`` with pre-signed events (each sent once). Prints req/s, p50, p99 and the
non-2xx count and the server-side CPU ms per request (gunicorn, PostgreSQL, wrk: ``CpuMeter``) per run,
and checks that every webhook answered 200 is a stored PagarmeEvent row
(and every 202 a stored Order). Exits 1 on a 5xx, a socket error, a lost event or a missing row.

    eval "$(python scripts/devstack.py env 2>/dev/null)"   # or DATABASE_URL / REDIS_URL of your own
    python bench/load_http.py --redis-db 13 --duration 30

No Celery worker runs: the published messages wait in the Redis database you name (flushed at the
start and at the end; use one nobody else uses). wrk runs on the same machine as gunicorn and
PostgreSQL, so it takes CPU from them. Uses its own database (<name>_bench_load).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.processes import free_port, url_with_path

LUA = ROOT / "bench" / "load" / "load.lua"
WORK = ROOT / "var" / "bench_load"
SCENARIOS = ("live", "new", "repeat", "webhook")
LABELS = {
    "live": "GET /health/live",
    "new": "POST sync-omie, new order (202)",
    "repeat": "POST sync-omie, repeat trigger (200)",
    "webhook": "POST /webhooks/pagarme (new event)",
}




def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


class CpuMeter:
    """CPU seconds the server side spends during one wrk run: gunicorn (master, workers, and workers
    replaced meanwhile) and the PostgreSQL backends connected to the bench database, plus wrk (a child of
    this script). CPU time does not depend on what else loads the machine, so per request it is the cost
    that bounds throughput: cores × 1000 / (ms per request). Backends are sampled every 0.5 s (one that
    exits, e.g. at CONN_MAX_AGE, loses at most its last half second); Redis is shared and not counted."""

    def __init__(self, *, web_pid: int, db_name: str) -> None:
        import psutil

        self._psutil = psutil
        self._web = psutil.Process(web_pid)
        self._db_name = db_name
        self._stop = threading.Event()
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}

    def _gunicorn(self) -> float:
        times = self._web.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in self._web.children(recursive=True):
            try:
                child_times = child.cpu_times()
            except self._psutil.Error:
                continue
            total += child_times.user + child_times.system
        return total

    def _sample_backends(self, conn: Any) -> None:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self._db_name]
        ).fetchall()]
        for pid in pids:
            try:
                times = self._psutil.Process(pid).cpu_times()
            except self._psutil.Error:
                continue
            self._first.setdefault(pid, times.user + times.system)
            self._last[pid] = times.user + times.system

    def __enter__(self) -> CpuMeter:
        import psycopg

        self._gunicorn_before = self._gunicorn()
        self._children_before = _children_cpu()
        self._conn = psycopg.connect(url_with_path(os.environ["DATABASE_URL"], "/postgres"), autocommit=True)
        self._sample_backends(self._conn)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample_backends(self._conn)

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample_backends(self._conn)
        self._conn.close()
        self.gunicorn = self._gunicorn() - self._gunicorn_before
        self.postgres = sum(self._last[pid] - self._first[pid] for pid in self._last)
        self.wrk = _children_cpu() - self._children_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def gunicorn_command(*, port: int, access_log: str, overrides: dict[str, str]) -> list[str]:
    """docker/start-web's gunicorn line with its defaults, read from the script itself so the bench runs
    what production runs; only the bind address, the access log's file and ``overrides`` change."""
    text = (ROOT / "docker" / "start-web").read_text()
    line = text[text.index("exec gunicorn"):].replace("\\\n", " ")
    line = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", line.splitlines()[0])
    # The workers default is computed by the script from nproc (CPUs + 1); nproc counts sched_getaffinity.
    if '"$workers"' in line:
        if "$(($(nproc) + 1))" not in text:
            raise RuntimeError("docker/start-web computes its workers default differently; update bench/load_http.py")
        line = line.replace('"$workers"', str(len(os.sched_getaffinity(0)) + 1))
    words = shlex.split(line)[2:]  # after "exec gunicorn": the settings file, the app, then options
    if words[0] == "-c":
        # config/gunicorn.py routes the access log through the project's logging (stdout); the bench
        # counts the access log's lines in a file, so it passes the same line format by hand instead.
        from config.gunicorn import access_log_format

        words = [words[2], "--access-logformat", access_log_format, *words[3:]]
    options: dict[str, str | None] = {}
    i = 1
    while i < len(words):
        takes_value = i + 1 < len(words) and not words[i + 1].startswith("--")
        options[words[i]] = words[i + 1] if takes_value else None
        i += 2 if takes_value else 1
    options.update({"--bind": f"127.0.0.1:{port}", "--access-logfile": access_log, **overrides})
    command = [sys.executable, "-m", "gunicorn", words[0]]
    for name, value in options.items():
        command += [name] if value is None else [name, value]
    return command


def _write_events(path: Path, *, prefix: str, count: int, order_ids: list[str], secret: str) -> None:
    """Signed Pagar.me events, one a line; every third for an order that exists (the rest are kept as
    unmatched: the endpoint stores and answers 200 for both, the task tells them apart later)."""
    from integrations.pagarme.signature import signature_header
    from sandbox.pagarme_events import EVENT_TYPES, pagarme_event_body, pagarme_event_build

    with path.open("w") as out:
        for i in range(count):
            order_id = order_ids[i % len(order_ids)] if i % 3 == 0 else f"1699999999999x{i:018d}"
            event = pagarme_event_build(
                event_type=EVENT_TYPES[i % len(EVENT_TYPES)], bubble_order_id=order_id, amount=Decimal("150.00"),
                event_id=f"{prefix}{i:08d}",
            )
            body = pagarme_event_body(event)
            out.write(f"{signature_header(raw_body=body, secret=secret)}\t{body.decode()}\n")


def _served(access_log: Path, offset: int, path_part: str, status: int) -> int:
    """Answers with ``status`` on a path containing ``path_part`` that gunicorn logged after ``offset``."""
    with access_log.open("rb") as log:
        log.seek(offset)
        return sum(1 for line in log if path_part.encode() in line and f'" {status} '.encode() in line)


def _run_wrk(*, url: str, connections: int, threads: int, duration: int, script_args: list[str]) -> dict:
    command = ["wrk", "--threads", str(threads), "--connections", str(connections), "--duration", f"{duration}s",
               "--timeout", "10s", "--latency", "--script", str(LUA), url, "--", *script_args]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("LOAD_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stdout[-2000:]} {completed.stderr[-2000:]}")
    return json.loads(line.removeprefix("LOAD_RESULT "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-db", type=int, default=13, help="a Redis database no other process uses (flushed)")
    parser.add_argument("--duration", type=int, default=30, help="seconds per wrk run")
    parser.add_argument("--connections", default="16,64", help="wrk connections, comma-separated")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"scenarios to run, of {','.join(SCENARIOS)}")
    parser.add_argument("--web-workers", type=int, help="gunicorn workers (default: docker/start-web's WEB_CONCURRENCY default)")
    parser.add_argument("--web-threads", type=int, help="gunicorn threads per worker (default: start-web's, i.e. sync workers)")
    parser.add_argument("--max-requests", type=int, help="gunicorn --max-requests (default: start-web's)")
    parser.add_argument("--repeat-orders", type=int, default=1000, help="existing orders the repeat trigger cycles through")
    parser.add_argument("--webhook-events", type=int, default=60000, help="pre-signed events per webhook run (never re-sent)")
    args = parser.parse_args()
    scenarios = [s for s in args.only.split(",") if s]
    if unknown := set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    connection_counts = [int(c) for c in args.connections.split(",")]
    # SIGTERM (timeout, Ctrl-C in a runner) unwinds through the finally that stops gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/blu_omie")
    db_name = urlsplit(base_db).path.lstrip("/") + "_bench_load"
    redis_url = url_with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), f"/{args.redis_db}")
    port = free_port()
    webhook_secret = secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.django.production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50), API_TOKEN_RATE="1000000/min",  # the bench measures the API, not its rate limit
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", DATABASE_URL=url_with_path(base_db, "/" + db_name),
        REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, PAGARME_WEBHOOK_SECRET=webhook_secret,
        # The events are signed with the v4 HMAC (no JWKS to serve here); rs256's RSA check is one public-key op more.
        PAGARME_WEBHOOK_AUTH="hmac",
        # Never called (no worker runs); production settings only require them to be set.
        PAGARME_SECRET_KEY=f"sk_bench_{secrets.token_hex(16)}", OMIE_APP_KEY="bench-app-key", OMIE_APP_SECRET=secrets.token_hex(16),
        OMIE_SERVICE_ID="2480000001",
        BUBBLE_BASE_URL="http://127.0.0.1:9/api/1.1", BUBBLE_API_TOKEN=secrets.token_hex(16),
        PYTHONUNBUFFERED="1",
    )
    env.pop("SANDBOX", None)
    env.pop("DJANGO_DEBUG", None)
    os.environ.update(env)

    import psycopg
    import redis

    with psycopg.connect(url_with_path(base_db, "/postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone():
            conn.execute(f'CREATE DATABASE "{db_name}"')
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()

    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from common.api.models import IdempotencyRecord
    from integrations.bubble.models import BubbleWriteback
    from integrations.pagarme.webhooks.models import PagarmeEvent
    from orders.models import ActionLog, Order

    call_command("migrate", verbosity=0)
    # A clean slate (the action log is append-only by trigger: TRUNCATE is the only way to empty it).
    with connection.cursor() as cursor:
        tables = ", ".join(m._meta.db_table for m in (ActionLog, PagarmeEvent, BubbleWriteback, IdempotencyRecord, Order))
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    repeat_ids = [f"1671702337369x{i:018d}" for i in range(args.repeat_orders)]
    Order.objects.bulk_create([Order(bubble_id=bubble_id) for bubble_id in repeat_ids])
    # Bubble's service account may call every endpoint (docs/contract.md#ops-actions): a superuser, like conftest's api client.
    get_user_model().objects.get_or_create(username="bench-bubble", defaults={"is_superuser": True, "is_staff": True})
    out = io.StringIO()
    call_command("issue_service_token", "bench-bubble", "--days", "1", stdout=out, stderr=io.StringIO())
    token = out.getvalue().strip()

    WORK.mkdir(parents=True, exist_ok=True)
    ids_file = WORK / "repeat_ids.txt"
    ids_file.write_text("\n".join(repeat_ids) + "\n")
    access_log = WORK / "access.log"
    access_log.unlink(missing_ok=True)
    overrides = {name: str(value) for name, value in (("--workers", args.web_workers), ("--threads", args.web_threads),
                                                      ("--max-requests", args.max_requests)) if value is not None}
    command = gunicorn_command(port=port, access_log=str(access_log), overrides=overrides)
    connection.close()

    server_log = (WORK / "gunicorn.log").open("w")
    web = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=server_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    results: list[dict] = []
    failures: list[str] = []
    try:
        import requests

        deadline = time.time() + 60
        while True:
            try:
                if requests.get(f"{base}/health/live", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline or web.poll() is not None:
                raise RuntimeError(f"gunicorn did not start; see {WORK / 'gunicorn.log'}")
            time.sleep(0.2)
        # Every worker imports the views, opens its database connection and its broker connection
        # before the timed runs (a new connection per request: sync workers close after each answer).
        headers = {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}
        workers = int(command[command.index("--workers") + 1])
        threads = int(command[command.index("--threads") + 1]) if "--threads" in command else 1
        for _ in range(workers * threads * 4):
            requests.post(f"{base}/v1/orders/{repeat_ids[0]}/sync-omie", json={}, headers=headers, timeout=30)

        for scenario in scenarios:
            for connections in connection_counts:
                tag = f"{scenario}@{connections}"
                stored = None
                if scenario == "live":
                    url, script_args = f"{base}/health/live", ["live", str(args.threads)]
                elif scenario == "new":
                    id_base = str(int(time.time() * 1000))
                    url, script_args = base, ["new", str(args.threads), token, id_base]
                elif scenario == "repeat":
                    url, script_args = base, ["repeat", str(args.threads), token, str(ids_file)]
                else:
                    prefix = f"hook_load{int(time.time())}c{connections}_"
                    events_file = WORK / "events.txt"
                    _write_events(events_file, prefix=prefix, count=args.webhook_events, order_ids=repeat_ids, secret=webhook_secret)
                    url, script_args = base, ["webhook", str(args.threads), str(events_file)]
                log_offset = access_log.stat().st_size if access_log.exists() else 0
                load_before = _load_average()
                with CpuMeter(web_pid=web.pid, db_name=db_name) as cpu:
                    result = _run_wrk(url=url, connections=connections, threads=args.threads, duration=args.duration,
                                      script_args=script_args)
                    load_after = _load_average()
                    time.sleep(1)  # the requests in flight when wrk stopped finish (their answers go nowhere)
                statuses = {int(k): v for k, v in result["statuses"].items()}
                seen = served = None
                if scenario == "new":
                    seen, served = statuses.get(202, 0), _served(access_log, log_offset, "/sync-omie", 202)
                    stored = Order.objects.filter(bubble_id__startswith=f"{id_base}x").count()
                elif scenario == "webhook":
                    seen, served = statuses.get(200, 0), _served(access_log, log_offset, "/webhooks/pagarme", 200)
                    stored = PagarmeEvent.objects.filter(event_id__startswith=prefix).count()
                    if result["exhausted_threads"]:
                        failures.append(f"{tag}: ran out of pre-signed events; raise --webhook-events")
                connection.close()
                non_2xx = sum(n for status, n in statuses.items() if not 200 <= status < 300)
                errors = {k: v for k, v in result["errors"].items() if v and k != "status"}
                if any(status >= 500 for status in statuses):
                    failures.append(f"{tag}: 5xx answers {statuses}")
                if non_2xx:
                    failures.append(f"{tag}: non-2xx answers {statuses}")
                if errors:
                    failures.append(f"{tag}: socket errors {errors}")
                # Exact: gunicorn's own record of the answers it sent. wrk stops counting at the deadline,
                # so the requests then in flight (at most one per connection) were answered
                # and stored but not seen by wrk; more than that would be answers without rows.
                in_flight = connections
                if stored is not None and (stored != served or not 0 <= served - seen <= in_flight):
                    failures.append(f"{tag}: {stored} rows stored, {served} successes sent by gunicorn, {seen} received by wrk")
                row = {
                    "scenario": scenario, "connections": connections, "rps": result["requests"] / (result["duration_us"] / 1e6),
                    "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000, "max_ms": result["max_us"] / 1000,
                    "requests": result["requests"], "statuses": statuses, "non_2xx": non_2xx, "errors": errors,
                    "stored": stored, "served": served, "seen": seen, "load": f"{load_before} → {load_after}",
                    "cpu_ms": {name: round(seconds * 1000 / max(result["requests"], 1), 2)
                               for name, seconds in (("gunicorn", cpu.gunicorn), ("postgres", cpu.postgres), ("wrk", cpu.wrk))},
                }
                results.append(row)
                print(f"{tag}: {json.dumps(row, ensure_ascii=False)}", flush=True)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        try:
            web.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
        server_log.close()
        queued = sum(broker.llen(q) for q in ("default", "omie", "bubble"))
        broker.flushdb()

    print(f"\ncpus={os.cpu_count()} wrk: --threads {args.threads} --duration {args.duration}s --timeout 10s (same machine)")
    print("gunicorn: " + shlex.join(["gunicorn", *command[3:]]))
    print(f"Celery messages left in the broker (no worker ran): {queued}\n")
    print("| endpoint | clients | req/s | p50 ms | p99 ms | max ms | non-2xx | rows stored / sent by gunicorn / received by wrk "
          "| CPU ms/req gunicorn · PostgreSQL · wrk | load avg (before → after) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        rows = f"{r['stored']} / {r['served']} / {r['seen']}" if r["stored"] is not None else "—"
        cpu_ms = " · ".join(f"{r['cpu_ms'][name]:.2f}" for name in ("gunicorn", "postgres", "wrk"))
        print(f"| {LABELS[r['scenario']]} | {r['connections']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{r['max_ms']:.0f} | {r['non_2xx']} | {rows} | {cpu_ms} | {r['load']} |")
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
