from __future__ import annotations

import math
from calendar import monthrange
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from backoffice.action_labels import ACTION_LABELS, action_label, actor_label
from backoffice.admin.nfse_documents import order_nfse_facts
from backoffice.badges import badge
from backoffice.dashboard import invoices_stuck_issuing
from backoffice.exports import ExportListMixin
from backoffice.paginator import EstimatedCountPaginator
from backoffice.search import order_search_q
from backoffice.templatetags.backoffice import brl
from backoffice.timeline import order_timeline
from backoffice.views import OpsActionsMixin
from billing.decision import next_billing_date
from billing.models import Invoice
from billing.services.state import order_live_invoice
from common.dates import today_sp
from common.safe_urls import http_url_or_empty
from orders.display import document_display, os_number_display
from orders.models import ActionLog, Order

NOTHING = mark_safe('<span class="muted">—</span>')


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


class ScheduledForFilter(admin.SimpleListFilter):
    """The billing date as finance thinks of it: the next run, what is overdue, this or next month."""

    title = "faturamento previsto"
    parameter_name = "previsto"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("proximo", "No próximo dia de faturamento"),
            ("atrasado", "Data passada e ainda não emitido"),
            ("este_mes", "Este mês"),
            ("proximo_mes", "Próximo mês"),
            ("sem_data", "Sem data"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        today = today_sp()
        first = today.replace(day=1)
        next_first = first + timedelta(days=monthrange(first.year, first.month)[1])
        after_next = next_first + timedelta(days=monthrange(next_first.year, next_first.month)[1])
        match self.value():
            case "proximo":
                return queryset.filter(billing_scheduled_for=next_billing_date(today, settings.BILLING_DAY))
            case "atrasado":
                waiting = [Order.BillingStatus.SCHEDULED, Order.BillingStatus.ON_HOLD]
                return queryset.filter(billing_scheduled_for__lt=today, billing_status__in=waiting)
            case "este_mes":
                return queryset.filter(billing_scheduled_for__gte=first, billing_scheduled_for__lt=next_first)
            case "proximo_mes":
                return queryset.filter(billing_scheduled_for__gte=next_first, billing_scheduled_for__lt=after_next)
            case "sem_data":
                return queryset.filter(billing_scheduled_for__isnull=True)
        return queryset


class StuckIssuingFilter(admin.SimpleListFilter):
    title = "emissão parada"
    parameter_name = "emissao"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("parada", "Em emissão há mais de 24 h")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() != "parada":
            return queryset
        return queryset.filter(pk__in=invoices_stuck_issuing().values("order_id"))


# Money fields shown in reais (R$ 1.234,56) on the order page: field → its display.
MONEY_FIELDS = {"amount": "amount_brl", "amount_paid": "amount_paid_brl", "amount_refunded": "amount_refunded_brl"}


@admin.register(Order)
class OrderAdmin(ExportListMixin, OpsActionsMixin, admin.ModelAdmin):
    export_kind = "ORDERS"
    change_form_template = "admin/orders/order/change_form.html"
    # Every column reads the order row, or the NF numbers prefetched for the whole page: a fixed
    # number of queries whatever the page size (backoffice/tests/test_admin_list.py, bench/admin_order_list.py).
    list_display = (
        "order_col",
        "amount_display",
        "statuses",
        "payment_badge",
        "numbers",
        "error_short",
    )
    list_select_related = False  # the order row has no relation the list shows; the NF numbers are prefetched
    list_display_links = ("order_col",)
    list_filter = (
        "sync_status",
        "billing_status",
        "customer_kind",
        "payment_status",
        HoldFilter,
        "billing_trigger",
        ScheduledForFilter,
        StuckIssuingFilter,
    )
    # Any value makes Django show the search box; the matching is order_search_q (exact on the
    # indexed column the pasted value belongs to), not Django's OR over every field.
    search_fields = ("bubble_id",)
    search_help_text = (
        "Cole o ID do pedido ou do cliente no Bubble, o CPF/CNPJ (com ou sem pontuação), o número da OS ou da NF, "
        "o e-mail ou parte do nome do cliente."
    )
    list_per_page = 50
    show_full_result_count = False  # one COUNT(*) per page, not two, on 100k+ orders
    paginator = EstimatedCountPaginator  # and that one stops at 10,000 rows: a million is the planner's estimate
    # Facet counts are one aggregate over the whole table per filter (1.5 s on 100k orders, see
    # docs/benchmarks.md); the dashboard has the counts per status.
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-created_at",)

    fieldsets = (
        ("Pedido", {"fields": ("bubble_id", ("sync_status", "billing_status"), "last_error", ("created_at", "updated_at", "synced_at"))}),
        (
            "Cliente",
            {"fields": ("customer_bubble_id", ("customer_name", "customer_kind"), ("document", "cnpj_status"), "customer_email",
                        "requires_approval")},
        ),
        ("Serviço e valor", {"fields": (("amount_brl", "lc116_code"), "service_description")}),
        (
            "Faturamento",
            {"fields": (("billing_trigger", "billing_scheduled_for"), "override_day25", "hold_reason",
                        ("hold_approved_by", "hold_approved_at"))},
        ),
        (
            "Pagamento",
            {"fields": (("payment_method", "payment_status"), ("paid_via", "paid_at"), ("amount_paid_brl", "payment_state_at"),
                        ("amount_refunded_brl", "payment_flag"))},
        ),
        ("Omie", {"fields": (("omie_customer_code", "omie_os_code", "os_number_col"),)}),
        (
            "Processamento",
            {"classes": ("collapse",), "fields": (
                ("sync_attempts", "billing_attempts"), ("next_attempt_at", "version"), ("sync_started_at", "source_fetched_at"),
                ("omie_customer_synced_at", "omie_os_requested_at"), "customer_payload",
            )},
        ),
    )

    # Orders are created by Bubble's trigger and changed only by the flows and the ops actions
    # (buttons on the page), which log who did what; nothing is edited by hand here.
    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        return [f.name for f in Order._meta.fields] + list(MONEY_FIELDS.values()) + ["os_number_col"]

    @admin.display(description="número da OS (Omie)")
    def os_number_col(self, obj: Order) -> str:
        return os_number_display(obj.omie_os_number) or "—"

    def get_fieldsets(self, request: HttpRequest, obj: Order | None = None) -> list:
        # Fields other branches add to the model land in a last section instead of being hidden.
        shown = {name for _, opts in self.fieldsets for row in opts["fields"] for name in ((row,) if isinstance(row, str) else row)}
        shown |= set(MONEY_FIELDS)  # shown in reais by their *_brl display
        shown.add("omie_os_number")  # shown without Omie's zero padding by os_number_col
        extra = [f.name for f in Order._meta.fields if f.name not in shown and f.name != "id"]
        return [*self.fieldsets, *([("Outros dados", {"classes": ("collapse",), "fields": extra})] if extra else [])]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(request, {"title": "Pedidos", **(extra_context or {})})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # The NF numbers of the page's orders come in ONE extra query for the whole page (a prefetch
        # runs on the sliced page only). Not a correlated subquery: PostgreSQL would evaluate that
        # for every row an OFFSET skips (50,000 lookups on page 1,000 of 100k orders).
        numbered = Invoice.objects.exclude(nfse_number="").order_by("-created_at", "-id").only("order_id", "nfse_number", "created_at")
        return super().get_queryset(request).prefetch_related(Prefetch("invoices", queryset=numbered, to_attr="numbered_invoices"))

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Order], search_term: str) -> tuple[QuerySet[Order], bool]:
        q = order_search_q(search_term)
        return (queryset if q is None else queryset.filter(q)), False

    # Columns ------------------------------------------------------------------
    @admin.display(description="pedido · criado em", ordering="created_at")
    def order_col(self, obj: Order) -> SafeString:
        return format_html(
            '<strong>{}</strong> <span class="muted">{}</span><br><span class="bubble-id">{}</span><br><span class="muted">{}</span>',
            obj.customer_name or "(sem nome)", obj.customer_kind, obj.bubble_id,
            timezone.localtime(obj.created_at).strftime("%d/%m/%Y %H:%M"),
        )

    @admin.display(description="valor", ordering="amount")
    def amount_display(self, obj: Order) -> str:
        return brl(obj.amount)

    @admin.display(description="valor")
    def amount_brl(self, obj: Order) -> str:
        return brl(obj.amount)

    @admin.display(description="valor pago")
    def amount_paid_brl(self, obj: Order) -> str:
        return brl(obj.amount_paid)

    @admin.display(description="valor estornado")
    def amount_refunded_brl(self, obj: Order) -> str:
        return brl(obj.amount_refunded)

    @admin.display(description="status do pedido · do faturamento · gatilho e data", ordering="billing_status")
    def statuses(self, obj: Order) -> SafeString:
        """Both statuses as labels, then why it waits (hold) or when it bills (trigger and date)."""
        sync = badge(obj.sync_status, obj.get_sync_status_display())
        if not obj.billing_status:
            return sync
        billing = badge(obj.billing_status, obj.get_billing_status_display())
        if obj.billing_status == Order.BillingStatus.ON_HOLD and obj.hold_reason:
            note = obj.get_hold_reason_display()
        else:
            note = obj.get_billing_trigger_display() + (f" · {obj.billing_scheduled_for:%d/%m/%Y}" if obj.billing_scheduled_for else "")
        return format_html('{} {}<br><span class="muted">{}</span>', sync, billing, note)

    @admin.display(description="pagamento", ordering="payment_status")
    def payment_badge(self, obj: Order) -> SafeString:
        label = badge(obj.payment_status, obj.get_payment_status_display())
        if obj.payment_flag:
            return format_html('{} <span class="error-text" title="{}">⚠ alerta</span>', label, obj.payment_flag)
        return label

    @admin.display(description="OS · NF")
    def numbers(self, obj: Order) -> SafeString:
        if not obj.omie_os_number:
            return NOTHING
        # The newest invoice with a number: a cancelled NF keeps showing it, next to "NF cancelada".
        numbered = getattr(obj, "numbered_invoices", None)
        nf = numbered[0].nfse_number if numbered else ""
        if not nf:
            return format_html("OS {}", os_number_display(obj.omie_os_number))
        return format_html("OS {}<br>NF {}", os_number_display(obj.omie_os_number), nf)

    @admin.display(description="o que está errado")
    def error_short(self, obj: Order) -> SafeString:
        if not obj.last_error:
            return NOTHING
        return format_html('<span class="error-text" title="{}">{}</span>', obj.last_error, Truncator(obj.last_error).chars(100))

    # Page ---------------------------------------------------------------------
    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if order is not None:
            timeline = order_timeline(order=order)
            buttons = self.ops_action_buttons(request, order)
            extra_context.update(
                title=f"Pedido de {order.customer_name}" if order.customer_name else "Pedido",
                summary=order_summary(order=order),
                ops_actions=[b for b in buttons if b.visible],
                ops_actions_unavailable=[b for b in buttons if b.visible and not b.allowed],
                timeline=timeline,
                timeline_recent=timeline[:TIMELINE_OPEN],
                timeline_older=timeline[TIMELINE_OPEN:],
            )
        return super().change_view(request, object_id, form_url, extra_context)


