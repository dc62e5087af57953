import json
from decimal import Decimal

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import ngettext

from common.exceptions import InvalidState
from integrations.bubble.models import BubbleWriteback
from integrations.bubble.services import writeback_resend


@admin.register(BubbleWriteback)
class BubbleWritebackAdmin(admin.ModelAdmin):
    """Read-only: rows are written by the services only; ops may re-send DEAD ones (SPEC §5.5, §12)."""

    list_display = ("id", "thing", "bubble_id", "status", "attempts", "created_at", "next_attempt_at", "delivered_at",
                    "short_error", "order_id")
    list_filter = ("status", "thing")
    search_fields = ("=bubble_id",)
    search_help_text = "Id do Bubble (exato)."
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = ["resend"]
    fields = ("thing", "bubble_id", "order_id", "status", "pretty_fields", "attempts", "created_at", "updated_at",
              "next_attempt_at", "give_up_at", "delivered_at", "last_status_code", "last_error", "locked_until")
    readonly_fields = fields

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
