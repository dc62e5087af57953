"""The admin's "Exportar" (order list, invoice list) and the export jobs' pages.

The file is what the list shows: the current filter, search and date drill-down, rebuilt from the
list's own query string by the list itself (``ModelAdmin.get_changelist_instance``), so an export
never disagrees with the screen. Up to ``EXPORT_ASYNC_THRESHOLD`` rows the file is written during
the request and sent at once; above it a Celery task writes it and the job's page shows the
progress and, when done, the download link. Only the user who asked (or a superuser) downloads it.
Needs ``billing.export`` (the Financeiro group).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR, IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backoffice.badges import badge
from backoffice.tasks import export_run
from billing import permissions as perms
from billing.models import ExportJob, Invoice
from billing.month_close import Month, month_close, month_invoices, still_scheduled
from billing.services.exports import (
    INVOICE_COLUMNS,
    ORDER_COLUMNS,
    Column,
    Sheet,
    export_file,
    export_job_write,
    invoices_for_export,
    orders_for_export,
    rows_of,
)
from orders.models import Order

FORMAT_VAR = "formato"
BAD_FILTER = ("Filtro inválido para exportar: um parâmetro do endereço não existe nesta lista ou tem um valor que não serve "
              "(por exemplo, uma data mal escrita). Abra a lista, escolha o filtro de novo e exporte.")
NO_PERMISSION = "Exportar é do grupo Financeiro (permissão \"exportar pedidos e notas fiscais\"). Peça a um administrador."
# The list's parameters that are not part of the filter.
NOT_FILTER = {FORMAT_VAR, PAGE_VAR, IS_POPUP_VAR, TO_FIELD_VAR, "_changelist_filters"}

SUMMARY_COLUMNS = [
    Column("Grupo", "group", width=28),
    Column("Tipo de cliente", "kind", width=16),
    Column("Quantidade", "count", "int", width=12),
    Column("Valor (R$)", "amount", "money", width=16),
]


def thousands(number: int) -> str:
    """100000 → "100.000"."""
    return f"{number:,}".replace(",", ".")


def can_export(user: AbstractBaseUser) -> bool:
    return user.has_perm(perms.EXPORT)


def filter_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    for name in NOT_FILTER:
        query.pop(name, None)
    return query.urlencode()


def _fake_list_request(user: AbstractBaseUser, query: str) -> HttpRequest:
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(query)
    request.user = user  # type: ignore[assignment]
    request.META["SERVER_NAME"] = "export"
    return request


def changelist_for(model_admin: admin.ModelAdmin, user: AbstractBaseUser, query: str) -> Any:
    """The admin list as the user saw it; its ``.queryset`` is every row of the filter, search, date drill-down, in its order."""
    request = _fake_list_request(user, query)
    return model_admin.get_changelist_instance(request)


def filter_description(changelist: Any) -> str:
    """"Status do faturamento: NF emitida · busca: "Maria"" — the filter in words, for the job list."""
    parts = []
    for spec in changelist.filter_specs:
        if not getattr(spec, "used_parameters", None):
            continue
        chosen = [str(c["display"]) for c in spec.choices(changelist) if c.get("selected")]
        if chosen:
            parts.append(f"{spec.title}: {', '.join(chosen)}")
    if changelist.query:
        parts.append(f"busca: \"{changelist.query}\"")
    return " · ".join(parts) or "sem filtro (todos)"


def _list_admin(kind: str) -> admin.ModelAdmin:

    model = Order if kind == ExportJob.Kind.ORDERS else Invoice
    return admin.site._registry[model]


def job_sheets(job: ExportJob, user: AbstractBaseUser) -> tuple[list[Sheet], int]:
    """The sheets of a job's file and their total row count (rebuilt from the job alone: the task calls this too)."""
    if job.kind == ExportJob.Kind.MONTH:
        month = Month.parse(QueryDict(job.filter_query).get("mes", ""), default=job.created_at.date())
        groups = month_close(month)
        summary = []
        for group in groups:
            for kind, total in group.by_kind.items():
                summary.append((group.label, kind, total.count, total.amount))
            summary.append((group.label, "Total", group.total.count, group.total.amount))
        invoices = invoices_for_export(month_invoices(month))  # with the documents' links
        scheduled = orders_for_export(still_scheduled(month))
        total = len(summary) + invoices.count() + scheduled.count()
        sheets = [
            Sheet("Resumo", SUMMARY_COLUMNS, summary),
            Sheet("Notas do mês", INVOICE_COLUMNS, rows_of(invoices, INVOICE_COLUMNS)),
            Sheet("Ainda agendados", ORDER_COLUMNS, rows_of(scheduled, ORDER_COLUMNS)),
        ]
        return sheets, (len(summary) if job.file_format == ExportJob.Format.CSV else total)
    queryset = changelist_for(_list_admin(job.kind), user, job.filter_query).queryset
    if job.kind == ExportJob.Kind.ORDERS:
        queryset, columns, title = orders_for_export(queryset), ORDER_COLUMNS, "Pedidos"
    else:
        queryset, columns, title = invoices_for_export(queryset.select_related(None)), INVOICE_COLUMNS, "Notas fiscais"
    return [Sheet(title, columns, rows_of(queryset, columns))], queryset.count()


def export_job_run(job: ExportJob) -> ExportJob:
    """Writes the job's file now (the request for small exports, the task for big ones)."""
    user = job.requested_by
    if user is None or not can_export(user):
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error=NO_PERMISSION)
        raise PermissionDenied(NO_PERMISSION)
    sheets, total = job_sheets(job, user)
    return export_job_write(job, sheets, total)


