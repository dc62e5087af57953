"""Billing in the admin (docs/backoffice.md): invoices, the day-25 runs, the current accounts and reconciliation
drifts (the Pagar.me events are listed next to their model, integrations/pagarme/webhooks/admin.py).
Everything here is read-only: state changes go through the services (the ops actions), never through a model form.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from backoffice.badges import badge
from backoffice.exports import ExportListMixin
from backoffice.month_close import MonthCloseMixin
from backoffice.paginator import EstimatedCountPaginator
from billing.models import (
    AccountEntry,
    BillingRun,
    CustomerAccount,
    Invoice,
    ReconciliationDrift,
    ReconciliationRun,
)
from billing.services.admin_ops import RESOLVE_DRIFT, drifts_resolve
from common.admin_lists import ReadOnlyAdmin, customer_order, order_link
from common.money import brl
from orders.models import Order


def customer_name_of(field: str) -> Subquery:
    """The customer's name, from the newest order of the customer id in ``field`` (one subquery per page)."""
    return Subquery(Order.objects.filter(customer_bubble_id=OuterRef(field)).exclude(customer_name="")
                    .order_by("-created_at").values("customer_name")[:1])


@admin.register(Invoice)
class InvoiceAdmin(MonthCloseMixin, ExportListMixin, ReadOnlyAdmin):
    export_kind = "INVOICES"
    list_display = ("id", "order_col", "status_col", "nfse_number", "next_step", "next_poll_at", "poll_count", "faturar_attempts",
                    "issued_at", "message_col")
    list_filter = ("status", "next_step", "failure_stage")
    # Exact NF number (its index): "contains" would scan every invoice on each search.
    search_fields = ("=order__bubble_id", "=nfse_number", "=order__omie_os_number")
    paginator = EstimatedCountPaginator
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="cliente · pedido")
    def order_col(self, obj: Invoice) -> SafeString:
        return customer_order(obj.order.customer_name, obj.order_id, obj.order.bubble_id)

    @admin.display(description="situação", ordering="status")
    def status_col(self, obj: Invoice) -> SafeString:
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="mensagem")
    def message_col(self, obj: Invoice) -> str:
        return Truncator(obj.cancel_error or obj.city_hall_message or obj.last_step_error).chars(80)


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = ("billing_date", "firings", "claimed", "first_fired_at", "last_fired_at", "finished_at")


class AccountEntryInline(admin.TabularInline):
    model = AccountEntry
    fields = ("created_at", "kind", "amount_col", "balance_after_col", "order", "actor", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="valor")
    def amount_col(self, obj: AccountEntry) -> str:
        return brl(obj.amount)

    @admin.display(description="saldo depois")
    def balance_after_col(self, obj: AccountEntry) -> str:
        return brl(obj.balance_after)


@admin.register(CustomerAccount)
class CustomerAccountAdmin(ReadOnlyAdmin):
    list_display = ("customer_col", "balance_col", "updated_at")
    search_fields = ("=customer_bubble_id",)
    search_help_text = "ID do cliente no Bubble (exato)."
    fields = ("customer_bubble_id", "customer_name", "balance_col", "updated_at")
    readonly_fields = fields
    inlines = [AccountEntryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerAccount]:
        return super().get_queryset(request).annotate(name=customer_name_of("customer_bubble_id"))

    @admin.display(description="cliente", ordering="name")
    def customer_col(self, obj: CustomerAccount) -> SafeString:
        return format_html('<strong>{}</strong><br><span class="bubble-id">{}</span>', obj.name or "—", obj.customer_bubble_id)

    @admin.display(description="nome do cliente")
    def customer_name(self, obj: CustomerAccount) -> str:
        return obj.name or "—"

    @admin.display(description="saldo", ordering="balance")
    def balance_col(self, obj: CustomerAccount) -> str:
        return brl(obj.balance)


@admin.register(AccountEntry)
class AccountEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "customer_col", "kind", "amount_col", "balance_after_col", "order_col", "actor")
    list_filter = ("kind",)
    search_fields = ("=account__customer_bubble_id", "=order__bubble_id", "actor")
    list_select_related = ("account", "order")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountEntry]:
        return super().get_queryset(request).annotate(name=customer_name_of("account__customer_bubble_id"))

    @admin.display(description="cliente")
    def customer_col(self, obj: AccountEntry) -> SafeString:
        return format_html('<strong>{}</strong><br><span class="bubble-id">{}</span>', obj.name or "—", obj.account.customer_bubble_id)

    @admin.display(description="pedido")
    def order_col(self, obj: AccountEntry) -> SafeString:
        return order_link(obj.order_id, obj.order.bubble_id if obj.order else "")

    amount_col = AccountEntryInline.amount_col
    balance_after_col = AccountEntryInline.balance_after_col


class DriftInline(admin.TabularInline):
    model = ReconciliationDrift
    fields = ("kind", "order", "c_cod_int_os", "local_state", "omie_state", "message", "resolved_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "date_from", "date_to", "status", "os_checked", "nfse_checked", "drifts_found", "finished_at")
    inlines = [DriftInline]


@admin.register(ReconciliationDrift)
class ReconciliationDriftAdmin(ReadOnlyAdmin):
    list_display = ("detected_at", "kind", "order_col", "c_cod_int_os", "local_state", "omie_state", "message", "resolved_at")
    list_filter = ("kind", "source", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("=c_cod_int_os", "=order__bubble_id")
    list_select_related = ("order",)
    actions = ["resolve"]

    @admin.display(description="pedido")
    def order_col(self, obj: ReconciliationDrift) -> SafeString:
        return order_link(obj.order_id, obj.c_cod_int_os)

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESOLVE_DRIFT)

    @admin.action(description="Marcar como resolvida", permissions=["resolve"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[ReconciliationDrift]) -> None:
        count = drifts_resolve(drifts=queryset, actor=f"admin:{request.user.get_username()}")
        self.message_user(request, f"{count} divergência(s) marcada(s) como resolvida(s).", messages.SUCCESS)
