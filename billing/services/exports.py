"""Writing exports: the columns of each kind and the CSV / XLSX writers (one row in memory at a time).

The rows come from a queryset's ``values_list(...).iterator(chunk_size=…)`` (a server-side cursor:
PostgreSQL sends them in chunks), the XLSX is openpyxl's write-only workbook (rows go to a temporary
file as they are appended), the CSV is the csv module: memory stays flat whatever the row count.

Conventions, chosen for finance opening the file in a Brazilian Excel or LibreOffice:
- XLSX: amounts are numbers (format ``#,##0.00``), dates and times are real dates (``dd/mm/aaaa``,
  in America/Sao_Paulo);
- CSV: UTF-8 with BOM, ``;`` between fields, decimal comma without thousands separator
  (``1234,56``), dates ``dd/mm/aaaa`` and times ``dd/mm/aaaa hh:mm`` in America/Sao_Paulo.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from billing.models import ExportJob, Invoice, NfseDocument
from billing.services.nfse_links import document_url
from common.dates import SAO_PAULO
from orders.display import actor_display, document_display, os_number_display
from orders.models import Order
from orders.statuses import BillingStatus

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"


@dataclass(frozen=True)
class Column:
    header: str  # pt-BR, as finance reads it
    field: str  # the values_list lookup
    # text | money | date | datetime | int | document | os_number | actor | nf_issued | link (a document token, as its URL)
    kind: str = "text"
    labels: dict[Any, str] = field(default_factory=dict)  # choice value → label
    width: int = 18
    also: tuple[str, ...] = ()  # more lookups the value needs (it is then a tuple: field's value first)


def _labels(choices: Iterable[tuple[Any, str]]) -> dict[Any, str]:
    return {value: str(label) for value, label in choices}


ORDER_COLUMNS: list[Column] = [
    Column("Pedido (ID no Bubble)", "bubble_id", width=26),
    Column("Cliente", "customer_name", width=32),
    Column("Tipo de cliente", "customer_kind", labels=_labels(Order.CustomerKind.choices), width=10),
    Column("CPF/CNPJ", "document", "document"),
    Column("Valor (R$)", "amount", "money", width=14),
    Column("Valor pago (R$)", "amount_paid", "money", width=14),
    Column("Pagamento", "payment_status", labels=_labels(Order.PaymentStatus.choices)),
    Column("Forma de pagamento", "payment_method"),
    Column("Pago em", "paid_at", "datetime"),
    Column("Status do pedido", "sync_status", labels=_labels(Order.SyncStatus.choices)),
    Column("Status do faturamento", "billing_status", labels=_labels(Order.BillingStatus.choices), width=24),
    Column("Gatilho de faturamento", "billing_trigger", labels=_labels(Order.BillingTrigger.choices)),
    Column("Faturamento previsto para", "billing_scheduled_for", "date"),
    Column("Motivo da retenção", "hold_reason", labels=_labels(Order.HoldReason.choices)),
    Column("Número da OS", "omie_os_number", "os_number"),
    Column("Número da NF", "nf_number"),
    Column("Criado em", "created_at", "datetime"),
    Column("Sincronizado em", "synced_at", "datetime"),
    Column("Último erro", "last_error", width=60),
]

INVOICE_COLUMNS: list[Column] = [
    Column("Número da NFS-e", "nfse_number"),
    Column("Situação", "status", labels=_labels(Invoice._meta.get_field("status").choices), width=24),
    Column("Pedido (ID no Bubble)", "order__bubble_id", width=26),
    Column("Cliente", "order__customer_name", width=32),
    Column("Tipo de cliente", "order__customer_kind", labels=_labels(Order.CustomerKind.choices), width=10),
    Column("CPF/CNPJ", "order__document", "document"),
    Column("Valor (R$)", "order__amount", "money", width=14),
    Column("Número da OS", "order__omie_os_number", "os_number"),
    # A manual NF has only a date (ops typed it): no time is shown for it.
    Column("Emitida em", "issued_at", "nf_issued", also=("status",)),
    Column("Cancelada em", "cancelled_at", "datetime"),
    Column("Motivo do cancelamento", "cancel_reason_code", labels=_labels(Invoice.CancelReason.choices)),
    Column("NF manual registrada por", "manual_recorded_by", "actor"),
    Column("Criada em", "created_at", "datetime"),
    Column("Mensagem da prefeitura", "city_hall_message", width=60),
    # The archived documents (docs/nfse_documents.md): annotated by invoices_for_export / month_invoices.
    Column("Chave de acesso", "nfse_archive__access_key", width=54),
    Column("Link do PDF", "pdf_token", "link", width=60),
    Column("Link do XML", "xml_token", "link", width=60),
]


def orders_for_export(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """The order list's queryset with the newest NF number beside each order (no prefetch: rows stream)."""
    newest_nf = Invoice.objects.filter(order_id=OuterRef("pk")).exclude(nfse_number="").order_by("-created_at", "-id")
    return queryset.prefetch_related(None).annotate(nf_number=Subquery(newest_nf.values("nfse_number")[:1]))


