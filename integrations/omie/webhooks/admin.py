"""The Omie webhook events list (read-only; "Reprocessar" hands back to billing through
``integrations.webhooks``), next to their model like Pagar.me's (integrations/pagarme/webhooks/admin.py).
Their card is on the dashboard (backoffice/dashboard.py) and their lines on the order timeline
(backoffice/timeline.py)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from common.admin_lists import ReadOnlyAdmin, badge, order_link
from integrations.omie.webhooks.models import REPROCESS_PERMISSION, OmieWebhookEvent
from integrations.webhooks import OMIE, webhook_events_reprocess

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

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REPROCESS_PERMISSION)

    @admin.action(description="Reprocessar (ex.: depois que o pedido chegou)", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[OmieWebhookEvent]) -> None:
        count = webhook_events_reprocess(OMIE, queryset, actor=f"admin:{request.user.get_username()}")
        self.message_user(request, f"{count} evento(s) reenviado(s) para processamento.", messages.SUCCESS)
