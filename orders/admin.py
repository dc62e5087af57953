from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from common.admin_badges import badge
from orders.models import ActionLog, IdempotencyRecord, Order
from orders.timeline import order_timeline


class BackofficeMedia:
    css = {"all": ["backoffice/backoffice.css"]}


class HoldFilter(admin.SimpleListFilter):
    title = "retenção"
    parameter_name = "retido"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("sim", "Retidos (qualquer motivo)"), *Order.HoldReason.choices, ("aprovado", "Retenção aprovada")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        value = self.value()
        if value == "sim":
            return queryset.exclude(hold_reason="")
        if value == "aprovado":
            return queryset.filter(hold_approved_at__isnull=False)
        if value in Order.HoldReason.values:
            return queryset.filter(hold_reason=value)
        return queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    Media = BackofficeMedia
    change_form_template = "admin/orders/order/change_form.html"
    list_display = (
        "bubble_id",
        "customer",
        "amount_display",
        "sync_badge",
        "billing_badge",
        "schedule",
        "payment_badge",
        "omie_os_number",
        "error_short",
        "created_at",
    )
    list_display_links = ("bubble_id",)
    list_filter = (
        "sync_status",
        "billing_status",
        "customer_kind",
        "payment_status",
        HoldFilter,
        "billing_trigger",
        ("billing_scheduled_for", admin.DateFieldListFilter),
    )
    search_fields = ("=bubble_id", "=document", "customer_name", "=omie_os_number", "=customer_bubble_id")
    search_help_text = "ID do Bubble, CPF/CNPJ (só números e letras), nome do cliente ou número da OS."
    list_per_page = 50
    show_full_result_count = False  # one COUNT(*) per page, not two, on 100k+ orders
    date_hierarchy = None
    ordering = ("-created_at",)

    fieldsets = (
        ("Pedido", {"fields": ("bubble_id", "sync_status", "billing_status", "last_error", "created_at", "updated_at", "synced_at")}),
        (
            "Cliente",
            {"fields": ("customer_bubble_id", "customer_name", "customer_kind", "document", "customer_email", "cnpj_status",
                        "requires_approval")},
        ),
        ("Serviço e valor", {"fields": ("amount", "service_description", "lc116_code")}),
        (
            "Faturamento",
            {"fields": ("billing_trigger", "billing_scheduled_for", "override_day25", "hold_reason", "hold_approved_by",
                        "hold_approved_at")},
        ),
        (
            "Pagamento",
            {"fields": ("payment_method", "payment_status", "paid_via", "paid_at", "amount_paid", "payment_state_at", "payment_flag")},
        ),
        ("Omie", {"fields": ("omie_customer_code", "omie_os_code", "omie_os_number")}),
        (
            "Processamento",
            {"classes": ("collapse",), "fields": ("sync_attempts", "billing_attempts", "next_attempt_at", "version")},
        ),
    )

    # Orders are created by Bubble's trigger and changed only by the flows and the ops actions
    # (buttons on the page), which log who did what; nothing is edited by hand here.
    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # Columns ------------------------------------------------------------------
    @admin.display(description="cliente", ordering="customer_name")
    def customer(self, obj: Order) -> SafeString:
        kind = obj.customer_kind or "?"
        return format_html('{} <span class="muted">({})</span>', obj.customer_name or "—", kind)

    @admin.display(description="valor", ordering="amount")
    def amount_display(self, obj: Order) -> str:
        return "—" if obj.amount is None else f"R$ {obj.amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")

    @admin.display(description="pedido", ordering="sync_status")
    def sync_badge(self, obj: Order) -> SafeString:
        return badge(obj.sync_status, obj.get_sync_status_display())

    @admin.display(description="faturamento", ordering="billing_status")
    def billing_badge(self, obj: Order) -> SafeString:
        label = badge(obj.billing_status, obj.get_billing_status_display())
        if obj.hold_reason and obj.billing_status == Order.BillingStatus.ON_HOLD:
            return format_html('{}<br><span class="muted">{}</span>', label, obj.get_hold_reason_display())
        return label

    @admin.display(description="gatilho / data", ordering="billing_scheduled_for")
    def schedule(self, obj: Order) -> SafeString:
        if not obj.billing_trigger:
            return mark_safe('<span class="muted">—</span>')
        when = obj.billing_scheduled_for.strftime("%d/%m/%Y") if obj.billing_scheduled_for else "após pagamento"
        return format_html('{}<br><span class="muted">{}</span>', obj.get_billing_trigger_display(), when)

    @admin.display(description="pagamento", ordering="payment_status")
    def payment_badge(self, obj: Order) -> SafeString:
        label = badge(obj.payment_status, obj.get_payment_status_display())
        if obj.payment_flag:
            return format_html('{} <span class="error-text" title="{}">⚠</span>', label, obj.payment_flag)
        return label

    @admin.display(description="último erro")
    def error_short(self, obj: Order) -> SafeString:
        if not obj.last_error:
            return mark_safe('<span class="muted">—</span>')
        return format_html('<span class="error-text" title="{}">{}</span>', obj.last_error, Truncator(obj.last_error).chars(60))

    # Page ---------------------------------------------------------------------
    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if order is not None:
            extra_context["timeline"] = order_timeline(order=order)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ActionLog)
class ActionLogAdmin(admin.ModelAdmin):
    """The audit trail: readable by whoever may view it, changeable by nobody (superusers included)."""

    Media = BackofficeMedia
    list_display = ("created_at", "actor", "action", "order_link", "outcome_badge", "message_short")
    list_filter = ("outcome", "action")
    search_fields = ("=order_bubble_id", "actor", "action")
    list_select_related = ("order",)
    show_full_result_count = False
    readonly_fields = ("created_at", "actor", "action", "order", "order_bubble_id", "payload", "outcome", "message")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ActionLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ActionLog | None = None) -> bool:
        return False

    @admin.display(description="pedido")
    def order_link(self, obj: ActionLog) -> SafeString:
        if obj.order_id:
            return format_html('<a href="../order/{}/change/">{}</a>', obj.order_id, obj.order_bubble_id)
        return format_html("{}", obj.order_bubble_id or "—")

    @admin.display(description="resultado", ordering="outcome")
    def outcome_badge(self, obj: ActionLog) -> SafeString:
        colour = {"ok": "green", "rejected": "orange", "error": "red"}.get(obj.outcome, "gray")
        return badge(obj.outcome, obj.get_outcome_display(), colour=colour)

    @admin.display(description="mensagem")
    def message_short(self, obj: ActionLog) -> str:
        return Truncator(obj.message).chars(90)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Idempotency-Key records (SPEC §7): read-only; the hourly prune deletes them after 24 h."""

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
