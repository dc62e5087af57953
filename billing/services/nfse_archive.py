"""Fetching and archiving the PDF and XML of every issued NFS-e (docs/nfse_documents.md).

    issued (poll or webhook) ──► archive PENDING ──► task: [ListarNFSEs] → ObterNFSe → download PDF/XML
        → store (content-addressed, verified) → parse XML → documents recorded, DONE ──► Bubble's links
    a failure: retried with backoff (Omie's "not now" waits without counting) ──► FAILED after the maximum

Invariants:
- one worker per archive at a time (a conditional UPDATE claims it, the lease expires if it dies);
- ObterNFSe is called once per attempt, through the central throttle; the NF id comes from the
  webhook hint, the backfill's list, or one ListarNFSEs by ``nCodigoOS``;
- document rows are written in one transaction after both objects are stored and verified, so a
  link never points at a half-written document; an existing document is never replaced;
- the invoice's own status is never touched here: a document failure leaves it ISSUED.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.enqueue_nfse import nfse_archive_enqueue_on_commit
from billing.models import Invoice, NfseArchive, NfseDocument, ReconciliationDrift
from billing.models.reconciliation import DriftKind
from billing.services.nfse_links import document_token_new
from billing.services.nfse_storage import StorageIntegrityError, object_put
from billing.services.state import order_billing_writeback
from common.backoff import backoff_seconds
from integrations.documents import document_compact
from integrations.http import IntegrationError
from integrations.omie.client import get_omie_client
from integrations.omie.documents import DocumentFetchError, document_download
from integrations.omie.errors import OmieNotNow
from integrations.omie.nfse_xml import NfseXmlFacts, nfse_xml_facts
from integrations.omie.types import NfseDocs
from orders.services.action_log import action_log_record, actor_for_task
from orders.statuses import ActionOutcome, BillingStatus

logger = logging.getLogger(__name__)

ACTOR = actor_for_task("billing.nfse_archive")
Status = NfseArchive.Status


@dataclass(frozen=True)
class ArchiveResult:
    outcome: str  # archived | skipped | rescheduled | failed
    retry_in: float | None = None


class ArchiveProblem(Exception):
    """A failed attempt; ``permanent`` ones are not retried (the same answer would come back)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


# --------------------------------------------------------------------------------------------
# Requests (called when an invoice becomes issued, by a webhook hint, by the backfill)
# --------------------------------------------------------------------------------------------


def retain_until(issued_on: date) -> date:
    years = int(settings.NFSE_RETENTION_YEARS)
    try:
        return issued_on.replace(year=issued_on.year + years)
    except ValueError:  # 29/02
        return issued_on.replace(year=issued_on.year + years, day=28)


def _issued_on(invoice: Invoice) -> date:
    return timezone.localdate(invoice.issued_at) if invoice.issued_at else timezone.localdate()


def nfse_archive_request(*, invoice: Invoice, nf_id: int | None = None, enqueue: bool = True, due: bool = True) -> NfseArchive:
    """Makes the issued invoice's archive due now (creating it) and, after commit, queues its fetch.

    ``due=False`` (the backfill): a new archive is created without a next attempt, so the sweep leaves
    it alone and only the backfill runs it, at its pace and after billing."""
    now = timezone.now()
    archive, created = NfseArchive.objects.get_or_create(
        invoice=invoice,
        defaults={"status": Status.PENDING, "next_attempt_at": now if due else None, "omie_nf_id": nf_id,
                  "retain_until": retain_until(_issued_on(invoice))},
    )
    if not created and due:
        fields: dict[str, Any] = {}
        if nf_id and not archive.omie_nf_id:
            fields["omie_nf_id"] = nf_id
        if archive.status == Status.PENDING and archive.next_attempt_at is None:
            fields["next_attempt_at"] = now  # a webhook hint made it before the invoice was issued
        if archive.retain_until is None:
            fields["retain_until"] = retain_until(_issued_on(invoice))
        if fields:
            NfseArchive.objects.filter(pk=archive.pk).update(**fields, updated_at=now)
            archive.refresh_from_db()
    if enqueue and archive.status == Status.PENDING and archive.next_attempt_at is not None:
        nfse_archive_enqueue_on_commit(archive_id=archive.pk)
    return archive


