#!/usr/bin/env python
"""Scenario 4: Redis is killed and restarted empty in the middle of a run (every queued message lost).

Proves: the sweeps (order sync sweep, billing dispatcher, writeback sweep, fired by beat from the
database) bring every order to its final state — SYNCED, billed once, every writeback delivered.
Uses the scenario's own redis-server; the machine's shared Redis is never touched.

    python bench/faults/s4_redis_restart.py [--orders 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Stack, run_scenario, wait_until
from syncflow import settled, sync_outcome, sync_seed, trigger_all


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--down-seconds", type=float, default=5)
    parser.add_argument("--timeout", type=float, default=400)
    args = parser.parse_args()

    def body(stack: Stack) -> tuple[bool, dict[str, object]]:
        import redis

        order_ids = sync_seed(args.orders)
        token = stack.service_token()
        stack.start_web()
        stack.start_worker(concurrency=4)
        stack.start_beat()
        answers = trigger_all(stack.url, token, order_ids[: args.orders // 2])
        queued = redis.Redis.from_url(stack.redis.url).dbsize()
        stack.redis.kill()  # queued messages, countdowns, throttle state: all gone
        time.sleep(args.down_seconds)
        stack.redis.start()
        answers.update(trigger_all(stack.url, token, order_ids[args.orders // 2:]))
        started = time.time()
        try:
            wait_until(settled, args.timeout, "orders did not settle")
        except TimeoutError:
            pass
        ok, figures = sync_outcome(args.orders)
        return ok and set(answers) <= {200, 202}, {"redis_keys_lost": queued, "trigger_answers": dict(answers),
                                                   "settle_s": round(time.time() - started), **figures}

    return run_scenario("s4_redis_restart", body, scale=0.05)


if __name__ == "__main__":
    sys.exit(main())
