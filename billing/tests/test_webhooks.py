"""POST /webhooks/pagarme: verify, store, 200, process once, never regress the payment.

These exercise the state machine with the v4 HMAC scheme and API confirmation off (accounts without an
API key); tests/…/test_pagarme_v5.py covers rs256, Basic and the API confirmation against the fake."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import Invoice
from billing.services.webhooks import pagarme_event_process
from billing.tests.factories import OrderFactory, order_in_state
from integrations.pagarme.webhooks.models import PagarmeEvent
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus, PaymentStatus

pytestmark = pytest.mark.django_db

SECRET = "test-webhook-secret"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.PAGARME_WEBHOOK_SECRET = SECRET
    settings.PAGARME_WEBHOOK_AUTH = ["hmac"]
    settings.PAGARME_CONFIRM_WITH_API = False


def event(order_id: str, event_type: str = "charge.paid", *, occurred_at=None, event_id=None, amount="1500.00") -> dict:
    from sandbox.pagarme_events import pagarme_event_build

    return pagarme_event_build(event_type=event_type, bubble_order_id=order_id, amount=Decimal(amount), event_id=event_id,
                               charge_id="ch_test", occurred_at=occurred_at or timezone.now(), created_at=timezone.now())


def post(payload, *, secret: str = SECRET, raw: bytes | None = None, header: str | None = "auto"):
    from integrations.pagarme.signature import signature_header

    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {}
    if header == "auto":
        headers["HTTP_X_HUB_SIGNATURE"] = signature_header(raw_body=body, secret=secret)
    elif header is not None:
        headers["HTTP_X_HUB_SIGNATURE"] = header
    return Client().post("/webhooks/pagarme", data=body, content_type="application/json", **headers)


def process_all() -> None:
    """Processes what is waiting, in arrival order (what one worker would do)."""
    for pk in PagarmeEvent.objects.filter(status=PagarmeEvent.Status.RECEIVED).order_by("id").values_list("id", flat=True):
        pagarme_event_process(event_pk=pk)


@pytest.mark.parametrize("header", [None, "sha256=" + "0" * 64, "sha256=nothex", "md5=abc"])
def test_a_missing_or_bad_signature_is_401_and_nothing_is_stored(header, django_capture_on_commit_callbacks):
    order = OrderFactory(pf_unpaid=True)
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(event(order.bubble_id), header=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not PagarmeEvent.objects.exists() and not callbacks


def test_signed_with_another_secret_is_401():
    order = OrderFactory(pf_unpaid=True)
    assert post(event(order.bubble_id), secret="outro-segredo").status_code == 401
    assert not PagarmeEvent.objects.exists()


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"texto"', b"{nao e json", b'{"type": "charge.paid"}'])
def test_a_body_that_is_not_an_event_object_is_400(raw):
    assert post(None, raw=raw).status_code == 400
    assert not PagarmeEvent.objects.exists()


def test_a_body_over_one_megabyte_is_413():
    raw = json.dumps({"id": "hook_big", "type": "charge.paid", "pad": "x" * (1024 * 1024)}).encode()
    assert post(None, raw=raw).status_code == 413


def test_a_duplicated_event_is_answered_200_and_processed_once(django_capture_on_commit_callbacks):
    order = OrderFactory(pf_unpaid=True)
    payload = event(order.bubble_id, event_id="hook_dup_1")
    with django_capture_on_commit_callbacks(execute=False) as first:
        assert post(payload).json() == {"received": True, "duplicate": False}
    with django_capture_on_commit_callbacks(execute=False) as second:
        assert post(payload).json() == {"received": True, "duplicate": True}
    assert len(first) == 1 and len(second) == 0  # only the first delivery enqueues processing
    stored = PagarmeEvent.objects.get()
    assert stored.payload == payload and stored.status == PagarmeEvent.Status.RECEIVED

    assert pagarme_event_process(event_pk=stored.pk) == PagarmeEvent.Status.APPLIED
    assert pagarme_event_process(event_pk=stored.pk) == "already_processed"  # a redelivered task
    assert ActionLog.objects.filter(order=order, action="payment_update").count() == 1


def test_charge_paid_for_an_unpaid_pf_order_marks_it_paid_and_starts_emission():
    order = OrderFactory(pf_unpaid=True, amount=Decimal("350.00"))
    post(event(order.bubble_id, amount="350.00"))
    process_all()
    order.refresh_from_db()
    assert (order.payment_status, order.paid_via, order.amount_paid) == (PaymentStatus.PAID, "pagarme", Decimal("350.00"))
    assert order.billing_status == BillingStatus.ISSUING
    assert Invoice.objects.get(order=order).status == BillingStatus.ISSUING
    assert PagarmeEvent.objects.get().order_id == order.pk


def test_an_older_payment_failure_arriving_after_the_payment_leaves_it_paid():
    order = OrderFactory(pf_unpaid=True)
    now = timezone.now()
    post(event(order.bubble_id, "charge.paid", occurred_at=now))
    post(event(order.bubble_id, "charge.payment_failed", occurred_at=now - timedelta(minutes=3)))
    process_all()
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    statuses = dict(PagarmeEvent.objects.values_list("type", "status"))
    assert statuses == {"charge.paid": "APPLIED", "charge.payment_failed": "STALE"}


def test_a_paid_event_delivered_after_the_refund_that_followed_it_changes_nothing():
    order = order_in_state(BillingStatus.ISSUED, paid=True, payment_state_at=timezone.now() - timedelta(hours=1))
    now = timezone.now()
    post(event(order.bubble_id, "charge.refunded", occurred_at=now))
    post(event(order.bubble_id, "charge.paid", occurred_at=now - timedelta(minutes=10)))
    process_all()
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.REFUNDED


def test_a_failure_before_payment_then_the_payment_ends_paid():
    order = OrderFactory(pf_unpaid=True)
    now = timezone.now()
    post(event(order.bubble_id, "charge.payment_failed", occurred_at=now - timedelta(minutes=5)))
    process_all()
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.FAILED
    post(event(order.bubble_id, "charge.paid", occurred_at=now))
    process_all()
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PAID


@pytest.mark.parametrize("event_type", ["charge.refunded", "charge.chargedback"])
def test_refunds_and_chargebacks_flag_the_order_and_never_cancel_its_nf(event_type):
    order = order_in_state(BillingStatus.ISSUED, paid=True)
    post(event(order.bubble_id, event_type))
    process_all()
    order.refresh_from_db()
    assert order.payment_status == event_type.split(".")[1]
    assert order.payment_flag
    assert order.billing_status == BillingStatus.ISSUED
    assert Invoice.objects.get(order=order).status == BillingStatus.ISSUED


def test_unknown_types_and_unmatched_orders_are_kept_with_their_reason():
    order = OrderFactory(pf_unpaid=True)
    post({**event(order.bubble_id), "type": "charge.created"})
    post(event("1671702337369x999999999999999999", "charge.paid"))
    process_all()
    kept = {e.type: (e.status, e.message) for e in PagarmeEvent.objects.all()}
    assert kept["charge.created"][0] == PagarmeEvent.Status.UNKNOWN_TYPE
    assert kept["charge.paid"][0] == PagarmeEvent.Status.UNMATCHED
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PENDING


def test_an_event_for_an_order_that_arrives_later_is_applied_when_the_order_is_decided(django_capture_on_commit_callbacks):
    from billing.services.decision import order_billing_decide
    from billing.tests.factories import bubble_id

    later_id = bubble_id()
    post(event(later_id, "charge.paid", amount="99.00"))
    process_all()
    assert PagarmeEvent.objects.get().status == PagarmeEvent.Status.UNMATCHED

    order = OrderFactory(pf_unpaid=True, bubble_id=later_id, amount=Decimal("99.00"), billing_status="", billing_trigger="")
    with django_capture_on_commit_callbacks(execute=False):
        order_billing_decide(order=order, actor="system:test")
    assert PagarmeEvent.objects.get().status == PagarmeEvent.Status.RECEIVED
    process_all()
    order.refresh_from_db()
    assert (order.payment_status, order.billing_status) == (PaymentStatus.PAID, BillingStatus.ISSUING)
