#!/usr/bin/env python
"""Scenario 4 (and 4b, 4c): Redis goes away in the middle of a run and comes back empty.

- s4:  Redis SIGKILLed with acks-late tasks in flight, back after 5 s (every queued message lost);
- s4b: Redis SIGKILLed, back, and SIGKILLed again within 3 s, then back for good (``--pattern twice``);
- s4c: Redis stopped (SIGTERM) for 60 s, then back (``--pattern stop --down-seconds 60``).

Proves: the worker survives (or, if it exits, the deployment's restart policy — modelled by the
harness, counted in ``restarts`` — brings it back) and resumes consuming, and the sweeps (order sync
sweep, billing dispatcher, writeback sweep, fired by beat from the database) bring every order to its
final state — SYNCED, billed once, every writeback delivered. Also reports whether a worker logged the
kombu crash (``kombu_crash``) or was ended by the consumption watchdog (``watchdog_exits``).
Uses the scenario's own redis-server; the machine's shared Redis is never touched.

    python bench/faults/s4_redis_restart.py [--orders 60] [--pattern kill|twice|stop] [--down-seconds 5]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Stack, run_scenario, wait_until
from syncflow import settled, sync_outcome, sync_seed, trigger_all


def redis_outage(stack: Stack, pattern: str, down_seconds: float) -> None:
    if pattern == "twice":
        stack.redis.kill()  # queued messages, countdowns, throttle state: all gone
        time.sleep(0.5)
        stack.redis.start()
        time.sleep(1.5)  # the worker is reconnecting / restoring when Redis goes again, < 3 s after the first
        stack.redis.kill()
        time.sleep(0.5)
    elif pattern == "stop":
        stack.redis.kill(signal.SIGTERM)
        time.sleep(down_seconds)
    else:
        stack.redis.kill()
        time.sleep(down_seconds)
    stack.redis.start()


def log_counts(stack: Stack) -> dict[str, int]:
    text = "".join(p.read_text(errors="replace") for p in stack.log_dir.glob("worker*.log"))
    return {"kombu_crash": text.count("Unrecoverable error"), "watchdog_exits": text.count("parou de consumir")}


def main(name: str = "s4_redis_restart", pattern: str = "kill", down_seconds: float = 5) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--pattern", choices=["kill", "twice", "stop"], default=pattern)
    parser.add_argument("--down-seconds", type=float, default=down_seconds)
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
        redis_outage(stack, args.pattern, args.down_seconds)
        answers.update(trigger_all(stack.url, token, order_ids[args.orders // 2:]))
        started = time.time()
        try:
            wait_until(settled, args.timeout, "orders did not settle")
        except TimeoutError:
            pass
        ok, figures = sync_outcome(args.orders)
        if args.pattern == "stop":  # s4c: the worker must ride out the outage, not be restarted
            ok = ok and not stack.restarts.get("worker")
        return ok and set(answers) <= {200, 202}, {"redis_keys_lost": queued, "trigger_answers": dict(answers),
                                                   "settle_s": round(time.time() - started), **figures,
                                                   **log_counts(stack)}

    return run_scenario(name, body, scale=0.05)


if __name__ == "__main__":
    sys.exit(main())
