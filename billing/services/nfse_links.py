"""The customer's links to an NFS-e's documents: ``<NFSE_LINK_BASE_URL>/nf/<token>``.

One token per document: 32 random bytes (256 bits, ``secrets.token_urlsafe``), so a link cannot be
guessed or enumerated; the view answers the same 404 for a wrong token and a revoked one. Ops can
revoke a link, or renew it (a new token: the old link stops working, Bubble gets the new one).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import Invoice, NfseDocument
from orders.services.action_log import action_log_record
from orders.statuses import ActionOutcome

TOKEN_BYTES = 32


def document_token_new() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def document_url(token: str) -> str:
    return f"{settings.NFSE_LINK_BASE_URL}/nf/{token}"


def invoice_document_links(*, invoice: Invoice | None) -> dict[str, str]:
    """``{"PDF": url, "XML": url}`` for the invoice's stored, unrevoked documents (missing kinds absent)."""
    if invoice is None or invoice.pk is None:
        return {}
    documents = NfseDocument.objects.filter(archive__invoice_id=invoice.pk, revoked_at__isnull=True).values_list("kind", "token")
    return {kind: document_url(token) for kind, token in documents}


def document_link_revoke(*, document: NfseDocument, actor: str) -> None:
    """The link stops working (404); the document itself stays stored."""
    from billing.services.state import order_billing_writeback

    with transaction.atomic():
        updated = NfseDocument.objects.filter(pk=document.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor[:200])
        if updated:
            order = document.archive.invoice.order
            action_log_record(actor=actor, action="nfse_link_revoke", outcome=ActionOutcome.OK, order=order,
                              message=f"Link do {document.kind} da NFS-e revogado.")
            order_billing_writeback(order=order)


def document_link_renew(*, document: NfseDocument, actor: str) -> str:
    """A new token (the old link answers 404 from now on); Bubble is sent the new link."""
    from billing.services.state import order_billing_writeback

    token = document_token_new()
    with transaction.atomic():
        NfseDocument.objects.filter(pk=document.pk).update(token=token, revoked_at=None, revoked_by="")
        order = document.archive.invoice.order
        action_log_record(actor=actor, action="nfse_link_renew", outcome=ActionOutcome.OK, order=order,
                          message=f"Novo link do {document.kind} da NFS-e gerado; o anterior deixou de funcionar.")
        order_billing_writeback(order=order)
    return token
