"""Pagar.me as it really reports money, against the fake Pagar.me over real HTTP (live server):

- no "refunded" charge status: a full refund reads ``canceled`` with ``canceled_amount``, a partial one
  stays ``paid`` (``charge.partial_canceled``);
- a charge confirms a payment only for its own order (metadata / order code);
- ``paid_amount`` is compared with the order's amount: under → no NF, over → NF and a flag;
- ids are checked before they reach a URL; extra signature parameters are ignored; refusals are counted.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from billing.services.webhooks import pagarme_event_process
from billing.tests.factories import OrderFactory, order_in_state
from integrations.pagarme.webhooks.models import PagarmeEvent, PagarmeWebhookRefusal
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus, PaymentStatus
from sandbox.pagarme_events import pagarme_event_body, pagarme_event_build

pytestmark = pytest.mark.django_db(transaction=True)


def build(order: Order, event_type: str = "charge.paid", **kwargs) -> dict:
    kwargs.setdefault("amount", order.amount)
    return pagarme_event_build(event_type=event_type, bubble_order_id=order.bubble_id, occurred_at=timezone.now(), **kwargs)


def post_signed(fake_pagarme, event: dict, *, register: bool = True, header_suffix: str = ""):
    if register:
        fake_pagarme.register(event)
    body = pagarme_event_body(event)
    return Client().post("/webhooks/pagarme", data=body, content_type="application/json",
                         HTTP_X_WEBHOOK_ASYMMETRIC_SIGNATURE=fake_pagarme.sign(body) + header_suffix)


def process_all() -> list[str]:
    return [pagarme_event_process(event_pk=pk) for pk in
            PagarmeEvent.objects.filter(status=PagarmeEvent.Status.RECEIVED).order_by("id").values_list("id", flat=True)]


def emissions(order: Order) -> int:
    return ActionLog.objects.filter(order=order, action="billing_emit").count()


def paid_order(fake_pagarme, **kwargs) -> tuple[Order, dict]:
    """A PF order paid through a confirmed charge.paid; returns it and that event."""
    order = OrderFactory(pf_unpaid=True, **kwargs)
    event = build(order)
    assert post_signed(fake_pagarme, event).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    return order, event


# Refunds ------------------------------------------------------------------------------------------------


def test_charge_refunded_whose_charge_the_api_reports_canceled_marks_the_payment_refunded(fake_pagarme):
    order, _paid = paid_order(fake_pagarme)
    refund = build(order, "charge.refunded")
    assert refund["data"]["status"] == "canceled" and refund["data"]["canceled_amount"] == 150000
    assert post_signed(fake_pagarme, refund).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    order.refresh_from_db()
    event = PagarmeEvent.objects.get(event_id=refund["id"])
    assert (event.api_status, event.payment_status) == ("canceled", PaymentStatus.REFUNDED)
    assert order.payment_status == PaymentStatus.REFUNDED and "Estornado" in order.payment_flag
    assert order.billing_status != BillingStatus.CANCELLED  # the NF is never cancelled automatically


def test_a_canceled_charge_that_was_never_paid_is_not_a_refund(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    event = build(order, "charge.refunded", paid_amount=Decimal("0"), canceled_amount=Decimal("0"))
    assert post_signed(fake_pagarme, event).status_code == 200
    assert process_all() == [PagarmeEvent.Status.NOT_CONFIRMED]
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PENDING


def test_the_fake_pagarme_refuses_a_refunded_status_because_pagarme_has_none(fake_pagarme):
    _order, paid = paid_order(fake_pagarme)
    with pytest.raises(ValueError, match="no charge status 'refunded'"):
        fake_pagarme.charge_status_set(paid["data"]["id"], "refunded")
    with pytest.raises(ValueError, match="integer cents"):
        fake_pagarme.charge_update(paid["data"]["id"], paid_amount="15.00")


def test_charge_partial_canceled_records_the_refunded_amount_flags_finance_and_keeps_the_payment(fake_pagarme, admin_client):
    order, _paid = paid_order(fake_pagarme)
    partial = build(order, "charge.partial_canceled", canceled_amount=Decimal("500.25"))
    assert partial["data"]["status"] == "paid"
    assert post_signed(fake_pagarme, partial).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert order.amount_refunded == Decimal("500.25") and isinstance(order.amount_refunded, Decimal)
    assert "Estorno parcial de R$ 500,25" in order.payment_flag
    assert ActionLog.objects.filter(order=order, action="payment_partial_refund").count() == 1
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "valor estornado" in page.lower() and "R$ 500,25" in page and "Estorno parcial" in page

    # Redelivered under another id: the API's refunded total is already recorded.
    assert post_signed(fake_pagarme, build(order, "charge.partial_canceled", canceled_amount=Decimal("500.25"))).status_code == 200
    assert process_all() == [PagarmeEvent.Status.DUPLICATE]
    # A second partial refund: the total grows.
    assert post_signed(fake_pagarme, build(order, "charge.partial_canceled", canceled_amount=Decimal("800.00"))).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("800.00")
    assert ActionLog.objects.filter(order=order, action="payment_partial_refund").count() == 2
    assert emissions(order) == 1  # the payment was applied once


# The right order ---------------------------------------------------------------------------------------


def test_a_signed_event_naming_order_b_with_order_as_paid_charge_pays_nothing_and_as_own_event_still_applies(fake_pagarme):
    """The hostile review: B marked paid and billed with A's R$ 1,00 charge, then A's event called a duplicate."""
    order_a = OrderFactory(pf_unpaid=True, amount=Decimal("1.00"))
    order_b = OrderFactory(pf_unpaid=True, amount=Decimal("1.00"))
    event_a = build(order_a)
    fake_pagarme.register(event_a)  # A's real, paid charge
    forged = build(order_b, charge_id=event_a["data"]["id"])
    assert post_signed(fake_pagarme, forged, register=False).status_code == 200
    assert post_signed(fake_pagarme, event_a, register=False).status_code == 200

    assert process_all() == [PagarmeEvent.Status.NOT_CONFIRMED, PagarmeEvent.Status.APPLIED]
    order_a.refresh_from_db()
    order_b.refresh_from_db()
    assert order_b.payment_status == PaymentStatus.PENDING and order_b.billing_status == BillingStatus.AWAITING_PAYMENT
    assert emissions(order_b) == 0
    assert "outro pedido" in order_b.payment_flag
    assert "pertence a outro pedido" in PagarmeEvent.objects.get(event_id=forged["id"]).message
    assert order_a.payment_status == PaymentStatus.PAID and emissions(order_a) == 1 and not order_a.payment_flag


def test_the_pagarme_order_code_alone_identifies_the_order(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    event = build(order)
    fake_pagarme.register(event)
    fake_pagarme.charge_update(event["data"]["id"], metadata={})  # no metadata: the order's code says whose it is
    assert post_signed(fake_pagarme, event, register=False).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]


# The amount --------------------------------------------------------------------------------------------


def test_underpaid_is_not_paid_starts_no_nf_and_is_flagged_for_finance(fake_pagarme, admin_client):
    order = OrderFactory(pf_unpaid=True, amount=Decimal("1000.00"))
    assert post_signed(fake_pagarme, build(order, paid_amount=Decimal("1.00"))).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.UNDERPAID and order.amount_paid == Decimal("1.00")
    assert order.billing_status == BillingStatus.AWAITING_PAYMENT and emissions(order) == 0
    assert order.payment_flag.startswith("Pago a menor: recebido R$ 1,00 de R$ 1.000,00")
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Pago a menor" in page

    # Pagar.me's own underpaid status: the same answer.
    other = OrderFactory(pf_unpaid=True, amount=Decimal("1000.00"))
    assert post_signed(fake_pagarme, build(other, "charge.underpaid")).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    assert Order.objects.get(pk=other.pk).payment_status == PaymentStatus.UNDERPAID and emissions(other) == 0


def test_overpaid_is_paid_the_nf_starts_and_finance_is_flagged(fake_pagarme):
    order = OrderFactory(pf_unpaid=True, amount=Decimal("1000.00"))
    assert post_signed(fake_pagarme, build(order, paid_amount=Decimal("1100.00"))).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID and order.amount_paid == Decimal("1100.00")
    assert order.billing_status == BillingStatus.ISSUING and emissions(order) == 1
    assert order.amount == Decimal("1000.00")  # the NF is for the order's amount
    assert order.payment_flag.startswith("Pago a maior: recebido R$ 1.100,00 para R$ 1.000,00")


def test_the_exact_amount_is_paid_without_a_flag(fake_pagarme):
    order = OrderFactory(pf_unpaid=True, amount=Decimal("1000.01"))
    assert post_signed(fake_pagarme, build(order, paid_amount=Decimal("1000.01"))).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    order.refresh_from_db()
    assert (order.payment_status, order.payment_flag, emissions(order)) == (PaymentStatus.PAID, "", 1)


def test_one_cent_short_is_underpaid(fake_pagarme):
    order = OrderFactory(pf_unpaid=True, amount=Decimal("1000.01"))
    assert post_signed(fake_pagarme, build(order, paid_amount=Decimal("1000.00"))).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.UNDERPAID


def test_an_issued_order_refund_flag_is_kept_in_portuguese(fake_pagarme):
    order = order_in_state(BillingStatus.ISSUED, paid=True)
    assert post_signed(fake_pagarme, build(order, "charge.refunded")).status_code == 200
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.REFUNDED and order.billing_status == BillingStatus.ISSUED


# Ids, headers, refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("charge_id", ["ch_../../x", "ch_a%2Fb", "ch_a/b", "or_abc", "ch_" + "a" * 65, "ch_a b", "ch_"])
def test_a_forged_charge_id_is_refused_before_any_http_call(fake_pagarme, charge_id):
    from integrations.pagarme.client import get_pagarme_client
    from integrations.pagarme.errors import PagarmeInvalidId

    order = OrderFactory(pf_unpaid=True)
    assert post_signed(fake_pagarme, build(order, charge_id=charge_id), register=False).status_code == 200
    calls = fake_pagarme.count("api")
    assert process_all() == [PagarmeEvent.Status.NOT_CONFIRMED]
    assert fake_pagarme.count("api") == calls
    assert PagarmeEvent.objects.get().api_status == "invalid_id"
    assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PENDING
    with pytest.raises(PagarmeInvalidId):
        get_pagarme_client().get_charge(charge_id)
    with pytest.raises(PagarmeInvalidId):
        get_pagarme_client().get_order("or_" + charge_id)  # e.g. or_ch_../../x
    assert fake_pagarme.count("api") == calls


def test_a_signature_header_with_an_extra_unknown_parameter_is_accepted(fake_pagarme):
    order = OrderFactory(pf_unpaid=True)
    response = post_signed(fake_pagarme, build(order), header_suffix="; t=1700000000; v=2")
    assert response.status_code == 200, response.content
    assert process_all() == [PagarmeEvent.Status.APPLIED]
    assert not PagarmeWebhookRefusal.objects.exists()


def test_two_hundred_anonymous_bad_posts_are_one_counted_row_with_a_sample(fake_pagarme):
    client = Client()
    answers = {client.post("/webhooks/pagarme", data=b'{"id": "hook_%d"}' % i, content_type="application/json",
                           REMOTE_ADDR="203.0.113.7").status_code for i in range(200)}
    client.post("/webhooks/pagarme", data=b"{}", content_type="application/json", REMOTE_ADDR="203.0.113.8")
    assert answers == {401}
    # One row per source and minute (two if the posts straddled a minute), counting every refusal.
    flood = list(PagarmeWebhookRefusal.objects.filter(source="203.0.113.7").order_by("window_start"))
    assert 1 <= len(flood) <= 2 and sum(row.count for row in flood) == 200
    first = flood[0]
    assert first.reasons == {"rs256": "missing_signature"} and first.remote_addr == "203.0.113.7"
    assert first.body_excerpt == '{"id": "hook_0"}' and first.last_at >= first.received_at  # the minute's first post is the sample
    assert PagarmeWebhookRefusal.objects.filter(source="203.0.113.8").get().count == 1