def nfse_archive_nf_id_hint(*, invoice: Invoice, nf_id: object) -> None:
    """Keeps the NF id an ``NFSe.NotaAutorizada`` event named (a hint: ObterNFSe's number must match ours)."""
    try:
        value = int(str(nf_id).strip())
    except ValueError:
        return
    if value <= 0:
        return
    if invoice.status == BillingStatus.ISSUED and invoice.nfse_number:
        nfse_archive_request(invoice=invoice, nf_id=value)  # already issued here: fetch now, with the hint
        return
    archive, created = NfseArchive.objects.get_or_create(invoice=invoice, defaults={"omie_nf_id": value, "next_attempt_at": None})
    if not created and archive.omie_nf_id is None and archive.status != Status.DONE:
        NfseArchive.objects.filter(pk=archive.pk, omie_nf_id__isnull=True).update(omie_nf_id=value, updated_at=timezone.now())


def nfse_archive_cancellation_record(*, invoice: Invoice) -> None:
    """A cancelled NFS-e keeps its documents; the cancellation is recorded beside them."""
    NfseArchive.objects.filter(invoice=invoice, cancellation_recorded_at__isnull=True).update(
        cancellation_recorded_at=timezone.now(), updated_at=timezone.now())


def nfse_archive_retry(*, archive: NfseArchive, actor: str) -> bool:
    """Ops: a FAILED archive is tried again from the start (attempts reset)."""
    now = timezone.now()
    with transaction.atomic():
        updated = NfseArchive.objects.filter(pk=archive.pk, status=Status.FAILED).update(
            status=Status.PENDING, attempts=0, next_attempt_at=now, leased_until=None, updated_at=now)
        if updated:
            action_log_record(actor=actor, action="nfse_archive_retry", outcome=ActionOutcome.OK, order=archive.invoice.order,
                              message="Download dos documentos da NFS-e pedido de novo.")
            nfse_archive_enqueue_on_commit(archive_id=archive.pk)
    return bool(updated)


def nfse_archives_due_enqueue(*, limit: int = 200) -> int:
    """Queues due archives whose lease is free (lost messages); returns how many."""
    now = timezone.now()
    due = (NfseArchive.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
           .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now)).order_by("next_attempt_at")
           .values_list("pk", flat=True)[:limit])
    ids = list(due)
    with transaction.atomic():
        for pk in ids:
            nfse_archive_enqueue_on_commit(archive_id=pk)
    return len(ids)


# --------------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------------


def _claim(archive_id: int) -> bool:
    now = timezone.now()
    return bool(
        NfseArchive.objects.filter(pk=archive_id, status=Status.PENDING, next_attempt_at__lte=now + timedelta(seconds=1))
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + timedelta(seconds=settings.NFSE_ARCHIVE_LEASE_SECONDS), updated_at=now)
    )


def nfse_archive_run(*, archive_id: int, nf_id: int | None = None) -> ArchiveResult:
    """One attempt at archiving one invoice's documents, if the job is due and free.

    ``nf_id``: the NF id the caller already knows (the backfill's list); otherwise the archive's
    hint, else one ListarNFSEs by the OS id. Call it outside a transaction (the Omie call log
    must survive a rollback)."""
    if not _claim(archive_id):
        return ArchiveResult("skipped")
    archive = NfseArchive.objects.select_related("invoice__order").get(pk=archive_id)
    invoice = archive.invoice
    try:
        if invoice.status not in (BillingStatus.ISSUED, BillingStatus.CANCELLING, BillingStatus.CANCELLED) or not invoice.nfse_number:
            raise ArchiveProblem("A nota não está emitida: não há documentos a buscar.", permanent=True)
        nf_id = nf_id or archive.omie_nf_id or _nf_id_lookup(invoice)
        NfseArchive.objects.filter(pk=archive.pk).update(obter_calls=archive.obter_calls + 1, omie_nf_id=nf_id)
        docs = get_omie_client().obter_nfse(n_id_nf=nf_id, order_id=invoice.order_id)
        if docs.number and docs.number != invoice.nfse_number.lstrip("0"):
            # The hint named another NF: forget it, so the next attempt asks ListarNFSEs.
            NfseArchive.objects.filter(pk=archive.pk).update(omie_nf_id=None)
            raise ArchiveProblem(f"O Omie devolveu a NFS-e {docs.number} para o id {nf_id}; aqui a nota é {invoice.nfse_number}.")
        pdf, xml = _download(docs)
        facts = nfse_xml_facts(xml)
        if facts.problem:
            raise ArchiveProblem(f"XML da NFS-e recusado: {facts.problem}", permanent=True)
        issued_on = _issued_on(invoice)
        stored_pdf = object_put(invoice_id=invoice.pk, issued_on=issued_on, kind="PDF", content=pdf)
        stored_xml = object_put(invoice_id=invoice.pk, issued_on=issued_on, kind="XML", content=xml)
    except OmieNotNow as exc:
        # Our throttle (or Omie) said "not now": nothing happened, no attempt spent.
        wait = max(1.0, float(exc.retry_after or 0)) * random.uniform(1.0, 1.2)
        _release(archive, next_in=wait)
        return ArchiveResult("rescheduled", retry_in=wait)
    except (ArchiveProblem, IntegrationError, StorageIntegrityError, OSError) as exc:
        return _failed_attempt(archive, exc)
    _record(archive, docs=docs, facts=facts, stored={"PDF": (stored_pdf, "link"), "XML": (stored_xml, _xml_source(docs))})
    return ArchiveResult("archived")


