"""Customers that already exist in Omie (docs/orders.md#customers-already-in-omie).

Blu registered many customers in Omie by hand, without an integration code, and two Bubble
customers may share one CNPJ; Omie keeps one customer per document and answers UpsertCliente for
such a document with "Cliente já cadastrado para o CPF/CNPJ […] com o Id [n] e código de
integração […]". That is not a failure: the order is billed on that Omie customer.

- no integration code on it → ours is associated (AssociarCodIntCliente), so our later upserts update it;
- another code on it (another Bubble customer's, or another system's) → it is used as it is: taking
  the code would break the other customer's sync.

What Omie holds for a document is remembered in ``OmieCustomerLink``, so the next order of that
document (or of the other Bubble customer of the same CNPJ) goes straight to IncluirOS instead of
sending an UpsertCliente that Omie answers with an HTTP-500 fault (which counts towards its
misuse block). Common case: one extra Omie call per order (the association), none afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from integrations.http import IntegrationError
from integrations.omie.errors import OmieBusinessError
from integrations.omie.models import OmieCustomerLink
from integrations.omie.types import ClienteInfo, ExistingCustomer
from orders.models import Order

_BUBBLE_ID = re.compile(r"^\d{13}x\d{6,}$")
How = OmieCustomerLink.How


@dataclass(frozen=True)
class LinkedCustomer:
    """The Omie customer an order is billed on, and the action-log line that says why."""

    omie_id: int
    message: str


def customer_link_get(*, document: str) -> OmieCustomerLink | None:
    return OmieCustomerLink.objects.filter(document=document).first() if document else None


def customer_link_record(*, document: str, omie_id: int, integration_code: str, how: str) -> OmieCustomerLink | None:
    """Records what Omie holds for a document (Omie's latest word wins)."""
    if not document:
        return None
    link, _ = OmieCustomerLink.objects.update_or_create(
        document=document, defaults={"codigo_cliente_omie": omie_id, "codigo_cliente_integracao": integration_code, "how": how},
    )
    return link


def customer_linked_elsewhere(*, order: Order) -> LinkedCustomer | None:
    """The Omie customer of this order's document when it carries another integration code: used
    without any Omie call. None when there is no link, or the link is ours (a normal upsert then
    keeps the data current), or it is still waiting for its association."""
    link = customer_link_get(document=order.document)
    if link is None or link.codigo_cliente_integracao in ("", order.customer_bubble_id):
        return None
    return LinkedCustomer(link.codigo_cliente_omie, _elsewhere_message(link.codigo_cliente_omie, link.codigo_cliente_integracao))


def customer_pending_association(*, order: Order) -> OmieCustomerLink | None:
    """A link recorded from Omie's fault whose association did not happen yet (a retry)."""
    link = customer_link_get(document=order.document)
    return link if link is not None and link.codigo_cliente_integracao == "" else None


def customer_existing_link(*, client: Any, order: Order, existing: ExistingCustomer) -> LinkedCustomer:
    """Bills the order on the Omie customer that already holds its document.

    Raises the client's ``IntegrationError`` when a call fails (the caller turns it into a retry
    or a failure, as for UpsertCliente).
    """
    if existing.needs_lookup:
        existing = _look_up(client=client, order=order, hint=existing)
    link = customer_link_get(document=order.document)
    claimed_since = (
        link is not None and link.codigo_cliente_omie == existing.omie_id and existing.integration_code == ""
        and link.codigo_cliente_integracao not in ("", order.customer_bubble_id)
    )
    if not claimed_since:
        # (When another Bubble customer of this CNPJ claimed the association after Omie answered
        # us, its claim stands: recording Omie's "[ ]" would make both associate.)
        customer_link_record(document=order.document, omie_id=existing.omie_id or 0,
                             integration_code=existing.integration_code or "", how=How.FOUND)
    return customer_link_settle(client=client, order=order)


def customer_link_settle(*, client: Any, order: Order) -> LinkedCustomer:
    """Associates our code when the linked Omie customer has none; otherwise uses it as it is.

    The association is claimed with a conditional UPDATE first, so two Bubble customers of one
    CNPJ syncing at once send one AssociarCodIntCliente, and the other uses the customer as is.
    """
    document, ours = order.document, order.customer_bubble_id
    claimed = OmieCustomerLink.objects.filter(document=document, codigo_cliente_integracao="").update(
        codigo_cliente_integracao=ours, how=How.ASSOCIATED)
    link = OmieCustomerLink.objects.get(document=document)
    if not claimed:
        if link.codigo_cliente_integracao == ours:
            known = f"Cliente já cadastrado no Omie com este código (Id {link.codigo_cliente_omie})."
            return LinkedCustomer(link.codigo_cliente_omie, known)
        return LinkedCustomer(link.codigo_cliente_omie, _elsewhere_message(link.codigo_cliente_omie, link.codigo_cliente_integracao))
    try:
        client.associar_cod_int_cliente(codigo_cliente_omie=link.codigo_cliente_omie, codigo_cliente_integracao=ours, order_id=order.id)
    except IntegrationError as exc:
        if not getattr(exc, "outcome_unknown", False):
            # It did not happen: the next attempt associates again (no UpsertCliente needed).
            OmieCustomerLink.objects.filter(document=document, codigo_cliente_integracao=ours).update(
                codigo_cliente_integracao="", how=How.FOUND)
        raise
    return LinkedCustomer(
        link.codigo_cliente_omie, f"Cliente já existia no Omie (Id {link.codigo_cliente_omie}); código de integração associado.",
    )


def _look_up(*, client: Any, order: Order, hint: ExistingCustomer) -> ExistingCustomer:
    """ListarClientes by document when the fault's text did not tell the id and the code."""
    found: list[ClienteInfo] = client.listar_clientes_por_documento(document=order.document, order_id=order.id)
    if not found:
        raise OmieBusinessError(
            "O Omie diz que este CPF/CNPJ já está cadastrado, mas a busca pelo documento não encontrou o cliente; "
            "verifique o cadastro no Omie e reprocesse.", call="ListarClientes",
        )
    # One customer per document is Omie's rule; should it hold more, the one the fault named wins.
    chosen = next((c for c in found if c.codigo_cliente_omie == hint.omie_id), min(found, key=lambda c: c.codigo_cliente_omie))
    return ExistingCustomer(chosen.codigo_cliente_omie, chosen.codigo_cliente_integracao)


def _elsewhere_message(omie_id: int, code: str) -> str:
    whose = "de outro cadastro do Bubble" if _BUBBLE_ID.match(code) else "de outro cadastro"
    return (f"Usado o cliente do Omie (Id {omie_id}) {whose} com o mesmo CPF/CNPJ (código de integração {code}); "
            "o código dele não foi alterado.")
