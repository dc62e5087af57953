#!/usr/bin/env python
"""Omie webhooks (issue 16's bench; results in docs/benchmarks.md). Two measurements:

``latency``: N PF orders are paid (Pagar.me webhooks over HTTP, ``--pace`` per second); the real path
follows — billing decision, FaturarOS through the throttle, the fake city hall answering in
``--city-hall`` seconds, the fake Omie's webhooks (sender in this process, Omie's delivery rules) to
``/webhooks/omie/<token>`` on gunicorn, a real Celery worker, the Bubble outbox to the fake Bubble.
Prints p50/p95/max from the payment webhook to "NF emitida" delivered to Bubble, and StatusOS per
invoice. Run it with ``--webhooks on`` and ``--webhooks off`` (today's polling only). Omie's real
windows (time scale 1): the first StatusOS waits 60 s without webhooks.

``burst``: N webhook events POSTed to gunicorn by ``--clients`` threads as fast as they go:
every answer must be 200, p99 answer time < 100 ms, and the stored events = the answered ones.

    flock /tmp/blu-reliability.lock python bench/omie_webhooks.py latency --orders 50 --webhooks on
    flock /tmp/blu-reliability.lock python bench/omie_webhooks.py latency --orders 50 --webhooks off
    flock /tmp/blu-reliability.lock python bench/omie_webhooks.py burst --events 1000

Database ``blu_omie_bench_webhooks`` and Redis db 10 by default — both WIPED at the start.
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
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from day25_run import bench_env, database_recreate, django_setup, wait_http

from common.queues import ALL_QUEUES_CSV
from testsupport.processes import free_port

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/blu_omie_bench_webhooks"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
TOKEN = "bench-omie-webhook-token-0123456789abcdef"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def start(args: argparse.Namespace, webhooks: bool) -> tuple[str, list[subprocess.Popen[bytes]], dict[str, str]]:
    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    ns = argparse.Namespace(scale=1.0, database_url=args.database_url, redis_url=args.redis_url)
    env = bench_env(ns, web_url)
    env.update(OMIE_WEBHOOKS="true" if webhooks else "false", OMIE_WEBHOOK_TOKEN=TOKEN, OMIE_WEBHOOK_TOKEN_PREVIOUS="",
               BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS="300", PAGARME_WEBHOOK_SECRET="bench-pagarme-secret",
               # The bench signs its Pagar.me webhooks with HMAC (no Pagar.me private key here); the default is RS256 only.
               PAGARME_WEBHOOK_AUTH="hmac",
               # Each payment is confirmed with Pagar.me's API before it counts: the fake one, on this gunicorn.
               SANDBOX_BASE_URL=web_url)
    database_recreate(args.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "setup_periodic_tasks"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    django_setup(env)
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers),
         "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=open(logs / "webhooks-web.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)]
    if args.mode == "latency":
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-Q", ALL_QUEUES_CSV,
             "--concurrency", "4", "--without-gossip", "--without-mingle", "-n", f"bench-{port}@%h"],
            cwd=ROOT, env=env, stdout=open(logs / "webhooks-worker.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True))
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "warning", "--scheduler",
             "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile="],
            cwd=ROOT, env=env, stdout=open(logs / "webhooks-beat.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True))
    wait_http(f"{web_url}/health/live")
    time.sleep(3)
    return web_url, procs, env


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def seed_pf(n: int) -> list[str]:
    from decimal import Decimal

    from orders.models import Order
    from orders.statuses import BillingStatus, BillingTrigger, CustomerKind, PaymentStatus, SyncStatus
    from sandbox.fake_bubble.models import FakeThing
    from sandbox.fake_omie.models import OS_ID_BASE, FakeCustomer, FakeServiceOrder
    from testsupport.fake_omie import make_cpf

    ids = [f"1700000000000x{300000000000000000 + i}" for i in range(n)]
    for i, bubble_id in enumerate(ids):
        cpf = make_cpf(1000 + i)
        customer = FakeCustomer.objects.create(codigo_cliente_integracao=f"c-{bubble_id}", cnpj_cpf=cpf, razao_social=f"Pessoa {i}")
        os_ = FakeServiceOrder.objects.create(c_cod_int_os=bubble_id, customer=customer, amount=Decimal("250.00"))
        Order.objects.create(
            bubble_id=bubble_id, customer_bubble_id=customer.codigo_cliente_integracao, document=cpf, customer_kind=CustomerKind.PF,
            customer_name=f"Pessoa {i}", amount=Decimal("250.00"), sync_status=SyncStatus.SYNCED,
            billing_trigger=BillingTrigger.AWAIT_PAYMENT, billing_status=BillingStatus.AWAITING_PAYMENT,
            payment_status=PaymentStatus.PENDING, omie_os_code=OS_ID_BASE + os_.pk, omie_os_number=os_.c_num_os,
            omie_customer_code=customer.codigo_cliente_omie)
        FakeThing.objects.create(type_name="pedido", bubble_id=bubble_id, data={})
    return ids


def latency(args: argparse.Namespace) -> int:
    webhooks = args.webhooks == "on"
    web_url, procs, env = start(args, webhooks)
    sender = None
    try:
        import requests

        from integrations.bubble.models import BubbleWriteback
        from integrations.pagarme.signature import signature_header
        from orders.models import Order
        from orders.statuses import BillingStatus
        from sandbox.fake_omie.models import FakeOmieCall
        from sandbox.fake_omie.services import fake_omie_reset
        from sandbox.fake_omie.webhooks import WebhookSender
        from sandbox.fake_pagarme.services import event_register
        from sandbox.pagarme_events import pagarme_event_build

        fake_omie_reset(time_scale=1.0, latency_ms=0, nfse_delay_seconds=args.city_hall,
                        webhook_url=f"{web_url}/webhooks/omie/{TOKEN}" if webhooks else "")
        ids = seed_pf(args.orders)
        sender = WebhookSender(interval=0.05).start()
        import json
        from decimal import Decimal

        paid_at: dict[str, float] = {}
        session = requests.Session()
        started = time.time()
        for i, bubble_id in enumerate(ids):
            while time.time() < started + i / args.pace:
                time.sleep(0.01)
            event = pagarme_event_build(event_type="charge.paid", bubble_order_id=bubble_id, amount=Decimal("250.00"))
            event_register(event)  # the fake Pagar.me's API knows the charge, as the real one would
            body = json.dumps(event).encode()
            header = signature_header(raw_body=body, secret=env["PAGARME_WEBHOOK_SECRET"])
            paid_at[bubble_id] = time.time()
            answer = session.post(f"{web_url}/webhooks/pagarme", data=body, headers={"X-Hub-Signature": header,
                                                                                     "Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 200, answer.text
        deadline = time.time() + args.timeout
        done: dict[str, float] = {}
        while time.time() < deadline and len(done) < len(ids):
            for bubble_id, delivered in BubbleWriteback.objects.filter(
                    thing="order", status="DONE", fields__status_faturamento="NF emitida").values_list("bubble_id", "delivered_at"):
                done.setdefault(bubble_id, delivered.timestamp())
            time.sleep(0.2)
        latencies = [done[b] - paid_at[b] for b in ids if b in done]
        calls = FakeOmieCall.objects.filter(processed=True)
        status_per = Counter(p["cCodIntOS"] for p in calls.filter(call="StatusOS").values_list("param", flat=True))
        faturar_per = Counter(p["cCodIntOS"] for p in calls.filter(call="FaturarOS").values_list("param", flat=True))
        issued = Order.objects.filter(bubble_id__in=ids, billing_status=BillingStatus.ISSUED).count()
        print()
        print(f"webhooks                   {args.webhooks} (each NotaAutorizada brings one StatusOS forward)")
        print(f"orders paid                {len(ids)} at {args.pace}/s; city hall answers in {args.city_hall} s")
        print(f"ISSUED / NF emitida in Bubble  {issued} / {len(latencies)}")
        if latencies:
            print(f"payment → Bubble           p50 {statistics.median(latencies):.1f} s, p95 {percentile(latencies, 95):.1f} s, "
                  f"max {max(latencies):.1f} s")
        mean = sum(status_per.values()) / max(1, len(ids))
        print(f"StatusOS per invoice       mean {mean:.2f}, max {max(status_per.values(), default=0)}")
        print(f"FaturarOS per OS           {dict(Counter(faturar_per.values()))}")
        ok = len(latencies) == len(ids) and set(faturar_per.values()) == {1}
        print("RESULT                     " + ("ok" if ok else "NOT OK"))
        return 0 if ok else 1
    finally:
        if sender is not None:
            sender.stop()
        stop(procs)


def burst(args: argparse.Namespace) -> int:
    web_url, procs, _env = start(args, True)
    try:
        import requests

        from integrations.omie.webhooks.models import OmieWebhookEvent

        url = f"{web_url}/webhooks/omie/{TOKEN}"
        times: list[float] = []
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        counter = iter(range(args.events))

        def client() -> None:
            session = requests.Session()
            for i in counter:
                body = {"messageId": f"burst-{i}", "topic": "NFSe.NotaAutorizada" if i % 2 else "OrdemServico.Faturada",
                        "event": {"codigo_os": 3100000000 + i, "id_nf": 1000 + i}, "appKey": "k", "appHash": "h"}
                t = time.perf_counter()
                answer = session.post(url, json=body, timeout=30)
                elapsed = time.perf_counter() - t
                with lock:
                    times.append(elapsed)
                    statuses[answer.status_code] += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        stored = OmieWebhookEvent.objects.count()
        print()
        print(f"events                     {args.events} by {args.clients} clients in {wall:.1f} s ({args.events / wall:.0f}/s)")
        print(f"answers                    {dict(statuses)}")
        print(f"answer time                p50 {1000 * statistics.median(times):.1f} ms, p99 {1000 * percentile(times, 99):.1f} ms, "
              f"max {1000 * max(times):.1f} ms")
        print(f"stored / answered 200      {stored} / {statuses.get(200, 0)}")
        ok = statuses.get(200, 0) == args.events and stored == args.events
        fast = percentile(times, 99) < 0.1
        print("RESULT                     " + ("ok" if ok and fast else "NOT OK" if not ok else "ok, but p99 ≥ 100 ms"))
        return 1 if not ok else 0 if fast else 2  # 2: every event stored, the answer-time target missed
    finally:
        stop(procs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["latency", "burst"])
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--pace", type=float, default=2.0, help="payments per second")
    parser.add_argument("--city-hall", type=float, default=3.0, help="seconds until the fake city hall answers")
    parser.add_argument("--webhooks", choices=["on", "off"], default="on")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    args = parser.parse_args()
    return latency(args) if args.mode == "latency" else burst(args)


if __name__ == "__main__":
    sys.exit(main())
