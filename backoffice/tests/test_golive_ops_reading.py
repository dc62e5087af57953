"""Issue 24's smaller items, as ops read them: the timeline's Omie webhook lines, when an order "Em emissão"
is looked at next, OS numbers without Omie's zero padding, exports (dated names, formatted CPF/CNPJ, a
manual NF's date without an invented time, the person's name as the actor).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from backoffice.ops_language import ops_text_problems, visible_text
from billing.models import ExportJob, Invoice
from billing.services.actions import Caller, invoice_manual_record
from billing.tests.factories import order_in_state
from common.dates import SAO_PAULO, today_sp
from integrations.omie.webhooks.models import OmieWebhookEvent

pytestmark = pytest.mark.django_db

MESSAGE_ID = "0b7d7a4e-4c1d-4a53-8f4a-51c3d7c9e2aa"


@pytest.fixture
def finance(user_factory, settings, tmp_path) -> Client:
    settings.EXPORTS_ROOT = str(tmp_path / "exports")
    user = user_factory("bruno.financeiro", is_staff=True, first_name="Bruno", last_name="Lima")
    user.groups.add(Group.objects.get(name="Financeiro"))
    client = Client()
    client.force_login(user)
    return client


def _page(client: Client, order) -> str:
    return client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()


def test_the_timeline_tells_omie_s_events_in_ops_language(finance):
    order = order_in_state("ISSUED")
    OmieWebhookEvent.objects.create(message_id=MESSAGE_ID, topic="OrdemServico.Faturada", payload={}, status="NO_CHANGE",
                                    payload_format="connect2", order_id=order.pk, deliveries=2,
                                    message="A OS já estava faturada.")
    OmieWebhookEvent.objects.create(message_id="m-2", topic="NFSe.NotaAutorizada", payload={}, status="APPLIED",
                                    nfse_number="123", order_id=order.pk)

    text = visible_text(_page(finance, order))

    assert "Omie avisou: OS faturada — nada a mudar" in text and "recebido 2 vezes" in text
    assert "Omie avisou: NFS-e autorizada pela prefeitura — situação atualizada" in text and "NFS-e 123" in text
    assert MESSAGE_ID not in text and "connect2" not in text and "OrdemServico" not in text and "NFSe.Nota" not in text
    assert ops_text_problems(text) == []


def test_an_order_em_emissao_says_when_the_next_check_is(finance):
    order = order_in_state("ISSUING")
    when = timezone.now() + timedelta(minutes=5)
    Invoice.objects.filter(order=order).update(next_step="POLL_NFSE", next_poll_at=when)

    text = visible_text(_page(finance, order))

    local = timezone.localtime(when)
    assert f"próximo passo: consulta da NFS-e ao Omie às {local:%H:%M}" in text
    assert re.search(r"\(em [56] min\)", text), text

    Invoice.objects.filter(order=order).update(next_step="", next_poll_at=None)
    assert "nenhum passo agendado" in visible_text(_page(finance, order))


def test_os_numbers_read_without_omie_s_zeros_and_are_found_as_typed(finance):
    order = order_in_state("ISSUED", omie_os_number="000000000001726", customer_name="Clínica Zero")
    order_in_state("ISSUED", omie_os_number="000000000017260")

    listing = visible_text(finance.get("/admin/orders/order/").content.decode())
    page = visible_text(_page(finance, order))

    assert "OS 1726" in listing and "000000000001726" not in listing
    assert "nº 1726" in page and "000000000001726" not in page
    found = finance.get("/admin/orders/order/", {"q": "1726"})
    assert [o.pk for o in found.context["cl"].result_list] == [order.pk]


def test_exports_are_named_by_date_with_documents_formatted_manual_dates_alone_and_people_by_name(finance, user_factory):
    order_in_state("ISSUED", document="11222333000181", omie_os_number="000000000001726")
    manual = order_in_state("SCHEDULED", document="52998224725")
    user_factory("ana.ops", first_name="Ana", last_name="Souza")
    invoice_manual_record(order_bubble_id=manual.bubble_id, caller=Caller(actor="admin:ana.ops"), nf_number="M-1",
                          issued_on=today_sp())

    response = finance.get("/admin/billing/invoice/exportar/", {"formato": "csv"})
    assert response.status_code == 200
    name = re.search(r'filename="?([^";]+)', response["Content-Disposition"]).group(1)
    assert re.fullmatch(r"notas-fiscais-\d{4}-\d{2}-\d{2}-\d{4}\.csv", name), name
    local = timezone.localtime(ExportJob.objects.get().created_at)
    assert name == f"notas-fiscais-{local:%Y-%m-%d-%H%M}.csv"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    by_number = {row["Número da NFS-e"]: row for row in rows}
    assert by_number["123"]["CPF/CNPJ"] == "11.222.333/0001-81"
    assert by_number["123"]["Número da OS"] == "1726"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", by_number["123"]["Emitida em"])  # the system's NF: date and time
    assert by_number["M-1"]["CPF/CNPJ"] == "529.982.247-25"
    assert by_number["M-1"]["Emitida em"] == f"{today_sp():%d/%m/%Y}"  # a manual NF: its date, no invented 12:00
    assert by_number["M-1"]["NF manual registrada por"] == "Ana Souza"

    xlsx = finance.get("/admin/billing/invoice/exportar/", {"formato": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content) if xlsx.streaming else xlsx.content)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    column = header.index("Emitida em")
    cells = {row[0].value: row[column] for row in sheet.iter_rows(min_row=2)}
    assert cells["M-1"].value.date() == today_sp() and cells["M-1"].number_format == "DD/MM/YYYY"  # a date alone
    assert cells["123"].number_format == "DD/MM/YYYY HH:MM"
    assert sheet.cell(row=2, column=header.index("CPF/CNPJ") + 1).value in ("11.222.333/0001-81", "529.982.247-25")


def test_the_month_close_export_names_its_month_and_the_day_it_was_made():
    job = ExportJob(kind="MONTH", file_format="xlsx", filter_query="mes=2026-11")
    job.created_at = datetime(2026, 12, 7, 14, 42, tzinfo=SAO_PAULO)
    assert job.download_name == "faturamento-do-mes-2026-11-gerado-2026-12-07-1442.xlsx"
