#!/usr/bin/env python
"""The day-25 run at scale against the sandbox (issue 5's bench; results in docs/benchmarks.md).

N PJ orders scheduled for today go through the real path: the run claims them, the dispatcher
paces the steps, a real Celery worker calls the fake Omie (served by gunicorn) and writes back to
the fake Bubble. Omie's limits are scaled by ``--scale`` (the fake's windows × scale, our throttle's
rates ÷ scale), so a run that would take N ÷ 200 minutes against the real Omie takes a fraction.

Prints: the duration of the FaturarOS phase against the theoretical minimum the rate allows
(N ÷ FaturarOS rate), the time until every order is ISSUED, the 429 / 425 / REDUNDANT answers,
FaturarOS calls per OS, StatusOS calls per invoice and the worker's peak memory.

    python bench/day25_run.py --orders 2000
    python bench/day25_run.py --orders 10000 --scale 0.1

Needs PostgreSQL and Redis: BENCH_DATABASE_URL / BENCH_REDIS_URL, by default the local services:
database ``blu_omie_bench_day25`` and Redis db 9 — both WIPED at the start, so give each concurrent
bench (and test run: tests flush their TEST_REDIS_DB) its own.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.queues import ALL_QUEUES_CSV
from testsupport.processes import free_port

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/blu_omie_bench_day25"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
OMIE_RATE_PER_MINUTE = 200  # our throttle's default, below Omie's 240 per method
WEBHOOK_TOKEN = "bench-omie-webhook-token-0123456789abcdef"



def bench_env(args: argparse.Namespace, web_url: str) -> dict[str, str]:
    scale = args.scale
    rate = int(OMIE_RATE_PER_MINUTE / scale)
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.django.base",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        CELERY_BROKER_URL=args.redis_url,
        SANDBOX="true",
        SANDBOX_FORCE="true",
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY="local-bench-only-key-not-a-deployment-secret-0123456789",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        OMIE_BASE_URL=f"{web_url}/sandbox/omie/api/v1/",
        OMIE_APP_KEY="bench-app-key",
        OMIE_APP_SECRET="bench-app-secret",
        BUBBLE_BASE_URL=f"{web_url}/sandbox/bubble/api/1.1",
        BUBBLE_API_TOKEN="bench-bubble-token",
        # Our throttle: the default rates, scaled like the fake's windows.
        OMIE_RATE_PER_METHOD_PER_MINUTE=str(rate),
        OMIE_RATE_PER_KEY_PER_MINUTE=str(rate * 4),
        OMIE_REDUNDANT_DEFAULT_SECONDS=str(max(1, round(60 * scale))),
        OMIE_RATE_LIMITED_PAUSE_SECONDS=str(max(1, round(60 * scale))),
        OMIE_ERROR_WINDOW_SECONDS=str(max(1, round(600 * scale))),
        OMIE_ERROR_PAUSE_SECONDS=str(max(1, round(600 * scale))),
        BILLING_SAME_OS_MIN_INTERVAL_SECONDS=str(60 * scale + 0.5),
        BILLING_FIRST_POLL_SECONDS=str(60 * scale + 0.5),
        BILLING_FIRST_POLL_WITH_BULK_SECONDS=str(300 * scale),
        BILLING_NFSE_BULK_INTERVAL_SECONDS=str(max(5, round(30 * scale))),
        BILLING_RETRY_BASE_SECONDS=str(60 * scale),
        BILLING_RETRY_MAX_SECONDS=str(1800 * scale),
        BILLING_DISPATCH_INTERVAL_SECONDS="1",
        BILLING_WORK_LEASE_SECONDS="120",
        DJANGO_CONN_MAX_AGE="600",
        PYTHONUNBUFFERED="1",
    )
    return env


def django_setup(env: dict[str, str]) -> None:
    """Django in this process with the same settings as the bench's processes.

    Every key of ``env`` that is not already this process's own value is copied, not a hand-kept
    list: a setting the base settings start to require (``DJANGO_SECRET_KEY`` did) reaches the
    bench's own set-up too, instead of stopping it before it measures anything.
    """
    for key, value in env.items():
        os.environ[key] = value
    import django

    django.setup()


def database_recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(n: int, held: int) -> None:
    """N PJ orders due today, each with its OS in the fake Omie and its `pedido` in the fake Bubble."""
    from decimal import Decimal

    from common.dates import today_sp
    from orders.models import Order
    from orders.statuses import BillingStatus, BillingTrigger, CustomerKind, HoldReason, SyncStatus
    from sandbox.fake_bubble.models import FakeThing
    from sandbox.fake_omie.models import OS_ID_BASE, FakeCustomer, FakeServiceOrder

    customer = FakeCustomer.objects.create(codigo_cliente_integracao="1700000000000x100000000000000001", cnpj_cpf="11222333000181",
                                           razao_social="Bench Ltda")
    today = today_sp()
    for start in range(0, n + held, 1000):
        size = min(1000, n + held - start)
        ids = [f"1700000000000x{200000000000000000 + start + i}" for i in range(size)]
        fake_os = FakeServiceOrder.objects.bulk_create(
            [FakeServiceOrder(c_cod_int_os=b, customer=customer, amount=Decimal("1500.00")) for b in ids])
        orders = []
        for i, (bubble_id, os_) in enumerate(zip(ids, fake_os, strict=True)):
            on_hold = start + i >= n
            orders.append(Order(
                bubble_id=bubble_id, customer_bubble_id=customer.codigo_cliente_integracao, document="11222333000181",
                customer_kind=CustomerKind.PJ, customer_name="Bench Ltda", cnpj_status="ATIVA", amount=Decimal("1500.00"),
                sync_status=SyncStatus.SYNCED, billing_trigger=BillingTrigger.DAY_25, billing_scheduled_for=today,
                billing_status=BillingStatus.ON_HOLD if on_hold else BillingStatus.SCHEDULED,
                hold_reason=HoldReason.CUSTOMER_FLAG if on_hold else "",
                omie_os_code=OS_ID_BASE + os_.pk, omie_os_number=f"{os_.pk:015d}",
            ))
        Order.objects.bulk_create(orders)
        FakeThing.objects.bulk_create([FakeThing(type_name="pedido", bubble_id=b, data={}) for b in ids])


def rss_peak_kib(root_pid: int) -> tuple[int, int]:
    """(largest VmHWM of one process, sum of VmHWM) over the worker's process tree."""
    pids = [root_pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(root_pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in children]
    except FileNotFoundError:
        pass
    peaks = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]))
        except OSError:
            continue
    return (max(peaks) if peaks else 0, sum(peaks))


