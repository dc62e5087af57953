#!/usr/bin/env python
"""Scenario 3: the fake Bubble answers 503 for a while during a day-25 run.

Proves: every writeback is delivered after Bubble recovers (none ``DEAD``, none pending), the
newest values win (each ``pedido`` in the fake Bubble ends with the invoice's final number and
status), and none is lost.

    python bench/faults/s3_bubble_outage.py [--orders 200] [--outage-seconds 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Stack, run_scenario, wait_until
from s1_worker_kill import day25_outcome, day25_seed, wait_all_issued


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--outage-seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    def body(stack: Stack) -> tuple[bool, dict[str, object]]:
        from billing.tasks import billing_day_run
        from integrations.bubble.models import BubbleWriteback
        from orders.models import Order
        from sandbox.fake_bubble import services as fake_bubble
        from sandbox.fake_bubble.models import FakePatch, FakeThing

        day25_seed(stack, args.orders)
        stack.start_web()
        stack.start_worker(concurrency=4)
        stack.start_beat()
        billing_day_run.delay()
        wait_until(lambda: FakePatch.objects.filter(status_code__lt=300).exists(), 300, "no writeback reached Bubble")
        fake_bubble.control_set(outage_status=503)
        outage_started = time.time()
        time.sleep(args.outage_seconds)
        fake_bubble.control_set(outage_status=None)
        took = wait_all_issued(args.orders, args.timeout)

        def delivered() -> bool:
            return not BubbleWriteback.objects.exclude(status="DONE").exists()

        try:
            wait_until(delivered, 120, "writebacks still pending")
        except TimeoutError:
            pass
        statuses = dict.fromkeys(BubbleWriteback.objects.values_list("status", flat=True).distinct(), 0)
        for status in statuses:
            statuses[status] = BubbleWriteback.objects.filter(status=status).count()
        refused = FakePatch.objects.filter(status_code=503).count()
        things = {t.bubble_id: t.data for t in FakeThing.objects.filter(type_name="pedido")}
        stale = 0
        final_labels = set()
        for order in Order.objects.all():
            invoice = order.invoices.order_by("-id").first()
            data = things.get(order.bubble_id, {})
            final_labels.add(data.get("status_faturamento"))
            if invoice is None or str(data.get("nf_numero") or "") != str(invoice.nfse_number or ""):
                stale += 1
        ok, figures = day25_outcome(args.orders)
        ok = ok and set(statuses) == {"DONE"} and stale == 0 and len(final_labels) == 1 and refused > 0
        return ok, {"outage_s": round(time.time() - outage_started - took), "answers_503": refused,
                    "writebacks": ",".join(f"{k}:{v}" for k, v in statuses.items()), "stale_in_bubble": stale,
                    "final_status_labels": "|".join(map(str, final_labels)), **figures}

    return run_scenario("s3_bubble_outage", body, scale=0.05)


if __name__ == "__main__":
    sys.exit(main())
