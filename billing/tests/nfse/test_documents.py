"""NFS-e documents (docs/nfse_documents.md): fetched with one ObterNFSe, stored verified, served by a
stable token link, retried then flagged on failure — against the fake Omie over real HTTP."""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter

import pytest
import requests

from billing.models import Invoice, NfseArchive, NfseDocument, ReconciliationDrift
from billing.services.nfse_archive import nfse_archive_request
from billing.services.nfse_links import document_link_revoke, document_token_new
from billing.services.nfse_storage import object_read
from billing.tests.conftest import processed
from billing.tests.nfse.support import archive_now, issued_order
from orders.models import ActionLog
from orders.statuses import BillingStatus
from sandbox.fake_omie.documents import nfse_pdf
from sandbox.fake_omie.models import FakeNfse

pytestmark = pytest.mark.django_db(transaction=True)


def bubble_fields(order) -> dict:
    from integrations.bubble.models import BubbleWriteback

    merged: dict = {}
    for row in BubbleWriteback.objects.filter(thing="order", bubble_id=order.bubble_id).order_by("id"):
        merged.update(row.fields)
    return merged


def _path(url: str) -> str:
    return url.replace("http://testserver", "")


def test_an_issued_invoice_gets_its_pdf_and_xml_with_one_obter_nfse_and_bubbles_link_serves_the_same_pdf(fake_omie, nfse_files, client):
    order = issued_order()
    started = time.monotonic()
    archive = archive_now(order)
    assert time.monotonic() - started < 60
    assert archive.status == NfseArchive.Status.DONE, archive.last_error
    assert processed(fake_omie, "ObterNFSe") == 1
    assert processed(fake_omie, "ListarNFSEs") == 1  # no webhook hint: one list by nCodigoOS gave the NF id

    rps = FakeNfse.objects.select_related("service_order__customer").get(service_order__c_cod_int_os=order.bubble_id)
    pdf_doc = NfseDocument.objects.get(archive=archive, kind="PDF")
    xml_doc = NfseDocument.objects.get(archive=archive, kind="XML")
    expected_pdf = nfse_pdf(rps)
    assert pdf_doc.sha256 == hashlib.sha256(expected_pdf).hexdigest() == hashlib.sha256(object_read(pdf_doc.storage_key)).hexdigest()
    assert pdf_doc.storage_key.endswith(f"/{archive.invoice_id}/{pdf_doc.sha256}.pdf")
    assert xml_doc.source == "conteúdo" and object_read(xml_doc.storage_key).startswith(b"<?xml")

    fields = bubble_fields(order)
    assert fields["nf_link"] == f"http://testserver/nf/{pdf_doc.token}"
    assert fields["nf_xml_link"] == f"http://testserver/nf/{xml_doc.token}"
    response = client.get(_path(fields["nf_link"]))
    assert response.status_code == 200 and response.content == expected_pdf
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="NFS-e-{rps.number}.pdf"'
    xml_response = client.get(_path(fields["nf_xml_link"]))
    assert xml_response.status_code == 200 and xml_response["Content-Disposition"].startswith("attachment;")

    # The XML's facts land beside the invoice, and agree with StatusOS and the order: no drift.
    assert len(archive.access_key) == 50 and archive.xml_number == str(rps.number)
    assert archive.xml_service_amount == order.amount and archive.xml_net_amount == order.amount
    assert archive.provider_document == "11222333000181" and archive.taker_document == rps.service_order.customer.cnpj_cpf
    assert archive.xml_issued_at is not None and archive.xml_drift == ""
    assert not ReconciliationDrift.objects.filter(order=order).exists()
    assert ActionLog.objects.filter(order=order, action="nfse_archived", outcome="ok").exists()


def test_the_webhooks_nf_id_saves_the_list_call_and_an_xml_given_as_a_link_is_downloaded(fake_omie, nfse_files):
    fake_omie.configure(nfse_xml_as_link=True)
    order = issued_order()
    invoice = Invoice.objects.get(order=order)
    rps = FakeNfse.objects.get(service_order__c_cod_int_os=order.bubble_id)
    before = processed(fake_omie, "ListarNFSEs")
    nfse_archive_request(invoice=invoice, nf_id=rps.pk, enqueue=False)
    archive = archive_now(order)
    assert archive.status == "DONE", archive.last_error
    assert processed(fake_omie, "ListarNFSEs") == before and processed(fake_omie, "ObterNFSe") == 1
    assert NfseDocument.objects.get(archive=archive, kind="XML").source == "link"


def test_a_link_that_answers_html_is_retried_then_flagged_and_the_invoice_stays_issued_with_nothing_served(fake_omie, nfse_files, settings):
    settings.NFSE_ARCHIVE_MAX_ATTEMPTS = 3
    fake_omie.inject("html_502", call="nfse.pdf", times=3)  # the fake's captcha page, HTTP 200
    order = issued_order()
    archive = archive_now(order)
    assert archive.status == NfseArchive.Status.FAILED and archive.attempts == 3
    assert "HTML" in archive.last_error
    assert processed(fake_omie, "ObterNFSe") == 3  # one per attempt
    assert not NfseDocument.objects.filter(archive=archive).exists()
    assert not any(nfse_files.rglob("*.pdf")) if nfse_files.exists() else True
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == BillingStatus.ISSUED
    assert bubble_fields(order)["nf_link"] == invoice.nfse_url  # still the city hall's page, never a broken link
    assert ActionLog.objects.filter(order=order, action="nfse_archive_failed", outcome="error").exists()


