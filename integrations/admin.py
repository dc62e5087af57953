from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from integrations.models import ServiceToken
from integrations.services import service_token_revoke


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
