"""Exportar (order and invoice lists): the current filter as XLSX/CSV, small in the request, big in a real worker."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from billing.models import ExportJob, Invoice
from billing.services.exports import exports_expired_delete
from billing.tests.factories import order_in_state
from orders.models import Order
from testsupport.processes import wait_for


@pytest.fixture
def exports_root(tmp_path, settings) -> Path:
    settings.EXPORTS_ROOT = str(tmp_path / "exports")
    return tmp_path / "exports"


@pytest.fixture
def login(user_factory):
    def make(group: str, name: str | None = None) -> Client:
        user = user_factory(name or f"u-{group.lower()}", is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        client = Client()
        client.force_login(user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _xlsx_rows(data: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return list(workbook.worksheets[0].iter_rows(values_only=True))


@pytest.mark.django_db
def test_financeiro_exports_the_filtered_order_list_as_xlsx_with_numbers_and_dates(login, exports_root):
    issued = [order_in_state("ISSUED", amount=Decimal("1234.56"), customer_name=f"Cliente {i}") for i in range(3)]
    order_in_state("SCHEDULED")
    finance = login("Financeiro")
    response = finance.get("/admin/orders/order/exportar/", {"billing_status__exact": "ISSUED", "formato": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment") and ".xlsx" in response["Content-Disposition"]
    rows = _xlsx_rows(_content(response))
    header, data = rows[0], rows[1:]
    assert header[0] == "Pedido (ID no Bubble)" and "Valor (R$)" in header and "Número da NF" in header
    assert len(data) == len(issued)
    amount, created = header.index("Valor (R$)"), header.index("Criado em")
    assert all(row[amount] == pytest.approx(1234.56) for row in data)  # a number, not "R$ 1.234,56"
    assert all(isinstance(row[created], datetime) for row in data)
    assert {row[header.index("Status do faturamento")] for row in data} == {"NF emitida"}
    assert {row[header.index("Número da NF")] for row in data} == {"123"}
    job = ExportJob.objects.get()
    assert (job.status, job.kind, job.total_rows, job.requested_by_name) == ("DONE", "ORDERS", 3, "u-financeiro")
    assert "NF emitida" in job.filter_label
    assert (exports_root / job.file_path).is_file()  # on disk, not in the database


@pytest.mark.django_db
def test_the_csv_is_what_a_brazilian_spreadsheet_opens(login, exports_root):
    order = order_in_state("SCHEDULED", amount=Decimal("1000.50"))
    finance = login("Financeiro")
    response = finance.get("/admin/orders/order/exportar/", {"formato": "csv", "q": order.bubble_id})
    text = _content(response).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header, (row,) = rows[0], rows[1:]
    assert row[header.index("Valor (R$)")] == "1000,50"
    assert row[header.index("Faturamento previsto para")] == f"{order.billing_scheduled_for:%d/%m/%Y}"
    assert row[header.index("Tipo de cliente")] in ("Pessoa física", "Pessoa jurídica")


@pytest.mark.django_db
def test_the_invoice_list_exports_its_filter(login, exports_root):
    order_in_state("ISSUED")
    order_in_state("CANCELLED")
    finance = login("Financeiro")
    response = finance.get("/admin/billing/invoice/exportar/", {"status__exact": "CANCELLED", "formato": "xlsx"})
    rows = _xlsx_rows(_content(response))
    assert rows[0][0] == "Número da NFS-e"
    assert [(r[0], r[1]) for r in rows[1:]] == [("125", "NF cancelada")]


@pytest.mark.django_db
def test_ops_sees_export_greyed_out_with_the_reason_and_the_url_is_refused(login, exports_root):
    ops = login("Ops")
    html = ops.get("/admin/orders/order/").content.decode()
    assert 'aria-disabled="true"' in html and "Exportar é do grupo Financeiro" in html
    assert 'href="/admin/orders/order/exportar/' not in html
    assert ops.get("/admin/orders/order/exportar/", {"formato": "csv"}).status_code == 403
    assert not ExportJob.objects.exists()
    finance_html = login("Financeiro").get("/admin/orders/order/?billing_status__exact=ISSUED").content.decode()
    assert 'href="/admin/orders/order/exportar/?billing_status__exact=ISSUED&amp;formato=xlsx"' in finance_html


@pytest.mark.django_db
def test_the_data_migration_gives_export_to_financeiro_only():
    assert Group.objects.get(name="Financeiro").permissions.filter(content_type__app_label="billing", codename="export").exists()
    assert not Group.objects.get(name="Ops").permissions.filter(codename="export").exists()


@pytest.mark.django_db
def test_only_the_requester_downloads_and_expired_files_are_deleted(login, exports_root):
    order_in_state("ISSUED")
    alice = login("Financeiro", "alice")
    alice.get("/admin/orders/order/exportar/", {"formato": "csv"})
    job = ExportJob.objects.get()
    url = f"/admin/billing/exportjob/{job.pk}/baixar/"
    assert alice.get(url).status_code == 200
    assert login("Financeiro", "bruno").get(url).status_code == 404
    assert "alice" not in login("Financeiro", "carla").get("/admin/billing/exportjob/").content.decode()
    path = exports_root / job.file_path
    assert exports_expired_delete(now=timezone.now() + timedelta(hours=71)) == 0 and path.is_file()
    assert exports_expired_delete(now=timezone.now() + timedelta(hours=73)) == 1
    assert not path.exists()
    job.refresh_from_db()
    assert job.status == "EXPIRED" and alice.get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_big_export_runs_in_a_real_worker_with_progress_and_a_download_link(login, exports_root, celery_worker_process, settings):
    settings.EXPORT_ASYNC_THRESHOLD = 5
    for _ in range(7):
        order_in_state("ISSUED")
    order_in_state("SCHEDULED")
    celery_worker_process(queues="exports", concurrency=1, EXPORTS_ROOT=str(exports_root))
    finance = login("Financeiro")
    response = finance.get("/admin/orders/order/exportar/", {"billing_status__exact": "ISSUED", "formato": "xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/billing/exportjob/{job.pk}/change/"
    wait_for(lambda: ExportJob.objects.get(pk=job.pk).status in ("DONE", "FAILED"), timeout=60, message="the export never finished")
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.total_rows) == ("DONE", 7, 7)
    page = finance.get(f"/admin/billing/exportjob/{job.pk}/change/").content.decode()
    assert "Pronta" in page and f"/admin/billing/exportjob/{job.pk}/baixar/" in page
    rows = _xlsx_rows(_content(finance.get(f"/admin/billing/exportjob/{job.pk}/baixar/")))
    assert len(rows) - 1 == Order.objects.filter(billing_status="ISSUED").count() == 7
    assert Invoice.objects.count() == 7


@pytest.mark.django_db
def test_text_that_looks_like_a_formula_stays_text(login, exports_root):
    order = order_in_state("SCHEDULED", customer_name="=HYPERLINK(\"http://x\")")
    finance = login("Financeiro")
    text = _content(finance.get("/admin/orders/order/exportar/", {"formato": "csv", "q": order.bubble_id})).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"
    rows = _xlsx_rows(_content(finance.get("/admin/orders/order/exportar/", {"formato": "xlsx", "q": order.bubble_id})))
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"


@pytest.mark.django_db
@pytest.mark.parametrize("start", ["\t", "\r"])
def test_text_starting_with_tab_or_carriage_return_is_prefixed_too(login, exports_root, start):
    """Before: only = + - @ were prefixed; "\\t=cmd|..." reached the spreadsheet as it was."""
    order = order_in_state("SCHEDULED", customer_name=f"{start}=1+1")
    finance = login("Financeiro")
    text = _content(finance.get("/admin/orders/order/exportar/", {"formato": "csv", "q": order.bubble_id})).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][1] == f"'{start}=1+1"
    rows = _xlsx_rows(_content(finance.get("/admin/orders/order/exportar/", {"formato": "xlsx", "q": order.bubble_id})))
    # XML reads a stored carriage return back as a line feed: the prefix is what matters.
    assert rows[1][1].replace("\n", "\r") == f"'{start}=1+1"


@pytest.mark.django_db
def test_a_job_whose_requester_lost_the_permission_fails_with_the_reason(user_factory, exports_root):
    from django.core.exceptions import PermissionDenied

    from backoffice.tasks import export_run

    user = user_factory("ex-financeiro", is_staff=True)
    user.groups.add(Group.objects.get(name="Ops"))
    job = ExportJob.objects.create(requested_by=user, requested_by_name=user.username, kind="ORDERS", file_format="csv")
    with pytest.raises(PermissionDenied):
        export_run(job.pk)
    job.refresh_from_db()
    assert job.status == "FAILED" and "Financeiro" in job.error and not job.file_path


@pytest.mark.django_db
def test_the_hourly_clean_up_is_a_beat_task_that_a_worker_knows():
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    call_command("setup_periodic_tasks")
    task = PeriodicTask.objects.get(name="Exportações: apagar arquivos vencidos")
    assert (task.task, task.interval.every, task.enabled) == ("backoffice.tasks.exports_cleanup", 3600, True)
    app.loader.import_default_modules()
    assert {"backoffice.tasks.exports_cleanup", "backoffice.tasks.export_run"} <= set(app.tasks)
