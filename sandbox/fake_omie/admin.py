from django.contrib import admin
from django.http import HttpRequest

from sandbox.fake_omie.models import FakeCustomer, FakeNfse, FakeOmieCall, FakeOmieConfig, FakeOmieWebhook, FakeServiceOrder


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FakeOmieCall)
class FakeOmieCallAdmin(_ReadOnly):
    list_display = ("received_at", "call", "endpoint", "ident", "http_status", "fault_code", "finished_at")
    list_filter = ("call", "http_status")
    search_fields = ("ident", "fault_string")


@admin.register(FakeCustomer)
class FakeCustomerAdmin(_ReadOnly):
    list_display = ("codigo_cliente_integracao", "razao_social", "email", "created_at")
    search_fields = ("codigo_cliente_integracao", "razao_social")


@admin.register(FakeServiceOrder)
class FakeServiceOrderAdmin(_ReadOnly):
    list_display = ("c_cod_int_os", "customer", "amount", "etapa", "faturada", "cancelada", "created_at")
    list_filter = ("faturada", "cancelada")
    search_fields = ("c_cod_int_os",)


@admin.register(FakeNfse)
class FakeNfseAdmin(_ReadOnly):
    list_display = ("service_order", "status", "number", "ready_at", "issued_at", "attempts")
    list_filter = ("status",)
    actions = ["cancel_directly"]

    @admin.action(description="Cancelar direto no Omie (envia NFSe.NotaCancelada; vira divergência aqui)")
    def cancel_directly(self, request: HttpRequest, queryset) -> None:
        from sandbox.fake_omie.services import fake_omie_cancel_nfse_directly

        for nfse in queryset.select_related("service_order"):
            fake_omie_cancel_nfse_directly(c_cod_int_os=nfse.service_order.c_cod_int_os)
        self.message_user(request, "NFS-e cancelada(s) no Omie falso; o webhook sai em instantes.")


@admin.register(FakeOmieWebhook)
class FakeOmieWebhookAdmin(_ReadOnly):
    list_display = ("id", "topic", "message_id", "state", "attempts", "dead_letter", "last_status", "next_try_at", "delivered_at")
    list_filter = ("state", "topic", "dead_letter")
    search_fields = ("message_id",)


@admin.register(FakeOmieConfig)
class FakeOmieConfigAdmin(admin.ModelAdmin):
    """The one settings row: editable, so a demo can slow the fake down or make it reject."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
