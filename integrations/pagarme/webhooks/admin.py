"""Pagar.me's webhook events and refused posts in the admin (read-only; "Reprocessar" hands back to
billing through ``integrations.webhooks``), next to their model like Omie's (integrations/omie/webhooks/admin.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from common.admin_lists import ReadOnlyAdmin, badge, customer_order
from common.money import brl
from integrations.pagarme.events import InvalidEvent, event_parse
from integrations.pagarme.webhooks.models import REPROCESS_PERMISSION, PagarmeEvent, PagarmeWebhookRefusal
from integrations.webhooks import PAGARME, webhook_events_reprocess, webhook_order_names


def pagarme_amount(payload: object) -> Decimal | None:
    """The charge's amount in reais, read as the webhook reads it (Pagar.me sends cents)."""
    try:
        return event_parse(payload).amount
    except InvalidEvent:
        return None


@admin.register(PagarmeEvent)
class PagarmeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "event_id", "type", "status_col", "order_col", "amount_col", "charge_status", "api_status",
                    "auth_scheme", "occurred_at", "message_col")
    list_filter = ("status", "type", "auth_scheme")
    search_fields = ("=event_id", "=bubble_order_id", "=charge_id")
    actions = ["reprocess"]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """The customers' names of the page's orders, in one query (the order is a plain id here)."""
        changelist = super().get_changelist_instance(request)
        names = webhook_order_names(event.order_id for event in changelist.result_list)
        for event in changelist.result_list:
            event.customer_name = names.get(event.order_id)
        return changelist

    @admin.display(description="situação", ordering="status")
    def status_col(self, obj: PagarmeEvent) -> SafeString:
        colour = {"APPLIED": "green", "STALE": "gray", "UNMATCHED": "orange", "UNKNOWN_TYPE": "outline", "INVALID": "red",
                  "NOT_CONFIRMED": "red", "DUPLICATE": "gray"}
        return badge(obj.status, obj.get_status_display(), colour=colour.get(obj.status, "blue"))

    @admin.display(description="cliente · pedido")
    def order_col(self, obj: PagarmeEvent) -> SafeString:
        if not hasattr(obj, "customer_name"):  # the event's own page
            obj.customer_name = webhook_order_names([obj.order_id]).get(obj.order_id)
        return customer_order(obj.customer_name, obj.order_id, obj.bubble_order_id)

    @admin.display(description="valor")
    def amount_col(self, obj: PagarmeEvent) -> str:
        return brl(pagarme_amount(obj.payload))

    # The event page: what happened, in reais, then the raw JSON folded below.
    fieldsets = (
        (None, {"fields": ("event_id", "type", "status", "order_col", "charge_status", "amount_col", "occurred_at", "received_at",
                           "processed_at", "message")}),
        ("Conteúdo recebido (JSON)", {"classes": ("collapse",), "fields": ("payload_json",)}),
    )
    readonly_fields = ("event_id", "type", "status", "order_col", "charge_status", "amount_col", "occurred_at", "received_at",
                       "processed_at", "message", "payload_json")

    @admin.display(description="conteúdo")
    def payload_json(self, obj: PagarmeEvent) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, ensure_ascii=False, indent=2, sort_keys=True))

    @admin.display(description="mensagem")
    def message_col(self, obj: PagarmeEvent) -> str:
        return Truncator(obj.message).chars(80)

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REPROCESS_PERMISSION)

    @admin.action(description="Reprocessar eventos sem pedido (depois que o pedido chegou)", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[PagarmeEvent]) -> None:
        count = webhook_events_reprocess(PAGARME, queryset, actor=f"admin:{request.user.get_username()}")
        self.message_user(request, f"{count} evento(s) reenviado(s) para processamento.", messages.SUCCESS)


@admin.register(PagarmeWebhookRefusal)
class PagarmeWebhookRefusalAdmin(ReadOnlyAdmin):
    """Why Pagar.me's webhooks were refused (401) or could not be checked (503, JWKS down)."""

    list_display = ("received_at", "http_status", "count", "last_at", "reasons", "kid", "remote_addr", "body_bytes", "message_col")
    list_filter = ("http_status",)
    date_hierarchy = "received_at"
    show_full_result_count = False

    @admin.display(description="mensagem")
    def message_col(self, obj: PagarmeWebhookRefusal) -> str:
        return Truncator(obj.message).chars(100)