def _nf_id_lookup(invoice: Invoice) -> int:
    """Omie's NF id of our NFS-e: ListarNFSEs filtered by the OS id, the entry with our number."""
    order = invoice.order
    if not order.omie_os_code:
        raise ArchiveProblem("O pedido não tem o código da OS no Omie.", permanent=True)
    page = get_omie_client().listar_nfses(pagina=1, registros_por_pagina=50, nCodigoOS=order.omie_os_code)
    number = invoice.nfse_number.lstrip("0")
    for item in page.items:
        if item.n_cod_nf and item.number == number:
            return item.n_cod_nf
    raise ArchiveProblem(f"O Omie não lista a NFS-e {invoice.nfse_number} desta OS (ListarNFSEs).")


def _xml_source(docs: NfseDocs) -> str:
    return "link" if docs.xml.startswith(("http://", "https://")) else "conteúdo"


def _download(docs: NfseDocs) -> tuple[bytes, bytes]:
    if not docs.pdf_url:
        raise ArchiveProblem("O Omie não devolveu o link do PDF (cPdfNFSe).")
    pdf = document_download(docs.pdf_url, kind="PDF").content
    if not docs.xml:
        raise ArchiveProblem("O Omie não devolveu o XML (cXmlNFSe).")
    if _xml_source(docs) == "link":
        xml = document_download(docs.xml, kind="XML").content
    else:
        xml = docs.xml.encode("utf-8")
        if len(xml) > settings.NFSE_DOWNLOAD_MAX_BYTES:
            raise DocumentFetchError("XML maior que o limite", permanent=True)
    return pdf, xml


def _release(archive: NfseArchive, *, next_in: float, **fields: Any) -> None:
    now = timezone.now()
    NfseArchive.objects.filter(pk=archive.pk).update(
        leased_until=None, next_attempt_at=now + timedelta(seconds=next_in), updated_at=now, **fields)


def _backoff(attempt: int) -> float:
    return backoff_seconds(attempt, base=settings.NFSE_ARCHIVE_RETRY_BASE_SECONDS,
                           cap=settings.NFSE_ARCHIVE_RETRY_MAX_SECONDS, jitter=(1.0, 1.15))


def _failed_attempt(archive: NfseArchive, exc: Exception) -> ArchiveResult:
    """Retried with backoff; FAILED (flagged for ops, on the order's log and the admin) after the maximum."""
    attempts = archive.attempts + 1
    message = (getattr(exc, "message", "") or str(exc) or type(exc).__name__)[:2000]
    permanent = bool(getattr(exc, "permanent", False))
    logger.warning("nfse archive %s: attempt %s failed: %s", archive.pk, attempts, type(exc).__name__)
    if permanent or attempts >= settings.NFSE_ARCHIVE_MAX_ATTEMPTS:
        now = timezone.now()
        with transaction.atomic():
            NfseArchive.objects.filter(pk=archive.pk).update(
                status=Status.FAILED, attempts=attempts, last_error=message, leased_until=None, next_attempt_at=None, updated_at=now)
            action_log_record(actor=ACTOR, action="nfse_archive_failed", outcome=ActionOutcome.ERROR, order=archive.invoice.order,
                              message=f"Os documentos da NFS-e não foram guardados após {attempts} tentativa(s): {message}")
        return ArchiveResult("failed")
    delay = _backoff(attempts)
    _release(archive, next_in=delay, attempts=attempts, last_error=message)
    return ArchiveResult("rescheduled", retry_in=delay)


