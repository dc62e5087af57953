"""The "Faturamento do mês" page (on the invoice admin: ``/admin/billing/invoice/faturamento-do-mes/``).

Per month in America/Sao_Paulo: NFS-e issued, cancelled and manual, the orders still waiting, each
split by customer kind; links to the invoice and order lists behind each number, and the export
(XLSX: summary, the month's invoices, the orders still waiting; CSV: the summary).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from backoffice.exports import NO_PERMISSION, can_export, export_start
from billing.models import ExportJob
from billing.month_close import Month, month_close, still_scheduled
from common.dates import today_sp
from common.money import brl

SCHEDULED_SHOWN = 50


def _recent_months(today: date, count: int = 24) -> list[Month]:
    months = [Month(today.year, today.month)]
    for _ in range(count - 1):
        months.append(months[-1].previous)
    return months


class MonthCloseMixin:
    def get_urls(self) -> list:
        site = self.admin_site  # type: ignore[attr-defined]
        return [
            path("faturamento-do-mes/", site.admin_view(self.month_close_view), name="billing_month_close"),
            path("faturamento-do-mes/exportar/", site.admin_view(self.month_close_export_view), name="billing_month_close_export"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def month_close_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        month = Month.parse(request.GET.get("mes", ""), default=today_sp())
        groups = month_close(month)
        scheduled = list(still_scheduled(month)[:SCHEDULED_SHOWN])
        rows = [
            {
                "group": group,
                "kinds": [(kind, total.count, brl(total.amount)) for kind, total in group.by_kind.items()],
                "count": group.total.count,
                "amount": brl(group.total.amount),
            }
            for group in groups
        ]
        export_base = reverse("admin:billing_month_close_export")
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.opts,  # type: ignore[attr-defined]
            "title": f"Faturamento do mês — {month.label}",
            "month": month,
            "rows": rows,
            "kinds": [kind for kind, _count, _amount in rows[0]["kinds"]] if rows else [],
            "scheduled": [(order, brl(order.amount)) for order in scheduled],
            "scheduled_more": groups[-1].total.count - len(scheduled),
            "export_allowed": can_export(request.user),
            "export_refused_reason": NO_PERMISSION,
            "export_label": "Exportar o mês:",
            "month_choices": _recent_months(today_sp()),
            "export_links": [("Excel", f"{export_base}?mes={month.key}&formato=xlsx"),
                             ("CSV (resumo)", f"{export_base}?mes={month.key}&formato=csv")],
            "invoices_url": reverse("admin:billing_invoice_changelist"),
            "orders_url": reverse("admin:orders_order_changelist"),
        }
        return TemplateResponse(request, "admin/billing/month_close.html", context)

    def month_close_export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        if not can_export(request.user):
            raise PermissionDenied(NO_PERMISSION)
        month = Month.parse(request.GET.get("mes", ""), default=today_sp())
        groups = month_close(month)
        count = sum(g.total.count for g in groups if g.key != "canceladas")
        return export_start(request, kind=ExportJob.Kind.MONTH, query=f"mes={month.key}", label=f"mês: {month.label}", count=count)

