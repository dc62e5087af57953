#!/usr/bin/env python
"""Scenario 7: beat is started twice by mistake (no singleton) and both fire the day-25 run.

Proves: each order is emitted once (one FaturarOS per OS) although the run fired at least twice:
the run claims orders with a conditional UPDATE, so a second firing finds nothing to claim.

    python bench/faults/s7_two_beats.py [--orders 300]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Stack, run_scenario
from s1_worker_kill import day25_outcome, day25_seed, wait_all_issued


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    def body(stack: Stack) -> tuple[bool, dict[str, object]]:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        from billing.models import BillingRun

        day25_seed(stack, args.orders)
        # The day-25 entry fires every minute (instead of 07:00 on the 25th), so both beats fire it now.
        task = PeriodicTask.objects.get(task="billing.tasks.billing_day_run")
        task.crontab, _ = CrontabSchedule.objects.get_or_create(minute="*", hour="*", day_of_month="*", month_of_year="*",
                                                                day_of_week="*", timezone=task.crontab.timezone)
        task.save()
        # Only the run may bill here: the due sweep claims the same orders and, when the next minute is
        # more than one sweep interval away, would win the race and the run would never fire.
        PeriodicTask.objects.filter(task="billing.tasks.billing_due_sweep").update(enabled=False)
        stack.start_web()
        stack.start_worker(concurrency=4)
        stack.start_beat("beat-1")
        stack.start_beat("beat-2")
        took = wait_all_issued(args.orders, args.timeout)
        firings = sum(BillingRun.objects.values_list("firings", flat=True))
        beat_sends = sum((stack.log_dir / f"beat-{i}.log").read_text().count("billing.tasks.billing_day_run")
                         for i in (1, 2))
        ok, figures = day25_outcome(args.orders)
        return ok and firings >= 2, {"run_firings": firings, "beat_log_sends": beat_sends, "run_s": round(took), **figures}

    return run_scenario("s7_two_beats", body, scale=0.05)


if __name__ == "__main__":
    sys.exit(main())
