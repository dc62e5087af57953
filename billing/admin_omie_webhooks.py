"""Omie webhooks in the backoffice: the events list (read-only, reprocess), their lines on the order
timeline, and the dashboard card "webhooks do Omie" with the drifts they found.

Kept apart from the other admin modules: it plugs into the dashboard's ``EXTRA_PANELS`` and the
timeline's ``SOURCES`` instead of editing them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from billing.admin import ReadOnlyAdmin, order_link
from common.admin_badges import badge
from integrations.omie.webhooks.models import OmieWebhookEvent

STATUS_COLOURS = {"APPLIED": "green", "NO_CHANGE": "gray", "DRIFT": "red", "UNMATCHED": "outline", "IGNORED_TOPIC": "outline",
                  "INVALID": "orange", "RECEIVED": "blue"}


@admin.register(OmieWebhookEvent)
class OmieWebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "topic", "status_col", "order_col", "omie_os_code", "nfse_number", "payload_format", "deliveries",
                    "message_col")
    list_filter = ("status", "topic", "payload_format")
    search_fields = ("=message_id", "=c_cod_int_os", "=omie_os_code", "=nfse_number", "=order_id")
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in OmieWebhookEvent._meta.fields]
    actions = ["reprocess"]
    list_per_page = 100

    @admin.display(description="situação", ordering="status")
    def status_col(self, obj: OmieWebhookEvent) -> SafeString:
        return badge(obj.status, obj.get_status_display(), colour=STATUS_COLOURS.get(obj.status, "blue"))

    @admin.display(description="pedido")
    def order_col(self, obj: OmieWebhookEvent) -> SafeString:
        return order_link(obj.order_id, obj.c_cod_int_os or (str(obj.order_id) if obj.order_id else ""))

    @admin.display(description="resultado")
    def message_col(self, obj: OmieWebhookEvent) -> str:
        return Truncator(obj.message).chars(90)

    @admin.action(description="Reprocessar (ex.: depois que o pedido chegou)", permissions=["view"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[OmieWebhookEvent]) -> None:
        from billing.services.omie_webhooks import omie_webhook_events_reprocess

        count = omie_webhook_events_reprocess(event_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} evento(s) reenviado(s) para processamento.", messages.SUCCESS)


def omie_webhooks_panel() -> dict[str, Any]:
    """Dashboard card: when the last Omie webhook arrived, and the open drifts the webhooks found."""
    from billing.models import ReconciliationDrift
    from integrations.omie.webhooks.services import omie_webhook_last_received_at

    last = omie_webhook_last_received_at()
    if not settings.OMIE_WEBHOOKS:
        line = "webhooks do Omie: desligados (OMIE_WEBHOOKS)"
    elif last is None:
        line = "webhooks do Omie: nenhum evento recebido ainda"
    else:
        line = f"webhooks do Omie: último evento há {int((timezone.now() - last).total_seconds())} s"
    drifts = ReconciliationDrift.objects.filter(resolved_at__isnull=True)
    count = drifts.count()
    recent = list(drifts.select_related("order").order_by("-detected_at")[:5])
    rows = [[d.get_kind_display(), d.order.customer_name or d.order.bubble_id if d.order else d.c_cod_int_os,
             f"{timezone.localtime(d.detected_at):%d/%m %H:%M:%S}"] for d in recent]
    quiet = settings.OMIE_WEBHOOKS and (last is None or (timezone.now() - last).total_seconds() > settings.OMIE_WEBHOOK_HEALTHY_SECONDS)
    return {
        "title": "Omie: webhooks e divergências",
        "alert": bool(count),
        "big": count,
        "text": f"divergências abertas com o Omie · {line}" + (" (sem eventos recentes: a consulta periódica segue valendo)"
                                                              if quiet else ""),
        "head": ["Divergência", "Pedido", "Detectada"] if rows else [],
        "rows": rows,
        "link": "billing/reconciliationdrift/?resolved_at__isempty=1",
        "link_text": "Ver as divergências",
    }


def omie_webhook_timeline(order: Any) -> list[Any]:
    """The order's Omie webhook events and the drifts recorded for it, as timeline entries."""
    from billing.models import ReconciliationDrift
    from orders.timeline import MAX_PER_SOURCE, TimelineEntry

    outcome = {"APPLIED": "ok", "DRIFT": "error", "INVALID": "error", "RECEIVED": "waiting"}
    entries = [
        TimelineEntry(when=e.received_at, source="Omie", title=f"Webhook {e.topic} — {e.get_status_display()}",
                      outcome=outcome.get(e.status, ""), detail=e.message,
                      meta=" · ".join(filter(None, [e.message_id, f"formato {e.payload_format}" if e.payload_format else "",
                                                    f"{e.deliveries} entregas" if e.deliveries > 1 else ""])))
        for e in OmieWebhookEvent.objects.filter(order_id=order.pk).order_by("-received_at", "-id")[:MAX_PER_SOURCE]
    ]
    entries += [
        TimelineEntry(when=d.detected_at, source="Omie", title=f"Divergência: {d.get_kind_display()}",
                      outcome="ok" if d.resolved_at else "error", detail=d.message,
                      meta=f"{d.get_source_display()}" + (f" · resolvida por {d.resolved_by}" if d.resolved_at else ""))
        for d in ReconciliationDrift.objects.filter(order_id=order.pk).order_by("-detected_at")[:MAX_PER_SOURCE]
    ]
    return entries


def _plug_in() -> None:
    from common.dashboard import EXTRA_PANELS
    from orders.timeline import SOURCES

    if omie_webhooks_panel not in EXTRA_PANELS:
        EXTRA_PANELS.append(omie_webhooks_panel)
    if omie_webhook_timeline not in SOURCES:
        SOURCES.append(omie_webhook_timeline)


_plug_in()