def with_document_tokens(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Each invoice's live PDF / XML token (one subquery each; a revoked link is left out)."""
    def token(kind: str) -> Subquery:
        return Subquery(NfseDocument.objects.filter(archive__invoice_id=OuterRef("pk"), kind=kind, revoked_at__isnull=True)
                        .values("token")[:1])

    return queryset.annotate(pdf_token=token("PDF"), xml_token=token("XML"))


def invoices_for_export(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return with_document_tokens(queryset.prefetch_related(None))


def rows_of(queryset: QuerySet, columns: Sequence[Column], chunk_size: int = CHUNK_SIZE) -> Iterator[tuple]:
    """One value per column (a tuple for a column that reads more than one lookup)."""
    lookups = [name for c in columns for name in (c.field, *c.also)]
    raw = queryset.values_list(*lookups).iterator(chunk_size=chunk_size)
    if not any(c.also for c in columns):
        return raw
    return (_regroup(columns, row) for row in raw)


def _regroup(columns: Sequence[Column], row: tuple) -> tuple:
    values, i = [], 0
    for column in columns:
        width = 1 + len(column.also)
        values.append(row[i] if width == 1 else tuple(row[i:i + width]))
        i += width
    return tuple(values)


# Cell values ------------------------------------------------------------------------------
def _local(value: datetime) -> datetime:
    return timezone.localtime(value, SAO_PAULO).replace(tzinfo=None) if timezone.is_aware(value) else value


# A cell starting with one of these is read as a formula by Excel, LibreOffice or Google Sheets (tab and
# carriage return too: some importers drop them and read the "=" behind them). OWASP's "CSV Injection" list.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: Any) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    # A text cell must never become a formula in the spreadsheet that opens it.
    return "'" + text if text[:1] in FORMULA_STARTS else text


def typed_value(column: Column, value: Any) -> Any:
    """The value as it goes in the XLSX: Decimal for money, naive local date/datetime, label for choices."""
    if column.kind == "nf_issued":  # (issued_at, status): a manual NF's date alone
        issued_at, status = value
        if issued_at is None:
            return None
        local = _local(issued_at)
        return local.date() if status == BillingStatus.MANUAL else local
    if value is None or value == "":
        return "" if column.kind == "text" else None
    if column.labels:
        return column.labels.get(value, str(value))
    if column.kind == "link":
        return document_url(str(value))
    if column.kind == "money":
        return Decimal(value)
    if column.kind == "datetime" and isinstance(value, datetime):
        return _local(value)
    if column.kind in ("date", "int"):
        return value
    shown = TEXT_SHOWN.get(column.kind)
    return _text(shown(value) if shown else value)


# Text columns shown as ops read them (formatted CPF/CNPJ, the OS number without Omie's zeros, the person's name).
TEXT_SHOWN: dict[str, Callable[[str], str]] = {
    "document": document_display, "os_number": os_number_display, "actor": actor_display,
}


def csv_value(column: Column, value: Any) -> str:
    value = typed_value(column, value)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


# Writers ----------------------------------------------------------------------------------
Progress = Callable[[int], None]


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[Sequence[Any]], progress: Progress | None = None,
              every: int = CHUNK_SIZE) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow([c.header for c in columns])
        for row in rows:
            writer.writerow([csv_value(c, v) for c, v in zip(columns, row, strict=True)])
            count += 1
            if progress and count % every == 0:
                progress(count)
    return count


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]