TIMELINE_OPEN = 40  # newest events shown open; the older ones behind "mostrar mais"


def order_summary(*, order: Order) -> dict:
    """The top of the order page: what is wrong (problems) and the facts ops look up most."""
    problems = []
    if order.last_error:
        problems.append({"level": "error", "title": "O que está errado:", "text": order.last_error})
    if order.billing_status == Order.BillingStatus.ON_HOLD:
        problems.append({"level": "warning", "title": "Retido para aprovação:",
                         "text": f"{order.get_hold_reason_display()}. Nada é emitido até o Financeiro aprovar."})
    if order.payment_flag:
        problems.append({"level": "warning", "title": "Alerta de pagamento:", "text": order.payment_flag})
    local = timezone.localtime
    billing = "—"
    if order.billing_trigger:
        billing = order.get_billing_trigger_display()
        if order.billing_scheduled_for:
            billing += f", previsto para {order.billing_scheduled_for:%d/%m/%Y}"
        if order.override_day25:
            billing += " (antecipado)"
    if order.hold_approved_at:
        billing += f" · retenção aprovada por {actor_label(order.hold_approved_by)} em {local(order.hold_approved_at):%d/%m/%Y %H:%M}"
    paid = brl(order.amount_paid) + (f" via {order.get_paid_via_display()}" if order.paid_via else "")
    if order.payment_status == order.PaymentStatus.PAID and not order.amount_paid:
        paid = None
    facts = [
        ("Cliente", f"{order.customer_name or '—'} ({order.get_customer_kind_display() or 'tipo desconhecido'})", ""),
        ("CPF/CNPJ", document_display(order.document) + (f" · {order.cnpj_status}" if order.cnpj_status else ""), ""),
        ("Valor", f"{brl(order.amount)} · " + (f"pago {paid}" if paid else "pago, mas o valor pago não foi registrado"), ""),
        ("Faturamento", billing, ""),
        ("OS no Omie", f"nº {os_number_display(order.omie_os_number)}" if order.omie_os_number else "ainda não criada", ""),
        ("Criado em", f"{local(order.created_at):%d/%m/%Y %H:%M} · atualizado {local(order.updated_at):%d/%m/%Y %H:%M}", ""),
    ]
    facts.insert(4, _invoice_fact(order))
    facts[5:5] = order_nfse_facts(order, order_live_invoice(order=order))  # "Baixar PDF" / "Baixar XML", Omie's e-mail
    return {"problems": problems, "facts": facts}


