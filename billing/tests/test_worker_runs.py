"""Billing with real Celery workers against the fake Omie and fake Bubble (acceptance of issue 5).

Slow: real processes, hundreds of orders. Omie runs in fast motion (windows × 0.01) with its limits
scaled to match; nothing else is faked.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from decimal import Decimal

import pytest

from billing.models import Invoice
from billing.tests.conftest import FAST_BILLING, omie_os_for
from billing.tests.factories import OrderFactory
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus, HoldReason
from testsupport.processes import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKER_QUEUES = "default,omie,bubble,webhooks"
BUBBLE_TOKEN = "test-bubble-token"


@pytest.fixture(autouse=True)
def _fake_bubble_token(settings):
    settings.BUBBLE_API_TOKEN = BUBBLE_TOKEN  # what the fake Bubble (in this process) expects


def worker_env(fake_omie, live_server, **extra) -> dict[str, str]:
    values = {
        **{name: str(value) for name, value in FAST_BILLING.items()},
        "BUBBLE_BASE_URL": f"{live_server.url}/sandbox/bubble/api/1.1",
        "BUBBLE_API_TOKEN": BUBBLE_TOKEN,
        # Omie's limits are scaled by the fake's time scale; ours follow (still below the fake's).
        "OMIE_RATE_PER_METHOD_PER_MINUTE": "3000",
        "OMIE_RATE_PER_KEY_PER_MINUTE": "12000",
        "OMIE_RATE_BURST_PER_METHOD": "20",
        "OMIE_RATE_BURST_PER_KEY": "80",
        **{k: str(v) for k, v in extra.items()},
    }
    return fake_omie.env(**values)


def seed_bubble(orders: list[Order]) -> None:
    from sandbox.fake_bubble.services import thing_put

    for order in orders:
        thing_put(type_name="pedido", bubble_id=order.bubble_id, fields={"valor_total": str(order.amount)})


def faturar_per_os(fake_omie) -> Counter:
    return Counter(c.param["cCodIntOS"] for c in fake_omie.calls("FaturarOS"))


def test_day25_run_with_two_workers_fired_three_times_issues_each_order_once(fake_omie, live_server, celery_worker_process):
    from billing.tasks import billing_day_run
    from sandbox.fake_bubble.models import FakeThing

    scheduled = OrderFactory.create_batch(300)
    held = OrderFactory.create_batch(20, billing_status=BillingStatus.ON_HOLD, hold_reason=HoldReason.CUSTOMER_FLAG)
    for order in [*scheduled, *held]:
        omie_os_for(order)
    seed_bubble(scheduled)
    env = worker_env(fake_omie, live_server)
    for _ in range(2):
        celery_worker_process(queues=WORKER_QUEUES, concurrency=2, **env)

    for _ in range(3):
        billing_day_run.delay()

    ids = [o.pk for o in scheduled]
    wait_for(lambda: Order.objects.filter(pk__in=ids, billing_status=BillingStatus.ISSUED).count() == 300, timeout=240,
             message="the 300 orders did not all reach ISSUED")
    assert Order.objects.filter(pk__in=[o.pk for o in held], billing_status=BillingStatus.ON_HOLD).count() == 20
    assert Invoice.objects.filter(order_id__in=ids, status=BillingStatus.ISSUED).exclude(nfse_number="").count() == 300
    per_os = faturar_per_os(fake_omie)
    assert len(per_os) == 300 and set(per_os.values()) == {1}, "FaturarOS sent more than once for some OS"
    assert not Invoice.objects.filter(order__in=held).exists()

    def bubble_has_all() -> bool:
        things = FakeThing.objects.filter(type_name="pedido", bubble_id__in=[o.bubble_id for o in scheduled])
        return sum(1 for t in things if t.data.get("status_faturamento") == "NF emitida" and t.data.get("nf_numero")) == 300

    wait_for(bubble_has_all, timeout=120, message="Bubble was not updated for every order")
    # A fourth firing after everything is done changes nothing.
    billing_day_run.delay()
    time.sleep(2)
    assert len(faturar_per_os(fake_omie)) == 300 and Invoice.objects.count() == 300


def test_a_worker_killed_after_sending_faturar_never_sends_it_again(fake_omie, live_server, celery_worker_process):
    from billing.services.run import orders_due_claim
    from billing.tasks import invoices_dispatch
    from sandbox.fake_omie.models import FakeServiceOrder

    order = OrderFactory()
    omie_os_for(order)
    # FaturarOS reaches Omie and takes 4 s to answer: the worker dies in between.
    fake_omie.inject("slow", call="FaturarOS", seconds=4)
    env = worker_env(fake_omie, live_server, BILLING_WORK_LEASE_SECONDS=5, OMIE_READ_TIMEOUT=10)
    worker = celery_worker_process(queues=WORKER_QUEUES, concurrency=1, **env)
    orders_due_claim(actor="system:test")

    wait_for(lambda: fake_omie.calls("FaturarOS"), timeout=30, message="FaturarOS was never sent")
    worker.kill(signal.SIGKILL)
    invoice = Invoice.objects.get(order=order)
    assert invoice.faturar_requested_at is not None and invoice.faturar_accepted_at is None  # the outcome is unknown here
    wait_for(lambda: FakeServiceOrder.objects.get(c_cod_int_os=order.bubble_id).faturada, timeout=15)

    celery_worker_process(queues=WORKER_QUEUES, concurrency=1, **env)

    def issued() -> bool:
        invoices_dispatch.delay()  # what beat does every 30 s
        return Order.objects.get(pk=order.pk).billing_status == BillingStatus.ISSUED

    wait_for(issued, timeout=60, interval=1.0, message="the order did not reach ISSUED after the restart")
    assert len(fake_omie.calls("FaturarOS")) == 1
    assert [c.call for c in fake_omie.calls()].count("ConsultarOS") >= 1
    assert Invoice.objects.get(pk=invoice.pk).faturar_attempts == 1


def test_charge_paid_and_order_paid_for_one_payment_give_one_transition_one_decision_one_faturar_os(
        fake_omie, fake_pagarme, live_server, celery_worker_process, settings):
    """rs256-signed charge.paid and order.paid for the same charge, confirmed by the fake Pagar.me's API by a
    real worker: one payment transition, one billing decision, one FaturarOS; the order ends ISSUED."""
    from django.test import Client
    from django.utils import timezone

    from integrations.pagarme.webhooks.models import PagarmeEvent
    from sandbox.pagarme_events import pagarme_event_body, pagarme_event_build

    order = OrderFactory(pf_unpaid=True, amount=Decimal("250.00"))
    omie_os_for(order)
    seed_bubble([order])
    celery_worker_process(queues=WORKER_QUEUES, concurrency=2, **worker_env(fake_omie, live_server, **fake_pagarme.env))

    now = timezone.now()
    for event_type in ("charge.paid", "order.paid"):
        event = pagarme_event_build(event_type=event_type, bubble_order_id=order.bubble_id, amount=Decimal("250.00"), occurred_at=now)
        fake_pagarme.register(event)
        body = pagarme_event_body(event)
        response = Client().post("/webhooks/pagarme", data=body, content_type="application/json",
                                 HTTP_X_WEBHOOK_ASYMMETRIC_SIGNATURE=fake_pagarme.sign(body))
        assert response.status_code == 200, response.content

    wait_for(lambda: Order.objects.get(pk=order.pk).billing_status == BillingStatus.ISSUED, timeout=60)
    wait_for(lambda: not PagarmeEvent.objects.filter(status=PagarmeEvent.Status.RECEIVED).exists(), timeout=30)
    steps = list(ActionLog.objects.filter(order=order).order_by("id").values_list("action", flat=True))
    assert steps.index("payment_update") < steps.index("billing_emit") < steps.index("billing_issued")
    assert steps.count("payment_update") == 1 and steps.count("billing_emit") == 1
    assert steps[steps.index("payment_update"):].count("billing_decide") == 1
    assert sorted(PagarmeEvent.objects.values_list("status", flat=True)) == ["APPLIED", "DUPLICATE"]
    assert set(PagarmeEvent.objects.values_list("api_status", flat=True)) == {"paid"}
    assert len(fake_omie.calls("FaturarOS")) == 1


def test_pagarme_api_down_for_a_while_the_payment_is_applied_after_recovery_exactly_once(
        fake_omie, fake_pagarme, live_server, celery_worker_process, settings):
    """Pagar.me's API answers 503 for 60 s × 0.1 (retries scaled the same way): the event waits (the order
    stays unpaid, the worker keeps retrying with backoff), then is applied once; one FaturarOS."""
    from django.test import Client
    from django.utils import timezone

    from integrations.pagarme.webhooks.models import PagarmeEvent
    from orders.statuses import PaymentStatus
    from sandbox.pagarme_events import pagarme_event_body, pagarme_event_build

    scale = 0.1
    order = OrderFactory(pf_unpaid=True, amount=Decimal("250.00"))
    omie_os_for(order)
    seed_bubble([order])
    retries = {"PAGARME_CONFIRM_RETRY_BASE_SECONDS": str(15 * scale), "PAGARME_CONFIRM_RETRY_MAX_SECONDS": str(60 * scale / 4),
               "PAGARME_CONFIRM_MAX_TRIES": "100"}
    celery_worker_process(queues=WORKER_QUEUES, concurrency=2, **worker_env(fake_omie, live_server, **fake_pagarme.env, **retries))

    fake_pagarme.control(api_status=503)
    event = pagarme_event_build(event_type="charge.paid", bubble_order_id=order.bubble_id, amount=Decimal("250.00"),
                                occurred_at=timezone.now())
    fake_pagarme.register(event)
    body = pagarme_event_body(event)
    response = Client().post("/webhooks/pagarme", data=body, content_type="application/json",
                             HTTP_X_WEBHOOK_ASYMMETRIC_SIGNATURE=fake_pagarme.sign(body))
    assert response.status_code == 200
    down_until = time.monotonic() + 60 * scale
    wait_for(lambda: PagarmeEvent.objects.filter(attempts__gte=2).exists(), timeout=30, message="the worker did not retry")
    while time.monotonic() < down_until:
        assert Order.objects.get(pk=order.pk).payment_status != PaymentStatus.PAID
        assert PagarmeEvent.objects.get().status == PagarmeEvent.Status.RECEIVED
        time.sleep(0.2)
    calls_during_outage = fake_pagarme.count("api")
    fake_pagarme.control(api_status=None)

    wait_for(lambda: PagarmeEvent.objects.get().status == PagarmeEvent.Status.APPLIED, timeout=30, message="not applied after recovery")
    wait_for(lambda: Order.objects.get(pk=order.pk).billing_status == BillingStatus.ISSUED, timeout=60)
    time.sleep(60 * scale / 4 + 1)  # any retry still scheduled has run by now
    assert ActionLog.objects.filter(order=order, action="payment_update").count() == 1
    assert len(fake_omie.calls("FaturarOS")) == 1
    assert 3 <= calls_during_outage <= 20  # backed off, not hammering
