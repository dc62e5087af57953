#!/usr/bin/env python
"""Scenario 5: PostgreSQL connections are dropped (``pg_terminate_backend``) again and again during work.

Proves: tasks that lose their connection retry (or are re-driven by the sweeps) and the final state
is correct: every order SYNCED, one customer and one OS per order in Omie, one FaturarOS per OS,
every writeback delivered.

    python bench/faults/s5_pg_terminate.py [--orders 60] [--rounds 10]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Stack, run_scenario, wait_until
from syncflow import settled, sync_outcome, sync_seed, trigger_all


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--every", type=float, default=1.5)
    parser.add_argument("--timeout", type=float, default=400)
    args = parser.parse_args()

    def body(stack: Stack) -> tuple[bool, dict[str, object]]:
        import psycopg
        from harness import server_url

        order_ids = sync_seed(args.orders)
        token = stack.service_token()
        stack.start_web()
        stack.start_worker(concurrency=4)
        stack.start_beat()
        terminated = 0

        def terminator() -> None:
            nonlocal terminated
            with psycopg.connect(server_url(), autocommit=True) as conn:
                for _ in range(args.rounds):
                    time.sleep(args.every)
                    rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = %s AND pid <> pg_backend_pid()", [stack.db_name]).fetchall()
                    terminated += len(rows)

        killer = threading.Thread(target=terminator)
        killer.start()
        answers = trigger_all(stack.url, token, order_ids)
        killer.join()
        from django.db import connections

        connections.close_all()  # ours was dropped too
        started = time.time()
        try:
            wait_until(settled, args.timeout, "orders did not settle")
        except TimeoutError:
            pass
        ok, figures = sync_outcome(args.orders)
        # A trigger whose request lost its connection may get a 500: Bubble retries it; all must end synced.
        return ok, {"connections_terminated": terminated, "trigger_answers": dict(answers),
                    "settle_s": round(time.time() - started), **figures}

    return run_scenario("s5_pg_terminate", body, scale=0.05)


if __name__ == "__main__":
    sys.exit(main())