def test_an_obter_nfse_failure_is_retried_and_then_succeeds(fake_omie, nfse_files):
    fake_omie.inject("broken_response", call="ObterNFSe", times=1)
    order = issued_order()
    archive = archive_now(order)
    assert archive.status == "DONE" and archive.attempts == 1
    assert len(fake_omie.calls("ObterNFSe")) == 2


def test_the_link_is_404_after_revocation_and_for_a_wrong_token(fake_omie, nfse_files, client):
    order = issued_order()
    archive = archive_now(order)
    pdf = NfseDocument.objects.get(archive=archive, kind="PDF")
    assert client.get(f"/nf/{pdf.token}").status_code == 200
    assert client.get(f"/nf/{document_token_new()}").status_code == 404
    assert client.get(f"/nf/{pdf.token[:-1]}x").status_code in (404,) or pdf.token.endswith("x")
    document_link_revoke(document=pdf, actor="ops@blu")
    assert client.get(f"/nf/{pdf.token}").status_code == 404
    # Bubble falls back to the city hall's page once our link is revoked.
    assert bubble_fields(order)["nf_link"] == Invoice.objects.get(order=order).nfse_url


def test_tokens_are_not_guessable():
    tokens = [document_token_new() for _ in range(2000)]
    assert len(set(tokens)) == len(tokens)
    assert all(len(t) == 43 for t in tokens)
    # 43 url-safe characters = 258 bits of alphabet, 256 of them random: the characters are spread evenly.
    counts = Counter("".join(t[:42] for t in tokens))
    assert len(counts) == 64
    expected = 2000 * 42 / 64
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 140  # 63 degrees of freedom: p ≈ 1e-7 for a fair source
    entropy = -sum(c / sum(counts.values()) * math.log2(c / sum(counts.values())) for c in counts.values())
    assert entropy > 5.98


def test_a_request_flood_is_limited(settings, client, db):
    settings.NFSE_LINK_RATE_PER_MINUTE = 5
    from django.core.cache import cache

    cache.clear()
    answers = [client.get(f"/nf/{document_token_new()}").status_code for _ in range(8)]
    assert answers[:5] == [404] * 5 and set(answers[5:]) == {429}


def test_a_cancelled_nf_keeps_its_documents_and_records_the_cancellation(fake_omie, nfse_files, client):
    from billing.services.nfse_archive import nfse_archive_cancellation_record

    order = issued_order()
    archive = archive_now(order)
    invoice = Invoice.objects.get(order=order)
    nfse_archive_cancellation_record(invoice=invoice)
    archive.refresh_from_db()
    assert archive.cancellation_recorded_at is not None
    pdf = NfseDocument.objects.get(archive=archive, kind="PDF")
    assert client.get(f"/nf/{pdf.token}").status_code == 200
    with pytest.raises(PermissionError):
        pdf.delete()


def test_an_xml_that_disagrees_with_statusos_is_a_drift_ops_see(fake_omie, nfse_files):
    order = issued_order()
    from decimal import Decimal

    from orders.models import Order

    Order.objects.filter(pk=order.pk).update(amount=order.amount + Decimal("0.01"))  # the XML keeps Omie's amount
    archive = archive_now(order)
    assert archive.status == "DONE"  # the documents are what Omie has: kept, and the difference flagged
    assert "valor dos serviços no XML" in archive.xml_drift
    drift = ReconciliationDrift.objects.get(order=order)
    assert drift.kind == "NFSE_XML_MISMATCH" and drift.source == "NFSE_DOCUMENT"
    assert ActionLog.objects.filter(order=order, action="nfse_xml_drift", outcome="error").exists()


def test_the_fakes_pdf_is_a_real_pdf(fake_omie, nfse_files):
    order = issued_order()
    rps = FakeNfse.objects.get(service_order__c_cod_int_os=order.bubble_id)
    pdf = requests.get(f"{fake_omie.server_url}/sandbox/omie/docs/nfse/{rps.pk}.pdf", timeout=10)
    assert pdf.headers["Content-Type"] == "application/pdf"
    body = pdf.content
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    startxref = int(body.rsplit(b"startxref", 1)[1].split()[0])
    assert body[startxref:startxref + 4] == b"xref"
    for line in body[startxref:].split(b"\n")[3:8]:
        offset = int(line.split()[0])
        assert body[offset:].split(b" ", 1)[0].isdigit() and b" 0 obj" in body[offset:offset + 12]


def test_an_xml_with_an_external_entity_from_omie_is_refused_and_nothing_is_stored(fake_omie, nfse_files, monkeypatch):
    """The fake Omie answers ObterNFSe with a hostile XML: the archive fails at once (the same XML would
    come back), nothing is fetched from the entity's address and no document is recorded."""
    from sandbox.fake_omie import webhooks

    hits: list[str] = []
    monkeypatch.setattr(webhooks, "nfse_xml", lambda nfse: (
        '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY ext SYSTEM "http://127.0.0.1:9/segredo">]><NFSe><nNFSe>&ext;</nNFSe></NFSe>'))
    order = issued_order()
    archive = archive_now(order)
    assert archive.status == "FAILED" and archive.attempts == 1 and "XML da NFS-e recusado" in archive.last_error
    assert not NfseDocument.objects.filter(archive=archive).exists() and not hits
    assert Invoice.objects.get(order=order).status == BillingStatus.ISSUED