def wait_http(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"web server did not come up: {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--held", type=int, default=20, help="orders ON_HOLD that must stay untouched")
    parser.add_argument("--scale", type=float, default=0.25, help="Omie's windows × scale (0.25: 60 s → 15 s)")
    parser.add_argument("--concurrency", type=int, default=4, help="processes per worker")
    parser.add_argument("--workers", type=int, default=1, help="Celery workers, each as its own host (node name and HOSTNAME)")
    parser.add_argument("--kill-one-at", type=float, default=0.0,
                        help="SIGKILL the first worker once this share of the orders is issued (0: never)")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn workers serving the fake Omie and Bubble")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--webhooks", action="store_true", help="Omie webhooks on (the fake sends them; bench/omie_webhooks.py)")
    args = parser.parse_args()

    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    env = bench_env(args, web_url)
    if args.webhooks:
        env.update(OMIE_WEBHOOKS="true", OMIE_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
                   BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS=str(300 * args.scale))
    print(f"[bench] database {urlsplit(args.database_url).path.lstrip('/')}, redis {args.redis_url}, scale {args.scale}", flush=True)
    database_recreate(args.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "setup_periodic_tasks"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    django_setup(env)

    from sandbox.fake_omie.services import fake_omie_reset

    fake_omie_reset(time_scale=args.scale, latency_ms=0, webhook_url=f"{web_url}/webhooks/omie/{WEBHOOK_TOKEN}" if args.webhooks else "")
    t = time.monotonic()
    seed(args.orders, args.held)
    print(f"[bench] seeded {args.orders} + {args.held} held orders in {time.monotonic() - t:.1f} s", flush=True)

    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers),
         "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=open(logs / "web.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    # Each worker as a separate host would run it: its own node name and HOSTNAME; one Omie budget in Redis.
    workers = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-Q", ALL_QUEUES_CSV,
         "--concurrency", str(args.concurrency), "--without-gossip", "--without-mingle", "-n", f"bench-{port}-{i}@bench-host-{i}"],
        cwd=ROOT, env={**env, "HOSTNAME": f"bench-host-{i}"}, stdout=open(logs / f"worker{'' if i == 0 else i}.log", "wb"),
        stderr=subprocess.STDOUT, start_new_session=True,
    ) for i in range(args.workers)]
    # Beat as deployed: its 30 s step dispatch is what recovers work whose messages were lost.
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "warning", "--scheduler",
         "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile="],
        cwd=ROOT, env=env, stdout=open(logs / "beat.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    sender = None
    try:
        wait_http(f"{web_url}/health/live")
        time.sleep(3)  # the worker connects to the broker
        if args.webhooks:
            from sandbox.fake_omie.webhooks import WebhookSender

            sender = WebhookSender(interval=0.05).start()
        return run(args, workers)
    finally:
        if sender is not None:
            sender.stop()
        for proc in (beat, *workers, web):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in (beat, *workers, web):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def run(args: argparse.Namespace, workers: list[subprocess.Popen[bytes]]) -> int:
    from django.db.models import Count

    from billing.tasks import billing_day_run
    from integrations.bubble.models import BubbleWriteback
    from orders.models import Order
    from orders.statuses import BillingStatus
    from sandbox.fake_omie.models import FakeOmieCall

    n = args.orders
    started = time.time()
    for _ in range(3):  # duplicate firings change nothing
        billing_day_run.delay()
    last_report = 0.0
    killed_at: float | None = None
    while True:
        counts = dict(Order.objects.values_list("billing_status").annotate(c=Count("id")).order_by())
        issued = counts.get(BillingStatus.ISSUED, 0)
        if time.time() - last_report > 15:
            print(f"[bench] {time.time() - started:6.0f} s  {counts}", flush=True)
            last_report = time.time()
        if issued >= n or counts.get(BillingStatus.FAILED):
            break
        if args.kill_one_at and killed_at is None and issued >= args.kill_one_at * n:
            os.killpg(workers[0].pid, signal.SIGKILL)  # mid-run, mid-task: its leases must run out, nothing billed twice
            killed_at = time.time() - started
            print(f"[bench] {killed_at:6.0f} s  SIGKILLed worker 0 (bench-host-0) at {issued} issued", flush=True)
        alive = [w for w in workers if w.poll() is None]
        if time.time() - started > args.timeout or not alive or (killed_at is None and workers[0].poll() is not None):
            print("[bench] gave up (timeout or worker died)", flush=True)
            break
        time.sleep(0.5)
    all_issued = time.time() - started
    while BubbleWriteback.objects.exclude(status="DONE").exists() and time.time() - started < args.timeout:
        time.sleep(0.5)
    bubble_done = time.time() - started

    calls = FakeOmieCall.objects.all()
    faturar = list(calls.filter(call="FaturarOS", processed=True).order_by("received_at").values_list("param", "received_at"))
    per_os = Counter(p["cCodIntOS"] for p, _ in faturar)
    status_per_invoice = Counter(p["cCodIntOS"] for p in calls.filter(call="StatusOS", processed=True).values_list("param", flat=True))
    faturar_phase = (faturar[-1][1] - faturar[0][1]).total_seconds() if len(faturar) > 1 else 0.0
    rate = OMIE_RATE_PER_MINUTE / args.scale / 60.0  # FaturarOS per second our throttle allows
    # The throttle's burst lets the first few go at once; the minimum counts only the paced ones.
    minimum = max(0.0, (n - 10) / rate)
    answers = Counter(calls.values_list("http_status", flat=True))
    redundant = calls.filter(fault_string__icontains="REDUNDANT").count()
    survivor = next((w for w in workers if w.poll() is None), workers[0])
    hwm_max, hwm_sum = rss_peak_kib(survivor.pid)
    stamps = [t.timestamp() for _, t in faturar]
    busiest, left = 0, 0
    for right, t in enumerate(stamps):  # FaturarOS in any window of Omie's (scaled) minute, at the fake
        while t - stamps[left] > 60 * args.scale:
            left += 1
        busiest = max(busiest, right - left + 1)
    held_untouched = Order.objects.filter(billing_status=BillingStatus.ON_HOLD).count()

    print()
    print(f"orders                     {n} (+{args.held} on hold; still on hold: {held_untouched})")
    print(f"scale                      {args.scale} (FaturarOS rate {rate * 60:.0f}/min; Omie's fake allows {240 / args.scale:.0f}/min)")
    print(f"FaturarOS phase            {faturar_phase:.1f} s; theoretical minimum {minimum:.1f} s "
          f"→ {100 * minimum / faturar_phase if faturar_phase else 0:.0f}% of the limit")
    print(f"run → all ISSUED           {all_issued:.1f} s (Bubble outbox delivered at {bubble_done:.1f} s)")
    print(f"HTTP 429 / 425 / REDUNDANT {answers.get(429, 0)} / {answers.get(425, 0)} / {redundant}")
    print(f"busiest Omie minute        {busiest} FaturarOS (our limit {OMIE_RATE_PER_MINUTE}, Omie's 240; at the fake)")
    if args.workers > 1 or killed_at is not None:
        kill = f"worker 0 SIGKILLed at {killed_at:.0f} s" if killed_at is not None else "none killed"
        print(f"workers                    {args.workers} hosts; {kill}")
    print(f"FaturarOS per OS           {dict(Counter(per_os.values()))} (count → number of OS); OS billed {len(per_os)}")
    if args.webhooks:
        from integrations.omie.webhooks.models import OmieWebhookEvent

        by_status = dict(Counter(OmieWebhookEvent.objects.values_list("status", flat=True)))
        print(f"Omie webhooks              {OmieWebhookEvent.objects.count()} received {by_status}")
    print(f"StatusOS per invoice       mean {sum(status_per_invoice.values()) / max(1, n):.2f} over the {n} invoices, "
          f"max {max(status_per_invoice.values(), default=0)}")
    listed = calls.filter(call="ListarNFSEs", processed=True).count()
    reads = sum(status_per_invoice.values()) + listed
    print(f"ListarNFSEs (NFS-e in bulk) {listed} pages read; status reads per invoice (StatusOS + ListarNFSEs) {reads / max(1, n):.3f}")
    print(f"worker peak RSS            largest process {hwm_max / 1024:.0f} MiB; whole worker {hwm_sum / 1024:.0f} MiB "
          f"({args.concurrency} processes + parent)")
    ok = (set(per_os.values()) == {1} and len(per_os) == n and answers.get(425, 0) == 0 and answers.get(429, 0) == 0
          and busiest <= 240 and held_untouched == args.held)
    print("RESULT                     " + ("ok" if ok else "NOT OK"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