def _record(archive: NfseArchive, *, docs: NfseDocs, facts: NfseXmlFacts, stored: dict[str, tuple[Any, str]]) -> None:
    """The documents, the XML's facts and any drift, in one transaction; then Bubble gets the links."""
    invoice = archive.invoice
    order = invoice.order
    now = timezone.now()
    drift = _drift_text(invoice, facts)
    with transaction.atomic():
        locked = NfseArchive.objects.select_for_update().get(pk=archive.pk)
        existing = set(NfseDocument.objects.filter(archive=locked).values_list("kind", flat=True))
        for kind, (obj, source) in stored.items():
            if kind in existing:
                continue  # never replaced: the first stored document stays
            NfseDocument.objects.create(archive=locked, kind=kind, storage_key=obj.key, sha256=obj.sha256, size=obj.size,
                                        content_type="application/pdf" if kind == "PDF" else "application/xml",
                                        token=document_token_new(), source=source, stored_at=now,
                                        retain_until=locked.retain_until or retain_until(_issued_on(invoice)))
        NfseArchive.objects.filter(pk=locked.pk).update(
            status=Status.DONE, archived_at=now, leased_until=None, next_attempt_at=None, last_error="",
            portal_link=docs.portal_url[:500], access_key=facts.access_key, xml_number=facts.number[:40],
            xml_verification_code=facts.verification_code[:80], xml_issued_at=facts.issued_at,
            xml_service_amount=facts.service_amount, xml_net_amount=facts.net_amount, xml_iss_amount=facts.iss_amount,
            provider_document=facts.provider_document, taker_document=facts.taker_document, xml_drift=drift, updated_at=now,
            retain_until=locked.retain_until or retain_until(_issued_on(invoice)),
        )
        action_log_record(actor=ACTOR, action="nfse_archived", outcome=ActionOutcome.OK, order=order,
                          message=f"PDF e XML da NFS-e {invoice.nfse_number} guardados.")
        if drift:
            ReconciliationDrift.objects.create(
                run=None, source=ReconciliationDrift.Source.NFSE_DOCUMENT, kind=DriftKind.NFSE_XML_MISMATCH, order=order,
                omie_os_code=order.omie_os_code, c_cod_int_os=order.bubble_id, local_state=f"NFS-e {invoice.nfse_number}"[:100],
                omie_state=f"XML: NFS-e {facts.number or '—'}"[:100], message=drift,
            )
            action_log_record(actor=ACTOR, action="nfse_xml_drift", outcome=ActionOutcome.ERROR, order=order, message=drift)
        order_billing_writeback(order=order)


def _drift_text(invoice: Invoice, facts: NfseXmlFacts) -> str:
    """What the XML says differently from StatusOS (number, verification code) and from the order
    (amount, customer document); '' when they agree. Fields the XML lacks are not compared."""
    order = invoice.order
    problems: list[str] = []
    if facts.number and facts.number != invoice.nfse_number.lstrip("0"):
        problems.append(f"número no XML {facts.number}, no StatusOS {invoice.nfse_number}")
    if facts.verification_code and invoice.verification_code and \
            facts.verification_code.strip().upper() != invoice.verification_code.strip().upper():
        problems.append("código de verificação do XML diferente do StatusOS")
    if facts.service_amount is not None and facts.service_amount != order.amount:
        problems.append(f"valor dos serviços no XML R$ {facts.service_amount}, no pedido R$ {order.amount}")
    if facts.taker_document and order.document and facts.taker_document != document_compact(order.document):
        problems.append("CPF/CNPJ do tomador no XML diferente do pedido")
    return ("O XML da NFS-e diverge: " + "; ".join(problems) + ".") if problems else ""
