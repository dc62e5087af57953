#!/usr/bin/env python
"""Scenario 1: the worker is SIGKILLed repeatedly during a day-25 run of 500 orders.

Proves: every order ends ``ISSUED`` and the fake Omie processed exactly one FaturarOS per OS (a
worker killed between the claim, the FaturarOS and the poll never makes the run bill twice or lose
an order: leases expire, ConsultarOS decides before any re-send).

    python bench/faults/s1_worker_kill.py [--orders 500] [--kills 6]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Stack, run_scenario


def day25_seed(stack: Stack, orders: int) -> None:
    from day25_run import seed

    from sandbox.fake_omie.services import fake_omie_reset

    fake_omie_reset(time_scale=stack.scale, latency_ms=0)
    seed(orders, 0)


def day25_outcome(orders: int) -> tuple[bool, dict[str, object]]:
    from django.db.models import Count

    from orders.models import Order
    from orders.statuses import BillingStatus
    from sandbox.fake_omie.models import FakeOmieCall

    counts = dict(Order.objects.values_list("billing_status").annotate(c=Count("id")).order_by())
    per_os = Counter(FakeOmieCall.objects.filter(call="FaturarOS", processed=True, http_status=200)
                     .values_list("param__cCodIntOS", flat=True))
    issued = counts.get(BillingStatus.ISSUED, 0)
    once = sum(1 for n in per_os.values() if n == 1)
    twice = sum(1 for n in per_os.values() if n > 1)
    ok = issued == orders and once == orders and twice == 0
    return ok, {"issued": f"{issued}/{orders}", "faturar_once": once, "faturar_more_than_once": twice,
                "statuses": ",".join(f"{k}:{v}" for k, v in sorted(counts.items()))}


def wait_all_issued(orders: int, timeout: float, tick: object = None) -> float:
    from orders.models import Order
    from orders.statuses import BillingStatus

    started = time.time()
    while time.time() - started < timeout:
        if Order.objects.filter(billing_status=BillingStatus.ISSUED).count() >= orders:
            break
        if callable(tick):
            tick()
        time.sleep(0.5)
    return time.time() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--every", type=float, default=4.0, help="seconds between kills")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    def body(stack: Stack) -> tuple[bool, dict[str, object]]:
        from billing.tasks import billing_day_run

        day25_seed(stack, args.orders)
        stack.start_web()
        stack.start_worker(concurrency=4)
        stack.start_beat()
        billing_day_run.delay()
        kills = 0
        last = time.time()

        def tick() -> None:
            nonlocal kills, last
            if kills < args.kills and time.time() - last >= args.every:
                stack.kill("worker")  # SIGKILL: the worker's tasks die mid-flight, unacknowledged
                kills += 1
                stack.start_worker(concurrency=4)
                last = time.time()

        took = wait_all_issued(args.orders, args.timeout, tick)
        ok, figures = day25_outcome(args.orders)
        return ok and kills == args.kills, {"kills": kills, "run_s": round(took), **figures}

    return run_scenario("s1_worker_kill", body, scale=0.05)


if __name__ == "__main__":
    sys.exit(main())
