#!/usr/bin/env python
"""Scenario 2: the fake Omie bans FaturarOS (HTTP 425) in the middle of a day-25 run.

Proves: after the first 425 no FaturarOS reaches Omie until the ban ends (the pause is shared by
every worker through Redis; each call during a real ban would extend it), the run completes
afterwards, and Omie answered 425 exactly once (zero extra 425 answers).

    python bench/faults/s2_omie_ban.py [--orders 300] [--ban-seconds 20]
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
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--ban-seconds", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    def body(stack: Stack) -> tuple[bool, dict[str, object]]:
        from billing.tasks import billing_day_run
        from sandbox.fake_omie.models import FakeOmieBan, FakeOmieCall
        from sandbox.fake_omie.services import fake_omie_ban, fake_omie_configure

        day25_seed(stack, args.orders)
        # A call during the ban extends it by ban_seconds × scale: the same length as the ban itself.
        fake_omie_configure(ban_seconds=args.ban_seconds / stack.scale)
        stack.start_web()
        stack.start_worker(concurrency=4)
        stack.start_beat()
        billing_day_run.delay()
        faturar = FakeOmieCall.objects.filter(call="FaturarOS")
        wait_until(lambda: faturar.filter(http_status=200).count() >= args.orders // 4, 300, "FaturarOS never started")
        fake_omie_ban(app_key=stack.env["OMIE_APP_KEY"], call="FaturarOS", seconds=args.ban_seconds)
        took = wait_all_issued(args.orders, args.timeout)

        ban = FakeOmieBan.objects.get(call="FaturarOS")
        banned_answers = list(faturar.filter(http_status=425).order_by("received_at"))
        first = banned_answers[0].received_at if banned_answers else None
        during = faturar.filter(received_at__gt=first, received_at__lt=ban.until).count() if first else -1
        after = faturar.filter(received_at__gte=ban.until, http_status=200).count()
        ok, figures = day25_outcome(args.orders)
        ok = ok and len(banned_answers) == 1 and during == 0 and after > 0
        return ok, {"answers_425": len(banned_answers), "faturar_calls_during_ban": during,
                    "ban_s": round((ban.until - ban.started_at).total_seconds(), 1),
                    "faturar_after_ban": after, "run_s": round(took), **figures}

    return run_scenario("s2_omie_ban", body, scale=0.05)


if __name__ == "__main__":
    time.sleep(0)
    sys.exit(main())
