"""Orders in the states billing starts from (synced, with a decision), built with factory_boy."""

from __future__ import annotations

import itertools
from decimal import Decimal

import factory

from common.dates import today_sp
from orders.models import Order
from orders.statuses import BillingStatus, BillingTrigger, CustomerKind, PaymentStatus, SyncStatus

_seq = itertools.count(1)


def bubble_id(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return f"1671702337369x{488321592367300000 + n}"


class OrderFactory(factory.django.DjangoModelFactory):
    """A synced PJ order scheduled for the 25th (the common case); traits cover the others."""

    class Meta:
        model = Order

    bubble_id = factory.LazyFunction(bubble_id)
    customer_bubble_id = "1671702337369x100000000000000001"
    document = "11222333000181"
    customer_kind = CustomerKind.PJ
    customer_name = "Empresa Exemplo Ltda"
    customer_email = "financeiro@example.com"
    cnpj_status = "ATIVA"
    amount = Decimal("1500.00")
    service_description = "Consultoria"
    lc116_code = "17.01"
    sync_status = SyncStatus.SYNCED
    billing_status = BillingStatus.SCHEDULED
    billing_trigger = BillingTrigger.DAY_25
    billing_scheduled_for = factory.LazyFunction(today_sp)
    omie_customer_code = factory.Sequence(lambda n: 9000 + n)
    omie_os_code = factory.Sequence(lambda n: 70000 + n)
    omie_os_number = factory.Sequence(lambda n: f"{n:015d}")

    class Params:
        pf_unpaid = factory.Trait(
            customer_kind=CustomerKind.PF, document="52998224725", cnpj_status="", billing_status=BillingStatus.AWAITING_PAYMENT,
            billing_trigger=BillingTrigger.AWAIT_PAYMENT, billing_scheduled_for=None, payment_status=PaymentStatus.PENDING,
        )
        paid = factory.Trait(payment_status=PaymentStatus.PAID, amount_paid=factory.SelfAttribute("amount"), paid_via="pagarme")
        unsynced = factory.Trait(sync_status=SyncStatus.PENDING, billing_status="", billing_trigger="", billing_scheduled_for=None,
                                 omie_os_code=None, omie_os_number="")


def order_in_state(status: str, **kwargs: object) -> Order:
    """An order in any billing status, with the invoice that status implies."""
    from django.utils import timezone

    from billing.models import FailureStage, Invoice

    if status == "":
        return OrderFactory(unsynced=True, **kwargs)
    defaults: dict[str, object] = {}
    if status == BillingStatus.AWAITING_PAYMENT:
        defaults.update(pf_unpaid=True)
    if status == BillingStatus.ON_HOLD:
        defaults.update(hold_reason="AMOUNT", amount=Decimal("90000.00"))
    order = OrderFactory(**{**defaults, **kwargs}, billing_status=status)
    now = timezone.now()
    invoice = {
        BillingStatus.ISSUING: dict(faturar_requested_at=now, faturar_accepted_at=now, next_step="POLL_NFSE", next_poll_at=now),
        BillingStatus.ISSUED: dict(nfse_number="123", nfse_url="https://nfse.example.com/123", verification_code="AB12", issued_at=now,
                                   faturar_requested_at=now, faturar_accepted_at=now),
        BillingStatus.FAILED: dict(failure_stage=FailureStage.NFSE, city_hall_message="E0314 CNAE inválido", faturar_requested_at=now,
                                   faturar_accepted_at=now),
        BillingStatus.CANCELLING: dict(nfse_number="124", cancel_reason_code=1, cancel_justification="Erro no valor cobrado.",
                                       next_step="CANCEL", next_poll_at=now),
        BillingStatus.CANCELLED: dict(nfse_number="125", cancel_reason_code=2, cancelled_at=now),
        BillingStatus.MANUAL: dict(nfse_number="M-9", issued_at=now),
    }.get(status)
    if invoice is not None:
        Invoice.objects.create(order=order, status=status, **invoice)
    return order
