#!/usr/bin/env python
"""The NFS-e documents backfill at scale (issue 23's bench; results in docs/benchmarks.md).

``--invoices`` ISSUED invoices from the last days (their NFS-e seeded straight into the fake Omie's
tables, no archive row: as before archiving existed) are backfilled by ``manage.py nfse_archive
--since … --until yesterday`` run as a subprocess against the fake Omie served by gunicorn. The
first run is SIGKILLed once ``--kill-at`` of the documents are stored; a second run finishes.

At the same time a day-25 run of ``--orders`` orders goes through the real path (real Celery worker
and beat, day25_run.py's settings), and, before it, a day-25 run of as many orders with no backfill
(the baseline). The two FaturarOS phases are compared with the rate our throttle allows.

Prints: documents stored, ObterNFSe calls per backfilled invoice (counted at the fake:
FakeOmieCall), ListarNFSEs calls, duplicates (document rows or stored objects beyond one per kind
per invoice), the backfill's total time, and the FaturarOS phase with and without the backfill.

    python bench/nfse_backfill.py --invoices 1000 --orders 200

Omie's limits are scaled by ``--scale`` like day25_run.py (0.25: FaturarOS 800/min, the backfill
``NFSE_BACKFILL_PER_MINUTE`` 60 → 240/min). Database ``blu_omie_bench_nfse`` and Redis db 11 by
default (BENCH_DATABASE_URL / BENCH_REDIS_URL) — both WIPED at the start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from day25_run import OMIE_RATE_PER_MINUTE, bench_env, database_recreate, django_setup, wait_http

from common.queues import ALL_QUEUES_CSV
from testsupport.processes import free_port

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/blu_omie_bench_nfse"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
BACKFILL_PER_MINUTE = 60  # NFSE_BACKFILL_PER_MINUTE's default, scaled like Omie's windows
CUSTOMER_DOC = "11222333000181"
BACKFILL_IDS = 400000000000000000
BASELINE_IDS = 500000000000000000
WITH_BACKFILL_IDS = 600000000000000000
WARMUP_IDS = 700000000000000000


def _customer():
    from sandbox.fake_omie.models import FakeCustomer

    customer, _ = FakeCustomer.objects.get_or_create(codigo_cliente_integracao="1700000000000x100000000000000001",
                                                     defaults={"cnpj_cpf": CUSTOMER_DOC, "razao_social": "Bench Ltda"})
    return customer


def seed_issued(n: int, days: int) -> tuple[set[int], str, str]:
    """N invoices ISSUED over the last ``days`` days, their NFS-e in the fake Omie; no archive rows.

    Returns the fake's NF ids and the backfill's --since / --until."""
    from decimal import Decimal

    from billing.models import Invoice
    from common.dates import SAO_PAULO, today_sp
    from orders.models import Order
    from orders.statuses import BillingStatus, BillingTrigger, CustomerKind, SyncStatus
    from sandbox.fake_bubble.models import FakeThing
    from sandbox.fake_omie.handlers import NFSE_NUMBER_BASE
    from sandbox.fake_omie.models import OS_ID_BASE, FakeNfse, FakeServiceOrder

    customer = _customer()
    today = today_sp()
    nf_ids: set[int] = set()
    for start in range(0, n, 1000):
        size = min(1000, n - start)
        ids = [f"1700000000000x{BACKFILL_IDS + start + i}" for i in range(size)]
        when = [datetime.combine(today - timedelta(days=1 + (start + i) % days), dtime(12, 0), tzinfo=SAO_PAULO)
                + timedelta(seconds=start + i) for i in range(size)]
        fake_os = FakeServiceOrder.objects.bulk_create(
            [FakeServiceOrder(c_cod_int_os=b, customer=customer, amount=Decimal("1500.00"), etapa="60", faturada=True, billed_at=w)
             for b, w in zip(ids, when, strict=True)])
        nfses = FakeNfse.objects.bulk_create([
            FakeNfse(service_order=os_, status=FakeNfse.Status.ISSUED, verification_code=f"V{os_.pk:07d}",
                     url=f"https://nfse.prefeitura.example.invalid/{os_.pk}", ready_at=w, issued_at=w, rps_number=os_.pk)
            for os_, w in zip(fake_os, when, strict=True)])
        for nfse in nfses:
            nfse.number = NFSE_NUMBER_BASE + nfse.pk
        FakeNfse.objects.bulk_update(nfses, ["number"])
        nf_ids |= {nfse.pk for nfse in nfses}
        orders = Order.objects.bulk_create([
            Order(bubble_id=b, customer_bubble_id=customer.codigo_cliente_integracao, document=CUSTOMER_DOC,
                  customer_kind=CustomerKind.PJ, customer_name="Bench Ltda", cnpj_status="ATIVA", amount=Decimal("1500.00"),
                  sync_status=SyncStatus.SYNCED, billing_trigger=BillingTrigger.DAY_25, billing_scheduled_for=timezone_date(w),
                  billing_status=BillingStatus.ISSUED, omie_os_code=OS_ID_BASE + os_.pk, omie_os_number=os_.c_num_os)
            for b, os_, w in zip(ids, fake_os, when, strict=True)])
        Invoice.objects.bulk_create([
            Invoice(order=o, status=BillingStatus.ISSUED, requested_by="bench", nfse_number=str(nfse.number),
                    verification_code=nfse.verification_code, nfse_url=nfse.url, issued_at=nfse.issued_at,
                    faturar_requested_at=nfse.issued_at, faturar_accepted_at=nfse.issued_at, faturar_attempts=1)
            for o, nfse in zip(orders, nfses, strict=True)])
        FakeThing.objects.bulk_create([FakeThing(type_name="pedido", bubble_id=b, data={}) for b in ids])
    return nf_ids, (today - timedelta(days=days)).isoformat(), (today - timedelta(days=1)).isoformat()


def timezone_date(moment: datetime):
    from django.utils import timezone

    return timezone.localdate(moment)


def seed_due(n: int, base: int) -> list[str]:
    """N PJ orders due today (day25_run.py's seed, other ids)."""
    from decimal import Decimal

    from common.dates import today_sp
    from orders.models import Order
    from orders.statuses import BillingStatus, BillingTrigger, CustomerKind, SyncStatus
    from sandbox.fake_bubble.models import FakeThing
    from sandbox.fake_omie.models import OS_ID_BASE, FakeServiceOrder

    customer = _customer()
    ids = [f"1700000000000x{base + i}" for i in range(n)]
    fake_os = FakeServiceOrder.objects.bulk_create(
        [FakeServiceOrder(c_cod_int_os=b, customer=customer, amount=Decimal("1500.00")) for b in ids])
    Order.objects.bulk_create([
        Order(bubble_id=b, customer_bubble_id=customer.codigo_cliente_integracao, document=CUSTOMER_DOC,
              customer_kind=CustomerKind.PJ, customer_name="Bench Ltda", cnpj_status="ATIVA", amount=Decimal("1500.00"),
              sync_status=SyncStatus.SYNCED, billing_trigger=BillingTrigger.DAY_25, billing_scheduled_for=today_sp(),
              billing_status=BillingStatus.SCHEDULED, omie_os_code=OS_ID_BASE + os_.pk, omie_os_number=os_.c_num_os)
        for b, os_ in zip(ids, fake_os, strict=True)])
    FakeThing.objects.bulk_create([FakeThing(type_name="pedido", bubble_id=b, data={}) for b in ids])
    return ids


def faturar_phase(ids: list[str]) -> tuple[float, int, datetime | None, datetime | None]:
    """(seconds from the first to the last processed FaturarOS of these orders, calls, first, last)."""
    from sandbox.fake_omie.models import FakeOmieCall

    wanted = set(ids)
    times = sorted(at for param, at in FakeOmieCall.objects.filter(call="FaturarOS", processed=True).values_list("param", "received_at")
                   if (param or {}).get("cCodIntOS") in wanted)
    if len(times) < 2:
        return 0.0, len(times), None, None
    return (times[-1] - times[0]).total_seconds(), len(times), times[0], times[-1]


def day25(ids: list[str], deadline: float, on_tick=None) -> float:
    """Fires the day-25 run and waits until these orders are ISSUED; returns the seconds it took."""
    from django.db.models import Count

    from billing.tasks import billing_day_run
    from orders.models import Order
    from orders.statuses import BillingStatus

    started = time.time()
    billing_day_run.delay()
    last = 0.0
    while time.time() < deadline:
        counts = dict(Order.objects.filter(bubble_id__in=ids).values_list("billing_status").annotate(c=Count("id")).order_by())
        if on_tick:
            on_tick()
        if time.time() - last > 15:
            print(f"[bench]   day-25 {time.time() - started:5.0f} s {counts}", flush=True)
            last = time.time()
        if counts.get(BillingStatus.ISSUED, 0) >= len(ids) or counts.get(BillingStatus.FAILED):
            break
        time.sleep(0.5)
    return time.time() - started


def backfill_state(nf_ids: set[int]) -> int:
    from billing.models import NfseArchive

    return NfseArchive.objects.filter(status="DONE", invoice__order__bubble_id__startswith="1700000000000x4").count()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1000, help="issued invoices to backfill")
    parser.add_argument("--days", type=int, default=20, help="spread over the last N days")
    parser.add_argument("--orders", type=int, default=200, help="orders of each day-25 run (baseline, with the backfill)")
    parser.add_argument("--kill-at", type=float, default=0.4, help="SIGKILL the first backfill run at this fraction stored")
    parser.add_argument("--scale", type=float, default=0.25, help="Omie's windows × scale (day25_run.py)")
    parser.add_argument("--per-minute", type=int, help="the backfill's pace (default NFSE_BACKFILL_PER_MINUTE's 60 ÷ scale)")
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--no-warmup", dest="warmup", action="store_false", help="skip the unmeasured first day-25 run")
    parser.add_argument("--baseline", choices=["first", "last"], default="first", help="the day-25 run alone before or after")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a SIGTERM still stops the processes started here

    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    env = bench_env(args, web_url)
    storage = ROOT / "var" / "bench" / f"nfse-{port}"
    per_minute = args.per_minute or int(BACKFILL_PER_MINUTE / args.scale)
    env.update(NFSE_STORAGE="filesystem", NFSE_STORAGE_ROOT=str(storage), NFSE_BACKFILL_PER_MINUTE=str(per_minute),
               NFSE_LINK_BASE_URL=web_url, NFSE_ARCHIVE_RETRY_BASE_SECONDS=str(30 * args.scale),
               NFSE_ARCHIVE_RETRY_MAX_SECONDS=str(3600 * args.scale), NFSE_ARCHIVE_LEASE_SECONDS=str(300 * args.scale))
    print(f"[bench] database {urlsplit(args.database_url).path.lstrip('/')}, redis {args.redis_url}, scale {args.scale}, "
          f"load average {open('/proc/loadavg').read().split()[:3]}", flush=True)
    database_recreate(args.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "setup_periodic_tasks"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    os.environ.update(env)  # this process reads the fake's tables and the archive with the processes' settings
    django_setup(env)

    from sandbox.fake_omie.services import fake_omie_reset

    fake_omie_reset(time_scale=args.scale, latency_ms=0)
    t = time.monotonic()
    nf_ids, since, until = seed_issued(args.invoices, args.days)
    baseline_ids: list[str] = []
    print(f"[bench] seeded {args.invoices} issued invoices ({since} … {until}) "
          f"in {time.monotonic() - t:.1f} s", flush=True)

    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    procs = [
        subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
                          str(args.web_workers), "--timeout", "60", "--log-level", "warning"],
                         cwd=ROOT, env=env, stdout=open(logs / "nfse-web.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-Q", ALL_QUEUES_CSV,
                          "--concurrency", str(args.concurrency), "--without-gossip", "--without-mingle", "-n", f"bench-{port}@%h"],
                         cwd=ROOT, env=env, stdout=open(logs / "nfse-worker.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "warning", "--scheduler",
                          "django_celery_beat.schedulers:DatabaseScheduler", "--pidfile="],
                         cwd=ROOT, env=env, stdout=open(logs / "nfse-beat.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True),
    ]
    try:
        wait_http(f"{web_url}/health/live")
        time.sleep(3)
        return run(args, env, nf_ids, since, until, baseline_ids, per_minute, storage)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(storage, ignore_errors=True)


def run(args: argparse.Namespace, env: dict[str, str], nf_ids: set[int], since: str, until: str, baseline_ids: list[str],
        per_minute: int, storage: Path) -> int:
    from billing.models import NfseArchive, NfseDocument
    from sandbox.fake_omie.models import FakeOmieCall

    deadline = time.time() + args.timeout
    logs = ROOT / "var" / "bench"

    def baseline() -> None:
        """A day-25 run alone (its own archives, ObterNFSe by the worker, finish before going on)."""
        print(f"[bench] baseline: day-25 run of {args.orders} orders, no backfill", flush=True)
        ids = seed_due(args.orders, BASELINE_IDS)
        day25(ids, deadline)
        while NfseArchive.objects.filter(invoice__order__bubble_id__in=ids, status="PENDING").exists() and time.time() < deadline:
            time.sleep(0.5)
        baseline_ids.extend(ids)

    # 0. A day-25 run to warm the stack up, not measured (the first run of a fresh stack was ~60% slower).
    if args.warmup:
        print(f"[bench] warm-up: day-25 run of {args.orders} orders, not measured", flush=True)
        warm = seed_due(args.orders, WARMUP_IDS)
        day25(warm, deadline)
        while NfseArchive.objects.filter(invoice__order__bubble_id__in=warm, status="PENDING").exists() and time.time() < deadline:
            time.sleep(0.5)

    # 1. The baseline first (or last: --baseline last; the first run of a fresh stack pays its warm-up).
    if args.baseline == "first":
        baseline()

    # 2. The backfill and a day-25 run started together; the backfill SIGKILLed mid-run, then run again.
    with_ids = seed_due(args.orders, WITH_BACKFILL_IDS)
    command = [sys.executable, "manage.py", "nfse_archive", "--since", since, "--until", until]
    print(f"[bench] backfill of {args.invoices} ({per_minute}/min) + day-25 run of {args.orders} orders, together", flush=True)
    started = time.time()
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=open(logs / "nfse-backfill-1.log", "wb"), stderr=subprocess.STDOUT)
    kill_at = max(1, int(args.invoices * args.kill_at))
    killed = {"at": None, "stored": 0}

    def kill_when_due() -> None:
        if killed["at"] is None and first.poll() is None and backfill_state(nf_ids) >= kill_at:
            first.send_signal(signal.SIGKILL)
            first.wait()
            killed.update(at=time.time() - started, stored=backfill_state(nf_ids))
            print(f"[bench]   backfill SIGKILLed at {killed['at']:.1f} s with {killed['stored']} stored", flush=True)

    day25(with_ids, deadline, on_tick=kill_when_due)
    day25_done = time.time() - started
    while killed["at"] is None and first.poll() is None and time.time() < deadline:
        kill_when_due()
        time.sleep(0.2)
    if killed["at"] is None:
        print("[bench]   the first backfill run ended before the kill point (raise --invoices)", flush=True)
    second_started = time.time()
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=max(10, deadline - time.time()))
    backfill_total = time.time() - started
    second_time = time.time() - second_started
    # What the second run skipped as "em uso" (the killed run's lease on the invoice it was fetching):
    # run it again once the lease is over, as the runbook says (the beat's sweep may take it first).
    scope = NfseArchive.objects.filter(invoice__order__bubble_id__startswith="1700000000000x4")
    left_after_second = scope.exclude(status="DONE").count()
    more_runs = 0
    while scope.filter(status="PENDING").exists() and time.time() < deadline:
        from django.db.models import Max
        from django.utils import timezone

        lease_end = scope.filter(status="PENDING").aggregate(m=Max("leased_until"))["m"]
        if lease_end and lease_end > timezone.now():
            time.sleep(min(5.0, (lease_end - timezone.now()).total_seconds() + 0.5))
            continue
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=max(10, deadline - time.time()))
        more_runs += 1
    all_stored = time.time() - started
    with_phase, with_calls, first_fat, last_fat = faturar_phase(with_ids)
    while NfseArchive.objects.filter(invoice__order__bubble_id__in=with_ids, status="PENDING").exists() and time.time() < deadline:
        time.sleep(0.5)

    if args.baseline == "last":
        baseline()
    base_phase, base_calls, _, _ = faturar_phase(baseline_ids)

    # 3. The counts, at the fake and in the archive.
    obter = list(FakeOmieCall.objects.filter(call="ObterNFSe").values_list("param", "processed"))
    per_nf = Counter(int((p or {}).get("nIdNf") or 0) for p, ok in obter if ok and int((p or {}).get("nIdNf") or 0) in nf_ids)
    refused = sum(1 for p, ok in obter if not ok and int((p or {}).get("nIdNf") or 0) in nf_ids)
    listar_params = list(FakeOmieCall.objects.filter(call="ListarNFSEs", processed=True).values_list("param", flat=True))
    listar = sum(1 for p in listar_params if (p or {}).get("dEmiInicial"))
    done = scope.filter(status="DONE").count()
    by_status = dict(Counter(scope.values_list("status", flat=True)))
    docs = NfseDocument.objects.filter(archive__in=scope)
    per_kind = Counter(docs.values_list("archive_id", "kind"))
    dup_rows = sum(c - 1 for c in per_kind.values() if c > 1)
    keys = list(NfseDocument.objects.values_list("storage_key", flat=True))
    files = [p for p in storage.rglob("*") if p.is_file()]
    orphans = len(files) - len(keys)
    during = Counter()  # ObterNFSe during the FaturarOS phase: the backfill's, the day-25 run's own archives'
    if first_fat and last_fat:
        for param in FakeOmieCall.objects.filter(call="ObterNFSe", received_at__gte=first_fat, received_at__lte=last_fat
                                                 ).values_list("param", flat=True):
            during["backfill" if int((param or {}).get("nIdNf") or 0) in nf_ids else "own"] += 1
    rate = OMIE_RATE_PER_MINUTE / args.scale / 60.0
    minimum = max(0.0, (args.orders - 10) / rate)
    second_summary = (second.stdout.strip().splitlines() or ["?"])[-1]

    def pct(phase: float) -> str:
        per_min = 60 * (args.orders - 1) / phase if phase else 0
        return f"{phase:.1f} s, {per_min:.0f}/min ({100 * minimum / phase if phase else 0:.0f}% of the limit)"

    print()
    print(f"load average               {' '.join(open('/proc/loadavg').read().split()[:3])} (at the end)")
    print(f"invoices backfilled        {args.invoices} over {args.days} days; archives {by_status}")
    print(f"documents stored           {docs.count()} rows ({done} invoices × PDF + XML); objects on disk {len(files)} "
          f"(all documents {len(keys)}: orphans {orphans})")
    print(f"ObterNFSe per invoice      {dict(Counter(per_nf.values()))} (calls → invoices); invoices asked {len(per_nf)}; "
          f"refused by the fake (429/REDUNDANT) {refused}")
    print(f"ListarNFSEs calls          {listar} by date (the backfill, pages of 500, both runs); "
          f"{len(listar_params) - listar} by nCodigoOS (the day-25 runs' own archives)")
    print(f"duplicates                 {dup_rows} document rows beyond one per kind; {orphans} stored objects without a row")
    killed_text = f"killed at {killed['at']:.1f} s with {killed['stored']} stored" if killed["at"] is not None else "not killed"
    print(f"backfill time              {backfill_total:.1f} s in all (first run {killed_text}; second run {second_time:.1f} s; "
          f"limit {per_minute}/min → {60 * args.invoices / per_minute:.0f} s)")
    print(f"second run said            {second_summary}")
    print(f"left after the second run  {left_after_second} (held by the killed run's lease, {env['NFSE_ARCHIVE_LEASE_SECONDS']} s); "
          f"runs after the lease: {more_runs}; all stored at {all_stored:.1f} s")
    print(f"FaturarOS limit            {rate * 60:.0f}/min; theoretical minimum for {args.orders}: {minimum:.1f} s")
    print(f"FaturarOS phase, alone     {pct(base_phase)}; calls {base_calls}")
    print(f"FaturarOS phase, backfill  {pct(with_phase)}; calls {with_calls}; ObterNFSe during it: backfill {during['backfill']}, "
          f"the run's own archives {during['own']}")
    delay = 100 * (with_phase / base_phase - 1) if base_phase else 0.0
    print(f"delay by the backfill      {delay:+.1f}% (the day-25 run with the backfill: all ISSUED at {day25_done:.1f} s)")
    ok = (done == args.invoices and set(per_nf.values()) <= {1, 2} and sum(c - 1 for c in per_nf.values()) <= 1
          and dup_rows == 0 and orphans == 0 and base_calls == args.orders and with_calls == args.orders and second.returncode == 0)
    print("RESULT                     " + ("ok" if ok else "NOT OK"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
