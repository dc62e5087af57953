"""Sync steps 3 to 5 (docs/contract.md#sync): Omie UpsertCliente, IncluirOS, then SYNCED.

Safe to re-run after a crash at any point:
- UpsertCliente is keyed by the Bubble customer id (an upsert), and skipped once stored;
- IncluirOS is keyed by the Bubble order id (cCodIntOS). A marker is committed before it is sent;
  a marker without a stored nCodOS means "maybe sent", so the next run asks ConsultarOS first,
  and a duplicate-key fault is read back by the client: one order never makes two OS;
- every id Omie returns is committed the moment it is known.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.dates import today_sp
from common.versioning import version_bump
from integrations.http import IntegrationError, NotNow
from integrations.omie.client import get_omie_client
from integrations.omie.dryrun import OmieDryRun
from integrations.omie.errors import OmieCustomerExists
from integrations.omie.models import OmieCustomerLink
from integrations.omie.payloads import nfse_email_wanted, os_payload
from orders.handoff import billing
from orders.models import Order
from orders.services.action_log import action_log_record, actor_for_task
from orders.services.locks import order_work_lock
from orders.services.omie_customers import (
    customer_existing_link,
    customer_link_record,
    customer_link_settle,
    customer_linked_elsewhere,
    customer_pending_association,
)
from orders.services.omie_line import omie_line_place, omie_line_wake
from orders.services.sync_state import SyncOutcome, locked_pending, order_sync_error, order_sync_fail
from orders.services.writeback import customer_writeback, order_writeback_sync_status
from orders.statuses import ActionOutcome, SyncStatus

logger = logging.getLogger(__name__)

ACTOR = actor_for_task("orders.sync_omie")
# A dry-run order waits this long at most before the sweeps look at it again (dry run is switched
# off well before: switching it off re-runs the order at once).
DRY_RUN_PARK_DAYS = 3650


def order_sync_omie(*, order_id: int) -> SyncOutcome:

    with order_work_lock(order_id=order_id) as acquired:
        if not acquired:
            return SyncOutcome.done()
        order = Order.objects.filter(pk=order_id).first()
        if order is None or order.sync_status != SyncStatus.PENDING:
            return SyncOutcome.done()
        if order.source_fetched_at is None:
            return SyncOutcome.next()  # reset by a retry: the chain reads Bubble again first

        client = get_omie_client().in_line(omie_line_place(order), on_woken=omie_line_wake)
        order, outcome = _customer_in_omie(client=client, order=order)
        if outcome is not None:
            return outcome

        if order.omie_os_code is None:
            # In a dry run the customer was recorded, not sent: the OS is built too, with customer code 0.
            outcome = _create_os(client=client, order=order, customer_code=0 if order.omie_customer_code is None else None)
            if outcome is not None:
                return outcome

        order_sync_complete(order_id=order_id, actor=ACTOR)
    return SyncOutcome.done()


def _customer_in_omie(*, client: Any, order: Order) -> tuple[Order, SyncOutcome | None]:
    """The customer's Omie code on the order: another order's fresh send reused, else UpsertCliente.

    Returns the updated order, and an outcome when the step cannot go on now.
    """
    if order.omie_customer_code is not None and order.omie_customer_synced_at is not None:
        return order, None
    code = customer_known_in_omie(order=order)
    how, message = "já enviado por outro pedido há pouco", None
    if code is None:
        try:
            code, how, message = _customer_send(client=client, order=order)
        except OmieDryRun:
            return order, None  # recorded, not sent: no customer code yet
        except IntegrationError as exc:
            return order, order_sync_error(
                order_id=order.id, exc=exc, actor=ACTOR, action="omie_customer_upsert", what="Omie (cadastro do cliente)"
            )
    stored = _store_customer(order_id=order.id, code=code, how=how, message=message)
    return (stored, None) if stored is not None else (order, SyncOutcome.done())


def _customer_send(*, client: Any, order: Order) -> tuple[int, str, str | None]:
    """The Omie customer for this order: UpsertCliente, unless Omie already holds the document
    under another record (docs/orders.md#customers-already-in-omie). Returns the code, the "how"
    of the plain case and, when an existing customer is used, the action-log line."""
    elsewhere = customer_linked_elsewhere(order=order)
    if elsewhere is not None:
        return elsewhere.omie_id, "", elsewhere.message
    if customer_pending_association(order=order) is not None:
        linked = customer_link_settle(client=client, order=order)
        return linked.omie_id, "", linked.message
    try:
        result = client.upsert_cliente(
            codigo_cliente_integracao=order.customer_bubble_id, cliente=order.customer_payload, order_id=order.id
        )
    except OmieCustomerExists as exc:
        linked = customer_existing_link(client=client, order=order, existing=exc.existing)
        return linked.omie_id, "", linked.message
    customer_link_record(document=order.document, omie_id=result.codigo_cliente_omie,
                         integration_code=order.customer_bubble_id, how=OmieCustomerLink.How.CREATED)
    return result.codigo_cliente_omie, "enviado ao Omie", None


def customer_known_in_omie(*, order: Order) -> int | None:
    """Omie's code for this customer when another order sent the very same data a moment ago.

    A customer placing several orders in a row is sent once: a second UpsertCliente of the same
    integration key within 60 s would only get Omie's REDUNDANT (and a one-minute wait).
    """
    since = timezone.now() - timedelta(seconds=settings.ORDERS_CUSTOMER_REUSE_SECONDS)
    return (
        Order.objects.filter(
            customer_bubble_id=order.customer_bubble_id, customer_payload=order.customer_payload,
            omie_customer_synced_at__gte=since, omie_customer_code__isnull=False,
        )
        .exclude(pk=order.pk)
        .order_by("-omie_customer_synced_at")
        .values_list("omie_customer_code", flat=True)
        .first()
    )


def _store_customer(*, order_id: int, code: int, how: str, message: str | None = None) -> Order | None:
    with transaction.atomic():
        order = locked_pending(order_id)
        if order is None:
            return None
        changed = order.omie_customer_code != code
        order.omie_customer_code = code
        order.omie_customer_synced_at = timezone.now()
        version_bump(order)
        order.save(update_fields=["omie_customer_code", "omie_customer_synced_at", "version", "updated_at"])
        if changed:
            customer_writeback(order=order, fields={"omie_cliente_id": str(code)})
        action_log_record(
            actor=ACTOR, action="omie_customer_upsert", outcome=ActionOutcome.OK, order=order,
            message=message or f"Cliente {how} (código Omie {code}).",
        )
    return order


def _create_os(*, client: Any, order: Order, customer_code: int | None = None) -> SyncOutcome | None:
    """IncluirOS exactly once; returns an outcome when the step cannot go on now.

    ``customer_code``: the code to build the OS with instead of the stored one (0 in a dry run whose
    UpsertCliente was not sent either)."""

    found = None
    if order.omie_os_requested_at is not None:
        # A previous run may have created it and died before storing the answer.
        try:
            found = client.consultar_os(c_cod_int_os=order.bubble_id, order_id=order.id)
        except IntegrationError as exc:
            return order_sync_error(order_id=order.id, exc=exc, actor=ACTOR, action="omie_os_create", what="Omie (ConsultarOS)")
        if found is not None and found.cancelada:
            order_sync_fail(
                order_id=order.id, actor=ACTOR, action="omie_os_create",
                message=f"A OS {found.c_num_os} deste pedido está cancelada no Omie; verifique-a no Omie antes de reprocessar.",
            )
            return SyncOutcome.done()
        if found is not None:
            _store_os(order_id=order.id, n_cod_os=found.n_cod_os, c_num_os=found.c_num_os, how="encontrada por ConsultarOS")
            return None

    with transaction.atomic():
        locked = locked_pending(order.id)
        if locked is None:
            return SyncOutcome.done()
        if locked.omie_os_requested_at is None:
            locked.omie_os_requested_at = timezone.now()
            # What this IncluirOS asks Omie about the customer's e-mail (shown on the order page).
            locked.nfse_email_to = order.customer_email.strip() if nfse_email_wanted(order.customer_email) else ""
            locked.save(update_fields=["omie_os_requested_at", "nfse_email_to", "updated_at"])
    payload = os_payload(
        c_cod_int_os=order.bubble_id,
        codigo_cliente_omie=order.omie_customer_code if customer_code is None else customer_code,
        amount=order.amount,
        description=order.service_description,
        lc116_code=order.lc116_code,
        email=order.customer_email,
        forecast=today_sp(),
    )
    try:
        created = client.incluir_os(os_payload=payload, order_id=order.id)
    except OmieDryRun as exc:
        _park_dry_run(order_id=order.id, exc=exc)
        return SyncOutcome.done()
    except IntegrationError as exc:
        # Only a timeout, a 5xx or a REDUNDANT the client could not confirm leave the outcome unknown.
        never_sent = isinstance(exc, NotNow) and not getattr(exc, "outcome_unknown", False)
        return order_sync_error(
            order_id=order.id, exc=exc, actor=ACTOR, action="omie_os_create", what="Omie (inclusão da OS)",
            clear_os_request=exc.permanent or never_sent,
        )
    _store_os(order_id=order.id, n_cod_os=created.n_cod_os, c_num_os=created.c_num_os, how="criada")
    return None


def _park_dry_run(*, order_id: int, exc: OmieDryRun) -> None:
    """Dry run: the writes were recorded, not sent. The order waits, PENDING, out of the sweeps'
    reach (its next attempt is far away) until dry run is switched off and it is re-run for real."""
    with transaction.atomic():
        order = locked_pending(order_id)
        if order is None:
            return
        order.omie_os_requested_at = None  # nothing was sent: no ConsultarOS needed later
        order.next_attempt_at = timezone.now() + timedelta(days=DRY_RUN_PARK_DAYS)
        order.save(update_fields=["omie_os_requested_at", "next_attempt_at", "updated_at"])
        problems = f" Problemas: {'; '.join(exc.problems)}." if exc.problems else " Payload válido."
        action_log_record(
            actor=ACTOR, action="omie_dry_run", outcome=ActionOutcome.OK, order=order,
            message=f"Ensaio: seria enviado ao Omie (cadastro do cliente e OS); nada foi enviado.{problems}",
        )


def _store_os(*, order_id: int, n_cod_os: int, c_num_os: str, how: str) -> None:
    with transaction.atomic():
        order = locked_pending(order_id)
        if order is None:
            return
        order.omie_os_code = n_cod_os
        order.omie_os_number = c_num_os or ""
        version_bump(order)
        order.save(update_fields=["omie_os_code", "omie_os_number", "version", "updated_at"])
        action_log_record(
            actor=ACTOR, action="omie_os_create", outcome=ActionOutcome.OK, order=order,
            message=f"OS nº {c_num_os} {how} no Omie (código {n_cod_os}).",
        )


def order_sync_complete(*, order_id: int, actor: str) -> None:
    """PENDING → SYNCED, the billing decision (billing's, through orders.handoff), and the write-back, in one transaction."""

    with transaction.atomic():
        order = locked_pending(order_id)
        if order is None or order.omie_os_code is None:
            return
        now = timezone.now()
        order.sync_status = SyncStatus.SYNCED
        order.synced_at = now
        order.last_error = ""
        order.next_attempt_at = None
        version_bump(order)
        order.save(update_fields=["sync_status", "synced_at", "last_error", "next_attempt_at", "version", "updated_at"])
        billing().decide(order, actor)
        order_writeback_sync_status(order=order)
        action_log_record(
            actor=actor, action="sync_complete", outcome=ActionOutcome.OK, order=order,
            message=f"Pedido sincronizado com o Omie (OS {order.omie_os_number}).",
        )