def download_response(job: ExportJob) -> FileResponse:
    path = export_file(job)
    if path is None:
        raise Http404("O arquivo desta exportação não existe mais (apagado depois do prazo). Peça de novo.")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.download_name)


def export_start(request: HttpRequest, *, kind: str, query: str, label: str, count: int) -> HttpResponse:
    """Creates the job; small: writes and sends the file now; big: queues the task and shows the job's page."""
    if not can_export(request.user):
        raise PermissionDenied(NO_PERMISSION)
    file_format = request.GET.get(FORMAT_VAR, "xlsx")
    if file_format not in ExportJob.Format.values:
        file_format = ExportJob.Format.XLSX
    job = ExportJob.objects.create(
        requested_by=request.user, requested_by_name=request.user.get_username(), kind=kind, file_format=file_format,
        filter_query=query, filter_label=label[:500], total_rows=count,
    )
    if count <= settings.EXPORT_ASYNC_THRESHOLD:
        return download_response(export_job_run(job))

    transaction.on_commit(lambda: export_run.delay(job.pk))
    messages.info(request, f"Exportação de {thousands(count)} linhas na fila. Esta página mostra o andamento; o link para baixar "
                           "aparece aqui quando terminar (o arquivo fica disponível por "
                           f"{settings.EXPORT_TTL_HOURS} horas).")
    return redirect(reverse("admin:billing_exportjob_change", args=[job.pk]))


class ExportListMixin:
    """For OrderAdmin and InvoiceAdmin: ``exportar/?formato=csv|xlsx&<the list's filter>``."""

    export_kind: str = ""

    def get_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.export_view)  # type: ignore[attr-defined]
        return [path("exportar/", view, name="{}_{}_export".format(*info)), *super().get_urls()]  # type: ignore[misc]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        if not can_export(request.user):
            raise PermissionDenied(NO_PERMISSION)
        query = filter_query(request)
        try:
            changelist = changelist_for(self, request.user, query)  # type: ignore[arg-type]
            count = changelist.queryset.count()
        except (IncorrectLookupParameters, ValidationError):
            # The list itself redirects with ?e=1; a file cannot: a hand-edited or stale link (?foo=bar,
            # ?created_at__gte=notadate) is refused with a reason instead of a 500.
            return HttpResponseBadRequest(BAD_FILTER, content_type="text/plain; charset=utf-8")
        return export_start(request, kind=self.export_kind, query=query, label=filter_description(changelist), count=count)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        query = filter_query(request)
        info = self.opts.app_label, self.opts.model_name  # type: ignore[attr-defined]
        base = reverse("admin:{}_{}_export".format(*info))
        context = {
            "export_allowed": can_export(request.user),
            "export_refused_reason": NO_PERMISSION,
            "export_links": [(label, f"{base}?{_with_format(query, fmt)}") for fmt, label in (("xlsx", "Excel"), ("csv", "CSV"))],
            "export_label": "Exportar o filtro atual:",
            "export_threshold": settings.EXPORT_ASYNC_THRESHOLD,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)  # type: ignore[misc]


def _with_format(query: str, file_format: str) -> str:
    params = QueryDict(query, mutable=True)
    params[FORMAT_VAR] = file_format
    return params.urlencode()


class ExportJobAdmin(admin.ModelAdmin):
    """Exportações: each user sees their own (a superuser sees all); the file downloads from here."""

    change_form_template = "admin/billing/exportjob/change_form.html"
    list_display = ("created_at", "kind", "file_format", "filter_label", "status_col", "progress_col", "download_col", "requested_by_name")
    list_filter = ("kind", "status")
    fields = ("kind", "file_format", "filter_label", "requested_by_name", "created_at", "started_at", "finished_at", "progress_col",
              "size_col", "expires_at", "error")
    readonly_fields = fields

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.download_view)
        return [path("<int:job_id>/baixar/", view, name="billing_exportjob_download"), *super().get_urls()]

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(requested_by=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def download_view(self, request: HttpRequest, job_id: int) -> FileResponse:
        job = self.get_queryset(request).filter(pk=job_id).first()
        if job is None:
            raise Http404("Exportação não encontrada (só quem pediu pode baixar).")
        if job.status != ExportJob.Status.DONE:
            raise Http404(f"Esta exportação está \"{job.get_status_display()}\": não há arquivo para baixar.")
        return download_response(job)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        job = self.get_queryset(request).filter(pk=object_id).first()
        context = {"job": job, "title": str(job) if job else "Exportação", "progress_text": self.progress_col(job) if job else "",
                   **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description="situação", ordering="status")
    def status_col(self, obj: ExportJob) -> SafeString:
        colour = {"PENDING": "gray", "RUNNING": "blue", "DONE": "green", "FAILED": "red", "EXPIRED": "outline"}
        return badge(obj.status, obj.get_status_display(), colour=colour.get(obj.status, "blue"))

    @admin.display(description="andamento")
    def progress_col(self, obj: ExportJob) -> str:
        return f"{obj.progress_percent}% ({thousands(obj.rows_done)} de {thousands(obj.total_rows)} linhas)"

    @admin.display(description="tamanho do arquivo")
    def size_col(self, obj: ExportJob) -> str:
        if not obj.file_size:
            return "—"
        if obj.file_size < 1_000_000:
            return f"{obj.file_size / 1000:.1f} kB".replace(".", ",")
        return f"{obj.file_size / 1_000_000:.1f} MB".replace(".", ",")

    @admin.display(description="arquivo")
    def download_col(self, obj: ExportJob) -> SafeString:
        if obj.status != ExportJob.Status.DONE:
            return format_html('<span class="muted">—</span>')
        return format_html('<a href="{}">Baixar</a>', reverse("admin:billing_exportjob_download", args=[obj.pk]))
