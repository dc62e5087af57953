#!/usr/bin/env python
"""Scenario 6: 50 concurrent duplicate triggers per order and 50 concurrent copies of each webhook.

Proves: one Omie customer and one OS per order (one 202, the rest 200), each Pagar.me event stored
and processed once (one row per event id, every copy answered 200).

    python bench/faults/s6_duplicates.py [--orders 10] [--copies 50]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import Stack, run_scenario, wait_until
from syncflow import settled, sync_outcome, sync_seed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    def body(stack: Stack) -> tuple[bool, dict[str, object]]:
        import requests

        from integrations.pagarme.webhooks.models import PagarmeEvent
        from sandbox.pagarme_events import pagarme_event_body, pagarme_event_build

        order_ids = sync_seed(args.orders)
        token = stack.service_token()
        stack.start_web(workers=3, threads=24)
        stack.start_worker(concurrency=4)
        stack.start_beat()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=args.copies)
        session.mount("http://", adapter)

        resets = 0

        def send(method: str, url: str, **kwargs: object) -> int:
            # A dropped connection is sent again, as Bubble's and Pagar.me's senders do: still a duplicate.
            nonlocal resets
            for _ in range(5):
                try:
                    return session.request(method, url, timeout=60, **kwargs).status_code  # type: ignore[arg-type]
                except requests.ConnectionError:
                    resets += 1
            return 0

        def trigger(order_id: str) -> int:
            return send("POST", f"{stack.url}/v1/orders/{order_id}/sync-omie", json={})

        triggers: Counter[int] = Counter()
        first_answers: list[int] = []
        with ThreadPoolExecutor(args.copies) as pool:
            for order_id in order_ids:
                answers = list(pool.map(trigger, [order_id] * args.copies))
                triggers.update(answers)
                first_answers.append(answers.count(202))
        from sandbox.fake_pagarme import keys as fake_pagarme_keys
        from sandbox.fake_pagarme.services import event_register

        events = [pagarme_event_build(event_type="charge.paid", bubble_order_id=o, amount=Decimal("150.00")) for o in order_ids]
        for event in events:
            event_register(event)  # the stack's fake Pagar.me API confirms the charges

        def deliver(body: bytes) -> int:
            # Signed as Pagar.me v5 does (RS256, the stack's fake JWKS), the production default.
            return send("POST", f"{stack.url}/webhooks/pagarme", data=body,
                        headers={"X-Webhook-Asymmetric-Signature": fake_pagarme_keys.sign(body), "Content-Type": "application/json"})

        hooks: Counter[int] = Counter()
        with ThreadPoolExecutor(args.copies) as pool:
            for event in events:
                hooks.update(pool.map(deliver, [pagarme_event_body(event)] * args.copies))
        try:
            wait_until(settled, args.timeout, "orders did not settle")
        except TimeoutError:
            pass
        wait_until(lambda: not PagarmeEvent.objects.filter(processed_at__isnull=True).exists(), 60, "events unprocessed")
        stored = Counter(PagarmeEvent.objects.values_list("event_id", flat=True))
        ok, figures = sync_outcome(args.orders)
        ok = (ok and set(first_answers) == {1} and set(triggers) == {200, 202} and set(hooks) == {200}
              and len(stored) == len(events) and max(stored.values()) == 1)
        return ok, {"connection_resets_resent": resets, "trigger_answers": dict(triggers), "webhook_answers": dict(hooks),
                    "events_stored": len(stored),
                    **figures}

    return run_scenario("s6_duplicates", body, scale=0.05)


if __name__ == "__main__":
    sys.exit(main())
