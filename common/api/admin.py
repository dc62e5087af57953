"""The API's records in the admin: service tokens (revocable) and Idempotency-Keys (read-only)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from common.api.models import IdempotencyRecord, ServiceToken
from common.api.tokens import service_token_revoke


@admin.register(ServiceToken)
class ServiceTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "label", "created_at", "expires_at", "revoked_at", "revoked_by")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "label", "jti")
    readonly_fields = ("jti", "user", "label", "created_at", "expires_at", "revoked_at", "revoked_by")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued with `manage.py issue_service_token`, which prints them once

    def has_delete_permission(self, request: HttpRequest, obj: ServiceToken | None = None) -> bool:
        return False  # revoked rows are the audit trail of who could call the API

    @admin.action(description="Revogar tokens selecionados", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ServiceToken]) -> None:
        done = sum(service_token_revoke(token=t, by=request.user.get_username()) for t in queryset)
        self.message_user(
            request,
            ngettext("%d token revogado.", "%d tokens revogados.", done) % done,
            messages.SUCCESS,
        )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Idempotency-Key records (docs/contract.md#http-api): read-only; the hourly prune deletes them after 24 h."""

    list_display = ("created_at", "caller", "key", "method", "path", "status", "response_status")
    list_filter = ("status", "method")
    search_fields = ("=key", "=caller", "path")
    show_full_result_count = False
    readonly_fields = (
        "caller", "key", "fingerprint", "method", "path", "status", "locked_until", "response_status", "response_body",
        "created_at", "completed_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IdempotencyRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: IdempotencyRecord | None = None) -> bool:
        return False  # the hourly prune removes them after 24 h; by hand, a key could be replayed as new
