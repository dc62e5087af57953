from django.contrib import admin
from django.http import HttpRequest

from integrations.omie.models import OmieCall, OmieCustomerLink
from integrations.omie.webhooks import admin as webhooks_admin  # noqa: F401  (registers the webhook events' admin)


@admin.register(OmieCall)
class OmieCallAdmin(admin.ModelAdmin):
    """Read-only: the call log is evidence of what was sent to Omie."""

    list_display = ("created_at", "call", "integration_key", "order_id", "outcome", "http_status", "fault_code", "duration_ms")
    list_filter = ("outcome", "call", "http_status", "created_at")
    search_fields = ("integration_key", "=order_id", "request_id", "fault_code", "fault_message")
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False  # the table is large; counting it on every page is wasteful

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OmieCall | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OmieCall | None = None) -> bool:
        return False


@admin.register(OmieCustomerLink)
class OmieCustomerLinkAdmin(admin.ModelAdmin):
    """Read-only but deletable: deleting a stale link makes the next order ask Omie again."""

    list_display = ("codigo_cliente_omie", "codigo_cliente_integracao", "how", "updated_at")
    list_filter = ("how",)
    search_fields = ("=document", "=codigo_cliente_omie", "codigo_cliente_integracao")
    readonly_fields = ("document", "codigo_cliente_omie", "codigo_cliente_integracao", "how", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OmieCustomerLink | None = None) -> bool:
        return False
