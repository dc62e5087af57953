"""The order admin's ops action pages and bulk actions (see backoffice/actions.py for the actions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from backoffice.actions import (
    BY_NAME,
    AdminAction,
    admin_caller,
    confirm_facts,
    order_action_buttons,
    refuse_without_permission,
)
from billing import ops_actions as ops
from common.exceptions import ApplicationError, InvalidState, NotFound
from orders.models import Order

BULK_MAX = 500  # orders per bulk run: each is its own transaction with the order row locked
REASONS_SHOWN = 5
# The services name the API's fields; the admin forms use the same names but one.
FORM_FIELD = {"issued_at": "issued_on"}


class OpsActionsMixin:
    """For OrderAdmin: /admin/orders/order/<id>/acao/<action>/ and the list's bulk actions."""

    actions = ["retry_selected", "approve_holds_selected"]

    # URLs -----------------------------------------------------------------------------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.ops_action_view)  # type: ignore[attr-defined]
        own = [path("<path:object_id>/acao/<slug:action>/", view, name="orders_order_ops_action")]
        return own + super().get_urls()  # type: ignore[misc]  # before the admin's catch-all "<path:object_id>/"

    def ops_action_url(self, order: Order, action: str) -> str:
        return reverse("admin:orders_order_ops_action", args=[order.pk, action], current_app=self.admin_site.name)  # type: ignore[attr-defined]

    def order_url(self, order: Order) -> str:
        return reverse("admin:orders_order_change", args=[order.pk], current_app=self.admin_site.name)  # type: ignore[attr-defined]

    def ops_action_buttons(self, request: HttpRequest, order: Order) -> list:
        return order_action_buttons(order=order, user=request.user, url=lambda name: self.ops_action_url(order, name))

    # The confirmation page ----------------------------------------------------------------------
    def ops_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        ops_action = BY_NAME.get(action)
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if ops_action is None or order is None:
            raise Http404("Ação ou pedido inexistente.")
        if not self.has_view_permission(request, order):  # type: ignore[attr-defined]
            raise PermissionDenied
        refuse_without_permission(request=request, action=ops_action, order=order)
        form = ops_action.form(request.POST or None) if ops_action.form else None
        error = ""
        if request.method == "POST" and (form is None or form.is_valid()):
            data = form.cleaned_data if form is not None else {}
            try:
                message = ops_action.run(order, admin_caller(request=request, data=data), data)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except InvalidState as exc:
                # The state changed (or never allowed it): nothing was done; back to the order.
                self.message_user(request, f"{ops_action.label}: recusado. {exc.message}", messages.ERROR)  # type: ignore[attr-defined]
                return redirect(self.order_url(order))
            except ApplicationError as exc:
                error = _attach_field_errors(form, exc)
            else:
                self.message_user(request, f"{ops_action.label}: {message}", messages.SUCCESS)  # type: ignore[attr-defined]
                return redirect(self.order_url(order))
        button = next(b for b in self.ops_action_buttons(request, order) if b.name == ops_action.name)
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.opts,  # type: ignore[attr-defined]
            "title": f"{ops_action.label} — {order.customer_name or order.bubble_id}",
            "original": order,
            "action": ops_action,
            "button": button,
            "form": form,
            "error": error,
            "facts": confirm_facts(action=ops_action, order=order),
            "order_url": self.order_url(order),
            "actor": admin_caller(request=request, data={}).actor,
        }
        return TemplateResponse(request, "admin/orders/order/ops_action_confirm.html", context, status=400 if error else 200)

    # Bulk actions -------------------------------------------------------------------------------
    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ops.RETRY.permission)

    def has_approve_hold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ops.APPROVE_BILLING_HOLD.permission)

    @admin.action(description=f"{ops.RETRY.label} selecionados", permissions=["retry"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        return self._bulk(request, queryset, BY_NAME[ops.RETRY.name], "retry_selected")

    @admin.action(description="Aprovar retenções selecionadas", permissions=["approve_hold"])
    def approve_holds_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        return self._bulk(request, queryset, BY_NAME[ops.APPROVE_BILLING_HOLD.name], "approve_holds_selected")

    def _bulk(self, request: HttpRequest, queryset: QuerySet[Order], action: AdminAction, action_name: str) -> HttpResponse | None:
        orders = list(queryset.order_by("pk")[: BULK_MAX + 1])
        truncated, orders = len(orders) > BULK_MAX, orders[:BULK_MAX]
        confirmed = request.POST.get("post") == "yes"  # the second POST, from the confirmation page
        form = action.form(request.POST if confirmed else None) if action.form else None
        if not confirmed or (form is not None and not form.is_valid()):
            context = {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": self.opts,  # type: ignore[attr-defined]
                "title": f"{action.label} em lote",
                "action": action,
                "action_name": action_name,
                "orders": orders,
                "truncated": truncated,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/orders/order/bulk_action_confirm.html", context)
        data: dict[str, Any] = form.cleaned_data if form is not None else {}
        done, refused = 0, []
        for order in orders:
            try:
                action.run(order, admin_caller(request=request, data=data), data)
            except (ApplicationError, PermissionDenied) as exc:
                refused.append(f"{order.customer_name or order.bubble_id}: {getattr(exc, 'message', str(exc))}")
            else:
                done += 1
        self._bulk_report(request, action, done, refused)
        return None

    def _bulk_report(self, request: HttpRequest, action: AdminAction, done: int, refused: list[str]) -> None:
        level = messages.SUCCESS if not refused else (messages.WARNING if done else messages.ERROR)
        self.message_user(request, f"{action.label}: {done} feito{'s' if done != 1 else ''}, "  # type: ignore[attr-defined]
                                   f"{len(refused)} recusado{'s' if len(refused) != 1 else ''}.", level)
        for reason in refused[:REASONS_SHOWN]:
            self.message_user(request, f"Recusado — {reason}", messages.WARNING)  # type: ignore[attr-defined]
        if len(refused) > REASONS_SHOWN:
            self.message_user(request, f"… e mais {len(refused) - REASONS_SHOWN} recusado(s): veja o registro de ações.",  # type: ignore[attr-defined]
                              messages.WARNING)


def _attach_field_errors(form: Form | None, exc: ApplicationError) -> str:
    """A service's field refusal goes next to the field; anything else is shown at the top."""
    fields = exc.details.get("fields", {}) if isinstance(exc.details, dict) else {}
    if form is None or not fields:
        return exc.message
    for name, errors in fields.items():
        target = FORM_FIELD.get(name, name)
        form.add_error(target if target in form.fields else None, errors)
    return exc.message
