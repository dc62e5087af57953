"""Sync step 1 and 2 (docs/contract.md#sync): read the order and its customer from Bubble, validate them
locally, look the CNPJ up on BrasilAPI for a PJ, and store what the Omie step will send.

Bad data fails the sync here, before any Omie call spends its error budget.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from common.versioning import version_bump
from integrations.brasilapi.services import cnpj_lookup
from integrations.bubble.client import get_bubble_client
from integrations.documents import InvalidDocument, document_compact, document_mask, document_validate
from integrations.http import IntegrationError
from integrations.omie.payloads import cliente_payload
from orders.handoff import billing
from orders.models import Order
from orders.services.action_log import action_log_record, actor_for_task
from orders.services.locks import order_work_lock
from orders.services.sync_state import SyncOutcome, locked_pending, order_sync_error, order_sync_fail
from orders.services.writeback import customer_writeback
from orders.statuses import ActionOutcome, CustomerKind, PaymentStatus, SyncStatus

logger = logging.getLogger(__name__)

ACTOR = actor_for_task("orders.sync_fetch")
ACTION = "sync_fetch"


class SourceDataInvalid(Exception):
    permanent = True

    def __init__(self, message: str, *, read: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.read = read or {}  # what was read from Bubble before the problem: stored on the failed order


@dataclass
class SourceData:
    """Everything the Omie step needs, read from Bubble (and BrasilAPI for a PJ)."""

    order_fields: dict[str, Any]
    customer_payload: dict[str, Any]
    customer_writeback: dict[str, Any] = field(default_factory=dict)
    # Bubble's `status_pagamento`, when it is one of ours; a Pagar.me webhook already applied wins.
    payment_status: str | None = None
    summary: str = ""


def order_sync_fetch(*, order_id: int) -> SyncOutcome:
    """Runs the fetch step once; safe to run again at any point (it only reads until it stores)."""

    with order_work_lock(order_id=order_id) as acquired:
        if not acquired:
            return SyncOutcome.done()  # another worker is on this order and will carry it on
        order = Order.objects.filter(pk=order_id).first()
        if order is None or order.sync_status != SyncStatus.PENDING:
            return SyncOutcome.done()
        if order.source_fetched_at is not None:
            return SyncOutcome.next()
        try:
            data = read_sources(bubble_id=order.bubble_id)
        except (SourceDataInvalid, IntegrationError) as exc:
            return _fetch_failed(order_id=order_id, exc=exc)

        with transaction.atomic():
            order = locked_pending(order_id)
            if order is None:
                return SyncOutcome.done()
            for name, value in data.order_fields.items():
                setattr(order, name, value)
            _payment_from_bubble(order, data)
            if data.customer_payload != order.customer_payload:
                # New or changed customer data: it must reach Omie again before the OS.
                order.customer_payload = data.customer_payload
                order.omie_customer_synced_at = None
            now = timezone.now()
            order.source_fetched_at = now
            order.next_attempt_at = now
            version_bump(order)
            order.save()
            customer_writeback(order=order, fields=data.customer_writeback)
            action_log_record(actor=ACTOR, action=ACTION, outcome=ActionOutcome.OK, order=order, message=data.summary)
    return SyncOutcome.next()


def _fetch_failed(*, order_id: int, exc: SourceDataInvalid | IntegrationError) -> SyncOutcome:
    """FAILED with what was read (ops see who the order is for), or the retry the error allows."""
    if isinstance(exc, SourceDataInvalid):
        order_sync_fail(order_id=order_id, message=str(exc), actor=ACTOR, action=ACTION, fields=exc.read)
        return SyncOutcome.done()
    read = getattr(exc, "bubble_read", None)
    if read and exc.permanent:
        # Bubble was read (BrasilAPI refused the CNPJ): ops see who the order is for.
        order_sync_fail(order_id=order_id, message=f"{_system_of(exc)}: {exc.message}", actor=ACTOR, action=ACTION, fields=read)
        return SyncOutcome.done()
    return order_sync_error(order_id=order_id, exc=exc, actor=ACTOR, action=ACTION, what=_system_of(exc))


def _payment_from_bubble(order: Any, data: SourceData) -> None:
    """Bubble's payment status, until a Pagar.me event has spoken for the order: billing's, through the seam."""
    if data.payment_status:
        billing().payment_from_bubble(order, data.payment_status)


def _system_of(exc: IntegrationError) -> str:
    module = type(exc).__module__
    if ".brasilapi" in module:
        return "BrasilAPI (consulta do CNPJ)"
    if ".bubble" in module:
        return "Bubble (leitura do pedido)"
    return "Leitura dos dados do pedido"


def read_sources(*, bubble_id: str) -> SourceData:

    bubble = get_bubble_client()
    bubble_order = bubble.get_order(bubble_id)
    if not (bubble_order.customer_id or "").strip():
        raise SourceDataInvalid("Dados inválidos no Bubble: o pedido não tem cliente.")
    customer = bubble.get_customer(bubble_order.customer_id)
    read = bubble_read_fields(bubble_order=bubble_order, customer=customer)

    problems: list[str] = []
    try:
        document, kind = document_validate(customer.document or "")
    except InvalidDocument as exc:
        # Name the value (masked: the message reaches lists, Bubble and the log).
        shown = document_mask(customer.document or "")
        problems.append(f"{str(exc).rstrip('.')} (valor no Bubble: {shown})" if shown else str(exc))
        document, kind = "", ""
    problems += _order_problems(bubble_order, customer)
    if problems:
        raise SourceDataInvalid("Dados inválidos no Bubble: " + "; ".join(p.rstrip(".") for p in problems) + ".", read=read)

    # BrasilAPI's false 404s are retried by the lookup's own rule (CnpjNotFoundYet, transient) until
    # BRASILAPI_NOT_FOUND_RETRIES, then CnpjNotFound ("CNPJ não encontrado na Receita Federal").
    try:
        company = cnpj_lookup(cnpj=document) if kind == CustomerKind.PJ else None
    except IntegrationError as exc:
        exc.bubble_read = {**read, "document": document, "customer_kind": kind}
        if exc.permanent and "CNPJ" in exc.message and document_mask(document) not in exc.message:
            exc.message = f"{exc.message} (CNPJ {document_mask(document)})"
        raise
    return build_source_data(bubble_order=bubble_order, customer=customer, document=document, kind=kind, company=company)


def bubble_read_fields(*, bubble_order: Any, customer: Any) -> dict[str, Any]:
    """The order fields Bubble gave us, as far as they can be stored whatever else is wrong: a failed
    order still says whose it is and what it bills."""

    amount = _amount(bubble_order.amount)
    return {
        "customer_bubble_id": (customer.id or "")[:64],
        "customer_name": (customer.name or "").strip()[:200],
        "document": document_compact(customer.document or "")[:14],
        "amount": amount if amount is not None and amount >= 0 else None,
        "service_description": (bubble_order.description or "").strip(),
        "lc116_code": (bubble_order.lc116_code or "").strip()[:10],
        "payment_method": (bubble_order.payment_method or "")[:40],
    }


def _order_problems(bubble_order: Any, customer: Any) -> list[str]:
    problems = []
    if not (customer.name or "").strip():
        problems.append("nome do cliente ausente")
    try:
        validate_email((customer.email or "").strip())
    except ValidationError:
        problems.append("e-mail do cliente ausente ou inválido")
    amount = _amount(bubble_order.amount)
    if amount is None or amount <= 0:
        problems.append("valor do pedido ausente ou não positivo")
    if not (bubble_order.description or "").strip():
        problems.append("descrição do serviço ausente")
    if not (bubble_order.lc116_code or "").strip():
        problems.append("código de serviço LC 116 ausente")
    return problems


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def _payment_status(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    for choice in PaymentStatus:
        if text in (choice.value, choice.label.lower()):
            return choice.value
    return None


def build_source_data(*, bubble_order: Any, customer: Any, document: str, kind: str, company: Any) -> SourceData:

    def pick(*values: Any) -> Any:
        return next((v for v in values if v not in (None, "")), None)

    # For a PJ the Receita Federal's record names and locates the company on the NFS-e.
    c = company
    razao_social = pick(c and c.razao_social, customer.name)
    payload = cliente_payload(
        codigo_cliente_integracao=customer.id,
        razao_social=razao_social,
        nome_fantasia=pick(c and c.nome_fantasia),
        email=customer.email.strip(),
        document=document,
        phone=pick(customer.phone, c and c.phone),
        cep=pick(c and c.cep, customer.cep),
        street=pick(c and c.logradouro, customer.street),
        number=pick(c and c.numero, customer.number),
        district=pick(c and c.bairro, customer.district),
        city=pick(c and c.municipio, customer.city),
        state=pick(c and c.uf, customer.state),
        # Only with the Receita's own city: an IBGE code must never contradict the city sent beside it.
        city_ibge=(c.codigo_municipio_ibge if c and c.municipio else None),
    )
    order_fields: dict[str, Any] = {
        "customer_bubble_id": customer.id,
        "document": document,
        "customer_kind": kind,
        "customer_name": (razao_social or "")[:200],
        "customer_email": customer.email.strip(),
        "cnpj_status": (c.situacao_cadastral or "")[:40] if c else "",
        "requires_approval": bool(customer.requires_approval),
        "amount": _amount(bubble_order.amount),
        "service_description": bubble_order.description.strip(),
        "lc116_code": bubble_order.lc116_code.strip()[:10],
        "payment_method": (bubble_order.payment_method or "")[:40],
    }
    writeback: dict[str, Any] = {}
    if c:
        writeback = {
            "razao_social": c.razao_social or "",
            "nome_fantasia": c.nome_fantasia or "",
            "situacao_cadastral": c.situacao_cadastral or "",
        }
    summary = f"Dados lidos do Bubble ({kind})" + (f"; CNPJ {c.situacao_cadastral} na Receita Federal" if c else "") + "."
    return SourceData(
        order_fields=order_fields,
        customer_payload=payload,
        customer_writeback=writeback,
        payment_status=_payment_status(bubble_order.payment_status),
        summary=summary,
    )

