from django.contrib import admin
from django.http import HttpRequest

from integrations.brasilapi.models import CompanyRecord


@admin.register(CompanyRecord)
class CompanyRecordAdmin(admin.ModelAdmin):
    """Read-only view of the CNPJ cache; deleting a row forces a fresh lookup on the next sync."""

    list_display = ("cnpj", "razao_social", "situacao", "fetched_at", "not_found_count", "last_not_found_at")
    search_fields = ("=cnpj",)
    readonly_fields = ("cnpj", "data", "fetched_at", "not_found_count", "last_not_found_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CompanyRecord | None = None) -> bool:
        return False

    @admin.display(description="razão social")
    def razao_social(self, obj: CompanyRecord) -> str:
        return (obj.data or {}).get("razao_social") or "—"

    @admin.display(description="situação cadastral")
    def situacao(self, obj: CompanyRecord) -> str:
        return (obj.data or {}).get("situacao_cadastral") or "—"