def _invoice_fact(order: Order) -> tuple[str, str, str]:
    invoice = order_live_invoice(order=order)
    if invoice is None:
        return ("NF", "ainda não emitida", "")
    text = f"nº {invoice.nfse_number}" if invoice.nfse_number else "sem número ainda"
    text += f" · {invoice.get_status_display()}"
    if invoice.issued_at:
        text += f" em {timezone.localtime(invoice.issued_at):%d/%m/%Y}"
    if invoice.status in (Order.BillingStatus.ISSUING, Order.BillingStatus.CANCELLING):
        text += " · " + next_check_text(invoice)
    return ("NF", text, http_url_or_empty(invoice.nfse_url))


# The invoice's next step as ops say it ("próxima consulta ao Omie às 14:05").
NEXT_STEP_WORDS = {
    "FATURAR": "envio do faturamento ao Omie",
    "POLL_NFSE": "consulta da NFS-e ao Omie",
    "REENVIAR": "reenvio da NFS-e ao Omie",
    "CANCEL": "envio do cancelamento ao Omie",
    "POLL_CANCEL": "consulta do cancelamento ao Omie",
}


def next_check_text(invoice: Invoice, now: datetime | None = None) -> str:
    """When the system looks at this invoice again: "próximo passo: consulta da NFS-e ao Omie às 14:05 (em 4 min)"."""
    what = NEXT_STEP_WORDS.get(invoice.next_step)
    if not what:
        return "nenhum passo agendado (o sistema não vai consultar o Omie sozinho; veja o histórico)"
    now = now or timezone.now()
    when = invoice.next_poll_at
    if when is None or when <= now:
        return f"próximo passo: {what}, agora (em andamento)"
    minutes = math.ceil((when - now).total_seconds() / 60)
    local = timezone.localtime(when)
    day = "" if local.date() == timezone.localtime(now).date() else f" de {local:%d/%m}"
    wait = f"em {minutes} min" if minutes < 90 else f"em {round(minutes / 60)} h"
    return f"próximo passo: {what} às {local:%H:%M}{day} ({wait})"


