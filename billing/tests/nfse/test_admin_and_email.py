"""The admin's "Baixar PDF" / "Baixar XML" (no delete anywhere), the export's links and access key, and
OMIE_SEND_NFSE_EMAIL driving IncluirOS's Email block within Omie's contract."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import NfseDocument
from billing.tests.nfse.support import archive_now, issued_order
from integrations.omie.contract import request_problems
from integrations.omie.payloads import os_payload
from sandbox.fake_omie.documents import nfse_pdf
from sandbox.fake_omie.models import FakeNfse

pytestmark = pytest.mark.django_db(transaction=True)


def test_ops_download_the_pdf_and_xml_from_the_invoice_and_order_pages_and_cannot_delete_them(fake_omie, nfse_files, client,
                                                                                              user_factory):
    order = issued_order()
    archive = archive_now(order)
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    invoice_page = client.get(f"/admin/billing/invoice/{archive.invoice_id}/change/").content.decode()
    order_page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    pdf = NfseDocument.objects.get(archive=archive, kind="PDF")
    url = f"/admin/billing/nfsedocument/{pdf.pk}/baixar/"
    for page in (invoice_page, order_page):
        assert "Baixar PDF" in page and "Baixar XML" in page and url in page
    assert archive.access_key in invoice_page
    assert "o Omie não foi pedido para enviar a NFS-e por e-mail" in order_page
    response = client.get(url)
    rps = FakeNfse.objects.get(service_order__c_cod_int_os=order.bubble_id)
    assert response.status_code == 200 and response.content == nfse_pdf(rps)
    assert response["Content-Disposition"].startswith("attachment;")
    # No delete: not the button, not the bulk action, not the URL.
    assert client.get(f"/admin/billing/nfsedocument/{pdf.pk}/delete/").status_code in (302, 403)
    assert "delete_selected" not in client.get("/admin/billing/nfsedocument/").content.decode()
    assert NfseDocument.objects.filter(pk=pdf.pk).exists()


def test_the_invoice_export_carries_the_links_and_the_access_key(fake_omie, nfse_files):
    from billing.models import Invoice
    from billing.services.exports import INVOICE_COLUMNS, invoices_for_export, rows_of, typed_value

    order = issued_order()
    archive = archive_now(order)
    rows = list(rows_of(invoices_for_export(Invoice.objects.filter(pk=archive.invoice_id)), INVOICE_COLUMNS))
    values = {c.header: typed_value(c, v) for c, v in zip(INVOICE_COLUMNS, rows[0], strict=True)}
    pdf, xml = (NfseDocument.objects.get(archive=archive, kind=k) for k in ("PDF", "XML"))
    assert values["Link do PDF"] == f"http://testserver/nf/{pdf.token}"
    assert values["Link do XML"] == f"http://testserver/nf/{xml.token}"
    assert values["Chave de acesso"] == archive.access_key and len(archive.access_key) == 50


def _payload(email: str) -> dict:
    from datetime import date

    return os_payload(c_cod_int_os="ped-1", codigo_cliente_omie=2400000001, amount=Decimal("100.00"), description="Serviço",
                      lc116_code="1.07", email=email, forecast=date(2026, 12, 25))


def test_omie_is_asked_to_email_the_nfse_only_with_the_setting_on_and_the_payload_stays_within_the_contract(settings):
    settings.OMIE_SEND_NFSE_EMAIL = False
    assert _payload("cliente@exemplo.com")["Email"]["cEnvLink"] == "N"
    settings.OMIE_SEND_NFSE_EMAIL = True
    on = _payload("cliente@exemplo.com")
    assert on["Email"] == {"cEnvBoleto": "N", "cEnvLink": "S", "cEnviarPara": "cliente@exemplo.com"}
    assert request_problems("IncluirOS", on) == []
    assert _payload("  ")["Email"]["cEnvLink"] == "N"  # nobody to send to