def write_xlsx(path: Path, sheets: Sequence[Sheet], progress: Progress | None = None, every: int = CHUNK_SIZE) -> int:
    """One workbook, one sheet per entry; returns the data rows written (all sheets)."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    count = 0
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        for i, column in enumerate(sheet.columns):
            ws.column_dimensions[_letter(i)].width = column.width
        ws.freeze_panes = "A2"
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=column.header)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        formats = [{"money": MONEY_FORMAT, "date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "nf_issued": DATETIME_FORMAT}.get(c.kind)
                   if not c.labels else None for c in sheet.columns]
        for row in sheet.rows:
            cells: list[Any] = []
            for column, number_format, value in zip(sheet.columns, formats, row, strict=True):
                value = typed_value(column, value)
                if number_format and value is not None:
                    cell = WriteOnlyCell(ws, value=value)
                    is_day = isinstance(value, date) and not isinstance(value, datetime)
                    cell.number_format = DATE_FORMAT if is_day else number_format
                    cells.append(cell)
                else:
                    cells.append(value)
            ws.append(cells)
            count += 1
            if progress and count % every == 0:
                progress(count)
    workbook.save(path)
    return count


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# Files --------------------------------------------------------------------------------------
def export_path(job: ExportJob) -> Path:
    """Where the job's file lives: EXPORTS_ROOT/<yyyy-mm>/<id>-<kind>.<ext> (relative path kept on the job)."""
    relative = Path(f"{job.created_at:%Y-%m}") / f"{job.pk}-{job.kind.lower()}.{job.file_format}"
    return Path(settings.EXPORTS_ROOT) / relative


def export_file(job: ExportJob) -> Path | None:
    if not job.file_path:
        return None
    path = Path(settings.EXPORTS_ROOT) / job.file_path
    return path if path.is_file() else None


def exports_expired_delete(*, now: datetime | None = None) -> int:
    """Deletes the files of exports past their TTL (and of failed ones); the job rows stay as the record."""
    now = now or timezone.now()
    expired = ExportJob.objects.filter(expires_at__lt=now).exclude(status=ExportJob.Status.EXPIRED)
    count = 0
    for job in expired.iterator(chunk_size=500):
        path = Path(settings.EXPORTS_ROOT) / job.file_path if job.file_path else None
        if path is not None and path.is_file():
            os.remove(path)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.EXPIRED, file_path="", file_size=0)
        count += 1
    if count:
        logger.info("exports expired", extra={"count": count})
    return count


def export_job_write(job: ExportJob, sheets: Sequence[Sheet], total_rows: int) -> ExportJob:
    """Writes the job's file (CSV: the first sheet only) with progress on the job row; marks it done or failed.

    Safe to run again on the same job (a redelivered task): the file is rewritten from the start.
    """
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, started_at=now, total_rows=total_rows, rows_done=0,
                                               error="")
    path = export_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".parcial")

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=done)

    try:
        if job.file_format == ExportJob.Format.CSV:
            written = write_csv(partial, sheets[0].columns, sheets[0].rows, progress)
        else:
            written = write_xlsx(partial, sheets, progress)
        os.replace(partial, path)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        logger.exception("export failed", extra={"export_id": job.pk, "kind": job.kind})
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, finished_at=timezone.now(), expires_at=timezone.now(),
            error=f"A exportação falhou ({type(exc).__name__}). Tente de novo; se repetir, avise o suporte.",
        )
        raise
    finished = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, rows_done=written, total_rows=max(total_rows, written), finished_at=finished,
        file_path=str(path.relative_to(settings.EXPORTS_ROOT)), file_size=path.stat().st_size,
        expires_at=finished + timedelta(hours=settings.EXPORT_TTL_HOURS),
    )
    logger.info("export done", extra={"export_id": job.pk, "kind": job.kind, "rows": written})
    job.refresh_from_db()
    return job
