"""`make run`'s demo: the seeded orders go through the real flow (trigger → sync → billing in a real
Celery worker against the fake Omie, Bubble and BrasilAPI) and the dashboard shows every state within
90 s — also when Omie webhooks have arrived before (the first poll's longer wait is shortened in the
sandbox); running it again triggers nothing and waits for nothing, whatever ops changed meanwhile."""

from __future__ import annotations

import time

import pytest

from backoffice.dashboard import dashboard_data
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus, PaymentStatus, SyncStatus
from sandbox.demo import WANTED_BILLING, WANTED_SYNC, demo_prepare, demo_run
from sandbox.demo_timings import DEMO_ENV

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_demo_shows_every_state_within_90_seconds_and_does_not_duplicate(sandbox, celery_worker_process, settings,
                                                                              user_factory):
    from sandbox.seed import demo_order_ids, order_id

    for key, value in DEMO_ENV.items():
        setattr(settings, key, float(value) if "." in value or key.endswith("SECONDS") else int(value))
    settings.BRASILAPI_RATE_PER_SECOND = 20.0
    admin = user_factory("admin", is_superuser=True, is_staff=True)
    # An Omie webhook arrived a moment ago (as on any `make run` after the first NFS-e): the first poll
    # would wait BILLING_FIRST_POLL_WITH_WEBHOOKS_SECONDS, and the rejection brings no event.
    from integrations.omie.webhooks.models import OmieEventStatus, OmieWebhookEvent

    OmieWebhookEvent.objects.create(message_id="demo-earlier", topic="NFSe.NotaAutorizada", payload={},
                                    status=OmieEventStatus.NO_CHANGE)
    settings.OMIE_WEBHOOKS = True
    celery_worker_process(concurrency=4, **sandbox.worker_env(**DEMO_ENV, OMIE_WEBHOOKS="true"))

    started = time.monotonic()
    demo_prepare()
    result = demo_run(timeout=90)
    elapsed = time.monotonic() - started
    print(f"demo complete in {elapsed:.1f} s: {result.billing_counts}")
    assert result.complete, f"missing after {elapsed:.0f} s: {result.missing}"
    assert elapsed < 90

    dashboard = dashboard_data()
    shown = {row["value"]: row["count"] for row in dashboard.sync_counts + dashboard.billing_counts}
    assert all(shown[state] >= 1 for state in (*WANTED_SYNC, *WANTED_BILLING)), shown
    assert Order.objects.count() == len(demo_order_ids())
    # The failures say why; the seeded paid order shows what was paid.
    assert Order.objects.filter(sync_status=SyncStatus.FAILED).exclude(last_error="").exists()
    assert Order.objects.filter(billing_status=BillingStatus.FAILED).exclude(last_error="").exists()
    paid = Order.objects.get(bubble_id=order_id(1))
    assert paid.payment_status == PaymentStatus.PAID and paid.amount_paid == paid.amount > 0

    # What ops read on the demo's pages: no developer text, money in reais.
    from django.test import Client

    from backoffice.ops_language import ops_text_problems, visible_text

    client = Client()
    client.force_login(admin)
    problems = []
    for url in ["/admin/", "/admin/orders/order/", "/admin/orders/actionlog/", "/admin/billing/invoice/",
                *(f"/admin/orders/order/{pk}/change/" for pk in Order.objects.values_list("pk", flat=True))]:
        response = client.get(url)
        assert response.status_code == 200, url
        problems += [f"{url}: {p}" for p in ops_text_problems(visible_text(response.content.decode()))]
    assert problems == [], "\n".join(problems)

    # One customer has a balance (the cancelled NF's payment, transferred) and an unpaid order: "Usar conta corrente" is on.
    from sandbox.seed import DEMO_USE_CC_ORDER

    unpaid = Order.objects.get(bubble_id=order_id(DEMO_USE_CC_ORDER))
    assert unpaid.payment_status == PaymentStatus.PENDING
    assert f'href="/admin/orders/order/{unpaid.pk}/acao/use-cc/"' in client.get(f"/admin/orders/order/{unpaid.pk}/change/").content.decode()

    # Ops moves an order on (approves the held one): a second `make run` must not wait for "Retido".
    Order.objects.filter(billing_status=BillingStatus.ON_HOLD).update(billing_status=BillingStatus.SCHEDULED)

    # Again (a second `make run`): nothing triggered, nothing duplicated, no new action-log lines from
    # triggers, and no waiting (the command's own timeout, not a short one).
    logged = ActionLog.objects.filter(action="sync_trigger").count()
    started = time.monotonic()
    demo_prepare()
    again = demo_run(timeout=90)
    assert time.monotonic() - started < 30
    assert again.rerun and again.triggered == [] and len(again.already_there) == len(demo_order_ids())
    assert again.actions == [] and BillingStatus.ON_HOLD.label in again.missing
    assert Order.objects.count() == len(demo_order_ids())
    assert ActionLog.objects.filter(action="sync_trigger").count() == logged
