"""What every read-only admin list shares, whichever app registers it (backoffice, or an
integration next to its model): no add/change/delete, a status badge, a link to the order."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def badge(value: str, label: str, *, colour: str) -> SafeString:
    """A coloured status label (the palette's classes are in the admin's stylesheet)."""
    if not value:
        return mark_safe('<span class="muted">—</span>')
    return format_html('<span class="badge badge-{}">{}</span>', colour, label)


def order_link(order_id: int | None, label: str) -> SafeString:
    if not order_id:
        return format_html("{}", label or "—")
    return format_html('<a href="../../orders/order/{}/change/">{}</a>', order_id, label)


def customer_order(name: str | None, order_id: int | None, bubble_id: str) -> SafeString:
    """The list cell ops look for: the customer's name, and the order (linked) with its Bubble id."""
    return format_html('<strong>{}</strong><br><span class="bubble-id">{}</span>', name or "—", order_link(order_id, bubble_id))
