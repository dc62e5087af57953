"""The sandbox demo: the seeded Bubble orders taken through the real flow, so a fresh `make run`
shows a backoffice with an order in every state.

The orders are triggered with the same service Bubble's ``POST /v1/orders/{id}/sync-omie`` calls;
the sync and the billing run in the Celery worker against the fake Omie, Bubble and BrasilAPI. Two
orders are then taken further with the ops actions an ops person would use: an issued NF is
cancelled ("Cancelar NF") and its payment then goes to the customer's current account ("Transferir para
conta corrente"), so that customer has a balance and an unpaid order to try "Usar conta corrente" on;
a day-25 order gets an NF issued elsewhere ("Registrar NF manual").
The fake city hall rejects one customer's NFS-e (a billing failure with its reason) and one customer's
CPF is invalid (a sync failure with its reason).

Idempotent: an order that already exists is not triggered again, and each ops action runs only when
the order is in the state it needs. A second `make run` (every demo order already there) triggers
nothing and waits for nothing: ops may have moved the orders on since (approved the held one…), so
it reports the states as they are and returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from billing.models import CustomerAccount
from billing.ops_actions import TRANSFER_CC
from billing.services.actions import Caller, account_transfer_from_order, invoice_cancel_request, invoice_manual_record
from common.dates import today_sp
from orders.models import Order
from orders.services.triggers import order_sync_trigger
from orders.statuses import BillingStatus, SyncStatus
from sandbox.demo_timings import DEMO_OMIE_REDUNDANT_SECONDS
from sandbox.fake_omie.services import fake_omie_configure
from sandbox.seed import (
    DEMO_CANCEL_ORDER,
    DEMO_MANUAL_ORDER,
    DEMO_USE_CC_ORDER,
    demo_order_ids,
    demo_rejected_documents,
    order_id,
    sandbox_seed,
)

DEMO_ACTOR = "admin:demo"
# What the dashboard must show after the demo: every sync state but "waiting", every billing state
# ops act on (the transient ones, "Em emissão" and "Cancelamento em andamento", pass by).
WANTED_SYNC = (SyncStatus.SYNCED, SyncStatus.FAILED)
WANTED_BILLING = (
    BillingStatus.SCHEDULED, BillingStatus.ON_HOLD, BillingStatus.AWAITING_PAYMENT, BillingStatus.ISSUED,
    BillingStatus.FAILED, BillingStatus.CANCELLED, BillingStatus.MANUAL,
)
USE_CC_READY = "cliente com saldo na conta corrente e pedido em aberto"


@dataclass
class DemoResult:
    triggered: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    sync_counts: dict[str, int] = field(default_factory=dict)
    billing_counts: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    # Orders still on their way (queued, syncing, in emission) when the wait ended.
    in_progress: int = 0

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def rerun(self) -> bool:
        """Every demo order existed already (a previous `make run`): nothing triggered, nothing awaited."""
        return not self.triggered and bool(self.already_there)


def demo_prepare() -> list[str]:
    """Seeds the fake Bubble and BrasilAPI and sets the fake Omie for the demo; returns the seed's lines."""

    lines = sandbox_seed()
    fake_omie_configure(reject_documents=demo_rejected_documents(), redundant_seconds=DEMO_OMIE_REDUNDANT_SECONDS)
    return lines


def demo_trigger(result: DemoResult) -> None:

    existing = set(Order.objects.filter(bubble_id__in=demo_order_ids()).values_list("bubble_id", flat=True))
    for bubble_id in demo_order_ids():
        if bubble_id in existing:
            result.already_there.append(bubble_id)
            continue
        order_sync_trigger(bubble_id=bubble_id, actor="bubble", payload={"via": "demo"})
        result.triggered.append(bubble_id)


def _demo_caller() -> Caller:
    user = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    return Caller(actor=DEMO_ACTOR, user=user, payload={"via": "demo"})


def demo_ops_step(result: DemoResult) -> None:
    """The ops actions, each once its order is where it needs to be."""

    cancel_id, manual_id = order_id(DEMO_CANCEL_ORDER), order_id(DEMO_MANUAL_ORDER)
    states = dict(Order.objects.filter(bubble_id__in=[cancel_id, manual_id]).values_list("bubble_id", "billing_status"))
    if states.get(cancel_id) == BillingStatus.ISSUED:
        invoice_cancel_request(order_bubble_id=cancel_id, caller=_demo_caller(), reason_code=2,
                               justification="Serviço não prestado: o cliente desistiu da mentoria (demonstração).")
        result.actions.append(f"{cancel_id}: Cancelar NF")
    if states.get(cancel_id) == BillingStatus.CANCELLED:
        cancelled = Order.objects.get(bubble_id=cancel_id)
        if TRANSFER_CC.allowed(cancelled):  # not yet transferred (a later run finds nothing left to move)
            account_transfer_from_order(order_bubble_id=cancel_id, caller=_demo_caller(),
                                        reason="NF cancelada: o valor pago fica como crédito da cliente (demonstração).")
            result.actions.append(f"{cancel_id}: Transferir para conta corrente")
    if states.get(manual_id) == BillingStatus.SCHEDULED:
        invoice_manual_record(order_bubble_id=manual_id, caller=_demo_caller(), nf_number="DEMO-887", issued_on=today_sp(),
                              note="NF emitida no portal da prefeitura (demonstração).")
        result.actions.append(f"{manual_id}: Registrar NF manual")


def use_cc_ready() -> bool:
    """The demo customer has a balance and DEMO_USE_CC_ORDER is still unpaid: "Usar conta corrente" can be tried."""
    order = Order.objects.filter(bubble_id=order_id(DEMO_USE_CC_ORDER)).first()
    if order is None or order.payment_status == "paid" or not order.customer_bubble_id:
        return False
    return CustomerAccount.objects.filter(customer_bubble_id=order.customer_bubble_id, balance__gt=0).exists()


def demo_counts(result: DemoResult) -> None:
    result.sync_counts = {k: n for k, n in Order.objects.values_list("sync_status").annotate(n=Count("id")).order_by()}
    result.billing_counts = {k: n for k, n in Order.objects.values_list("billing_status").annotate(n=Count("id")).order_by()}
    result.missing = [s.label for s in WANTED_SYNC if not result.sync_counts.get(s)] + [
        s.label for s in WANTED_BILLING if not result.billing_counts.get(s)
    ]
    if not use_cc_ready():
        result.missing.append(USE_CC_READY)
    result.in_progress = Order.objects.filter(bubble_id__in=demo_order_ids()).filter(
        Q(sync_status=SyncStatus.PENDING)
        | Q(billing_status__in=(BillingStatus.ISSUING, BillingStatus.CANCELLING))).count()


def demo_run(*, timeout: float = 80.0, poll: float = 1.0, progress: Callable[[str], None] | None = None) -> DemoResult:
    """Triggers the demo orders and drives the ops actions until every state is on the dashboard (or
    the timeout)."""
    if not settings.SANDBOX:
        raise RuntimeError("A demonstração só roda com SANDBOX=true.")
    result = DemoResult()
    demo_trigger(result)
    if result.rerun:
        demo_counts(result)
        return result
    deadline = time.monotonic() + timeout
    last_missing: list[str] = []
    while True:
        demo_ops_step(result)
        demo_counts(result)
        if result.complete or time.monotonic() >= deadline:
            return result
        if progress and result.missing != last_missing:
            progress("aguardando: " + ", ".join(result.missing))
            last_missing = result.missing
        time.sleep(poll)