class ActionFilter(admin.SimpleListFilter):
    title = "ação"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return sorted(ACTION_LABELS.items(), key=lambda item: item[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[ActionLog]) -> QuerySet[ActionLog]:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(ActionLog)
class ActionLogAdmin(admin.ModelAdmin):
    """The audit trail: readable by whoever may view it, changeable by nobody (superusers included)."""

    list_display = ("created_at", "actor_col", "auth_col", "action_col", "order_link", "outcome_badge", "message_short")
    list_select_related = ("order",)
    list_filter = ("outcome", "auth_method", ActionFilter)
    search_fields = ("=order_bubble_id", "actor", "=auth_username", "=auth_token_id")
    paginator = EstimatedCountPaginator
    search_help_text = "ID do pedido no Bubble (exato), quem fez (e-mail, usuário, parte do texto), login autenticado ou jti (exatos)."
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # the log only grows
    # The row's page: who and what in ops language (the raw actor and action keys are in their tooltips).
    readonly_fields = ("created_at", "actor_col", "auth_username", "auth_method", "auth_token_id", "action_col", "order",
                       "order_bubble_id", "payload", "outcome", "message")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ActionLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ActionLog | None = None) -> bool:
        return False

    @admin.display(description="quem", ordering="actor")
    def actor_col(self, obj: ActionLog) -> SafeString:
        return format_html('<span title="{}">{}</span>', obj.actor, actor_label(obj.actor))

    @admin.display(description="autenticado como", ordering="auth_username")
    def auth_col(self, obj: ActionLog) -> SafeString:
        """Who really acted (the login and token the request carried), beside the claimed actor."""
        if not obj.auth_method:
            return format_html("{}", "—")
        method = {"session": "admin", "jwt": "JWT", "service": "token de serviço"}.get(obj.auth_method, obj.auth_method)
        token = f" · jti {obj.auth_token_id[:8]}…" if obj.auth_token_id else ""
        return format_html('<span title="usuário #{} · {} {}">{} ({}{})</span>', obj.auth_user_id, method, obj.auth_token_id,
                           obj.auth_username, method, token)

    @admin.display(description="ação", ordering="action")
    def action_col(self, obj: ActionLog) -> SafeString:
        return format_html('<span title="{}">{}</span>', obj.action, action_label(obj.action))

    @admin.display(description="cliente · pedido")
    def order_link(self, obj: ActionLog) -> SafeString:
        name = obj.order.customer_name if obj.order_id and obj.order else ""
        if obj.order_id:
            link = format_html('<a href="../order/{}/change/">{}</a>', obj.order_id, obj.order_bubble_id)
        else:
            link = format_html("{}", obj.order_bubble_id or "—")
        return format_html('<strong>{}</strong><br><span class="bubble-id">{}</span>', name or "—", link)

    @admin.display(description="resultado", ordering="outcome")
    def outcome_badge(self, obj: ActionLog) -> SafeString:
        colour = {"ok": "green", "rejected": "orange", "error": "red", "retry": "outline"}.get(obj.outcome, "gray")
        return badge(obj.outcome, obj.get_outcome_display(), colour=colour)

    @admin.display(description="mensagem")
    def message_short(self, obj: ActionLog) -> str:
        return Truncator(obj.message).chars(120)
