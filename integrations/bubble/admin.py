import json
from decimal import Decimal

from django.apps import apps
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import ngettext

from common.exceptions import InvalidState
from integrations.bubble.models import BubbleWriteback
from integrations.bubble.services import writeback_resend


@admin.register(BubbleWriteback)
class BubbleWritebackAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the services only; ops may re-send DEAD ones (SPEC §5.5, §12)."""

    list_display = ("id", "thing", "customer_col", "status", "attempts", "created_at", "next_attempt_at", "delivered_at",
                    "short_error")
    list_filter = ("status", "thing")
    search_fields = ("=bubble_id",)
    search_help_text = "Id do Bubble (exato)."
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = ["resend"]
    fields = ("thing", "bubble_id", "order_id", "status", "pretty_fields", "attempts", "created_at", "updated_at",
              "next_attempt_at", "give_up_at", "delivered_at", "last_status_code", "last_error", "locked_until")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[BubbleWriteback]:
        # The customer's name and the order's Bubble id from the orders table, by reference (this app
        # imports no domain app): one subquery each for the page.
        order_model = apps.get_model("orders", "Order")
        by_pk = order_model.objects.filter(pk=OuterRef("order_id"))
        by_customer = order_model.objects.filter(customer_bubble_id=OuterRef("bubble_id")).exclude(customer_name="").order_by("-created_at")
        return super().get_queryset(request).annotate(
            order_bubble_id=Subquery(by_pk.values("bubble_id")[:1]),
            customer_name=Coalesce(Subquery(by_pk.values("customer_name")[:1]), Subquery(by_customer.values("customer_name")[:1])),
        )

    @admin.display(description="cliente · pedido")
    def customer_col(self, obj: BubbleWriteback) -> str:
        name = getattr(obj, "customer_name", "") or "—"
        order = getattr(obj, "order_bubble_id", None)
        if order and obj.order_id:
            link = format_html('<a href="../../orders/order/{}/change/">{}</a>', obj.order_id, order)
        else:
            link = format_html("{} {}", obj.get_thing_display().lower(), obj.bubble_id)
        return format_html('<strong>{}</strong><br><span class="bubble-id">{}</span>', name, link)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from writeback_enqueue, in the transaction of the change they report

    def has_change_permission(self, request: HttpRequest, obj: BubbleWriteback | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BubbleWriteback | None = None) -> bool:
        return False  # the outbox is the record of what Bubble was told

    def has_resend_permission(self, request: HttpRequest) -> bool:
        # SPEC §5.3: "retry … dead writebacks" is the ops retry permission.
        return request.user.has_perm("bubble.resend_bubblewriteback") or request.user.has_perm("orders.retry_order")

    @admin.display(description="campos")
    def pretty_fields(self, obj: BubbleWriteback) -> str:
        lines = [
            f"{key}: {format(value, 'f') if isinstance(value, Decimal) else json.dumps(value, ensure_ascii=False)}"
            for key, value in sorted(obj.fields.items())
        ]
        return format_html("<pre>{}</pre>", "\n".join(lines))

    @admin.display(description="último erro")
    def short_error(self, obj: BubbleWriteback) -> str:
        return obj.last_error if len(obj.last_error) <= 80 else obj.last_error[:79] + "…"

    @admin.action(description="Reenviar escritas com falha definitiva", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[BubbleWriteback]) -> None:
        done = skipped = 0
        for row in queryset.order_by("id"):
            try:
                writeback_resend(writeback=row)
            except InvalidState:
                skipped += 1
            else:
                done += 1
        if done:
            self.message_user(
                request, ngettext("%d escrita reenviada.", "%d escritas reenviadas.", done) % done, messages.SUCCESS
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d escrita ignorada: só as com falha definitiva podem ser reenviadas.",
                    "%d escritas ignoradas: só as com falha definitiva podem ser reenviadas.",
                    skipped,
                ) % skipped,
                messages.WARNING,
            )
