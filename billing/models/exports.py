"""An export of orders, invoices or a month's billing, asked for in the admin.

The file is written to ``EXPORTS_ROOT`` (on disk, never in the database), row by row; the job keeps
who asked, the filter as they saw it, how far it got and where the file is. Files are deleted after
``EXPORT_TTL_HOURS`` by the hourly clean-up task.
"""

import re
from urllib.parse import parse_qs

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.dates import SAO_PAULO


class ExportKind(models.TextChoices):
    ORDERS = "ORDERS", "Pedidos"
    INVOICES = "INVOICES", "Notas fiscais"
    MONTH = "MONTH", "Faturamento do mês"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel"


class ExportStatus(models.TextChoices):
    PENDING = "PENDING", "Na fila"
    RUNNING = "RUNNING", "Gerando"
    DONE = "DONE", "Pronta"
    FAILED = "FAILED", "Falhou"
    EXPIRED = "EXPIRED", "Arquivo apagado"


class ExportJob(models.Model):
    Kind = ExportKind
    Format = ExportFormat
    Status = ExportStatus

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name="pedida por")
    requested_by_name = models.CharField("pedida por (usuário)", max_length=150)
    kind = models.CharField("o que", max_length=10, choices=ExportKind.choices)
    file_format = models.CharField("formato", max_length=4, choices=ExportFormat.choices)
    filter_query = models.TextField("filtro (parâmetros da lista)", blank=True)
    filter_label = models.CharField("filtro", max_length=500, blank=True)
    status = models.CharField("situação", max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    total_rows = models.PositiveIntegerField("linhas", default=0)
    rows_done = models.PositiveIntegerField("linhas escritas", default=0)
    file_path = models.CharField("arquivo", max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField("tamanho (bytes)", default=0)
    error = models.TextField("motivo da falha", blank=True)
    created_at = models.DateTimeField("pedida em", auto_now_add=True, db_index=True)
    started_at = models.DateTimeField("iniciada em", null=True, blank=True)
    finished_at = models.DateTimeField("concluída em", null=True, blank=True)
    expires_at = models.DateTimeField("arquivo disponível até", null=True, blank=True)

    class Meta:
        verbose_name = "exportação"
        verbose_name_plural = "exportações"
        ordering = ["-created_at", "-id"]
        permissions = [("export", "Pode exportar pedidos, notas fiscais e o faturamento do mês")]
        indexes = [models.Index(fields=["status", "expires_at"], name="exportjob_status_expiry_idx")]

    def __str__(self) -> str:
        when = timezone.localtime(self.created_at) if self.created_at else None
        return f"{self.get_kind_display()} · {self.get_file_format_display()}" + (f" · {when:%d/%m/%Y %H:%M}" if when else "")

    @property
    def progress_percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return int(self.rows_done * 100 / self.total_rows) if self.total_rows else 0

    @property
    def download_name(self) -> str:
        """"pedidos-2026-12-07-1442.xlsx": what and when (America/Sao_Paulo); the month close names its month."""

        base = {"ORDERS": "pedidos", "INVOICES": "notas-fiscais", "MONTH": "faturamento-do-mes"}[self.kind]
        month = parse_qs(self.filter_query).get("mes", [""])[0]
        if self.kind == "MONTH" and re.fullmatch(r"\d{4}-\d{2}", month):
            base += f"-{month}-gerado"
        when = timezone.localtime(self.created_at, SAO_PAULO) if self.created_at else None
        return f"{base}-{when:%Y-%m-%d-%H%M}.{self.file_format}" if when else f"{base}-{self.pk}.{self.file_format}"
