"""The ops action buttons of the order page and the list's bulk actions (docs/contract.md#ops-actions, docs/backoffice.md), driven with
Django's test client as users of the real ``Ops`` and ``Financeiro`` groups (billing's data migration).

For every action: hidden (and 403, logged) without the permission, refused with the reason in a
wrong state (nothing changes), done in the right state, and always in the action log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from billing.models import AccountEntry, CustomerAccount, Invoice
from billing.tests.factories import order_in_state
from common.dates import today_sp
from orders.models import ActionLog, Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(user_factory) -> Callable[[str | None], Client]:
    """A logged-in staff user: in ``Ops`` or ``Financeiro``, or (None) one who may only view orders."""

    def make(group: str | None) -> Client:
        user = user_factory(f"u-{(group or 'viewer').lower()}", is_staff=True)
        if group:
            user.groups.add(Group.objects.get(name=group))
        else:
            user.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
        client = Client()
        client.force_login(user)
        client.username = user.username  # type: ignore[attr-defined]
        return client

    return make


def _page(order: Order) -> str:
    return f"/admin/orders/order/{order.pk}/change/"


def _action_url(order: Order, name: str) -> str:
    return f"/admin/orders/order/{order.pk}/acao/{name}/"


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _log(order: Order, action: str) -> list[ActionLog]:
    return list(ActionLog.objects.filter(order_bubble_id=order.bubble_id, action=action).order_by("id"))


def _sync_failed() -> Order:
    return order_in_state("", sync_status="FAILED", last_error="CPF inválido: dígito verificador não confere.")


def _paid_cancelled() -> Order:
    return order_in_state("CANCELLED", paid=True)


def _pf_unpaid_with_credit() -> Order:
    order = order_in_state("AWAITING_PAYMENT", amount=Decimal("300.00"))
    CustomerAccount.objects.create(customer_bubble_id=order.customer_bubble_id, balance=Decimal("500.00"))
    return order


def _account_balance(order: Order) -> Decimal:
    return CustomerAccount.objects.get(customer_bubble_id=order.customer_bubble_id).balance


@dataclass(frozen=True)
class Case:
    name: str  # the URL segment
    log: str  # the action-log name
    allowed_group: str  # the least group that may
    right: Callable[[], Order]
    wrong: Callable[[], Order]
    data: dict[str, Any] = field(default_factory=dict)
    done: Callable[[Order], bool] = lambda order: True
    wrong_says: str = ""


CASES = [
    Case("retry", "retry", "Ops", _sync_failed, lambda: order_in_state("SCHEDULED"),
         done=lambda o: o.sync_status == "PENDING" and o.last_error == "", wrong_says="Nada a reprocessar"),
    Case("cancel-nf", "nf_cancel", "Financeiro", lambda: order_in_state("ISSUED"), lambda: order_in_state("SCHEDULED"),
         data={"reason_code": "1", "justification": "Valor do serviço emitido errado."},
         done=lambda o: o.billing_status == "CANCELLING", wrong_says="Agendado dia 25"),
    Case("mark-nf-manual", "nf_mark_manual", "Ops", lambda: order_in_state("SCHEDULED"), lambda: order_in_state("ISSUED"),
         data={"nf_number": "NF-777", "issued_on": f"{today_sp():%d/%m/%Y}", "nf_url": "", "note": "emitida na prefeitura"},
         done=lambda o: o.billing_status == "MANUAL" and Invoice.objects.filter(order=o, nfse_number="NF-777").exists(),
         wrong_says="NF emitida"),
    Case("approve-billing-hold", "billing_hold_approve", "Financeiro", lambda: order_in_state("ON_HOLD"),
         lambda: order_in_state("SCHEDULED"), data={"note": "cliente antigo"},
         done=lambda o: o.billing_status != "ON_HOLD" and o.hold_approved_by.startswith("admin:"), wrong_says="Agendado dia 25"),
    Case("override-day25", "billing_override_day25", "Financeiro", lambda: order_in_state("SCHEDULED"),
         lambda: order_in_state("ISSUED"), data={"reason": "cliente pediu a NF antes"},
         done=lambda o: o.override_day25 and o.billing_status != "SCHEDULED", wrong_says="NF emitida"),
    Case("transfer-cc", "cc_transfer", "Financeiro", _paid_cancelled, lambda: order_in_state("ISSUED", paid=True),
         data={"reason": "serviço não prestado, crédito para o próximo", "amount": ""},
         done=lambda o: _account_balance(o) == o.amount_paid, wrong_says="NF emitida"),
    Case("use-cc", "cc_use", "Financeiro", _pf_unpaid_with_credit, lambda: order_in_state("SCHEDULED", paid=True),
         data={"amount": ""}, done=lambda o: o.payment_status == "paid" and o.paid_via == "conta_corrente", wrong_says="Pago"),
]
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_in_the_right_state_the_action_is_done_reported_and_logged(login, case):
    order = case.right()
    client = login(case.allowed_group)
    page = client.get(_page(order)).content.decode()
    assert f'href="{_action_url(order, case.name)}"' in page  # an enabled button

    confirm = client.get(_action_url(order, case.name))
    assert confirm.status_code == 200 and "O que acontece" in confirm.content.decode()
    response = client.post(_action_url(order, case.name), case.data, follow=True)

    assert response.redirect_chain[-1][0] == _page(order)
    assert any(m.startswith(confirm.context["action"].label) for m in _messages(response)), _messages(response)
    order.refresh_from_db()
    assert case.done(order)
    entry = _log(order, case.log)[-1]
    assert (entry.outcome, entry.actor) == ("ok", f"admin:{client.username}")
    assert entry.payload["via"] == "admin"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_in_a_wrong_state_the_action_is_refused_with_the_reason_and_nothing_changes(login, case):
    order = case.wrong()
    before = Order.objects.filter(pk=order.pk).values().get()
    client = login("Financeiro")

    page = client.get(_page(order)).content.decode()
    assert f'href="{_action_url(order, case.name)}"' not in page  # the button is shown disabled…
    assert "button ops-button disabled" in page  # …with the reason next to it
    response = client.post(_action_url(order, case.name), case.data, follow=True)

    errors = [m for m in _messages(response) if "recusado" in m]
    assert errors and case.wrong_says in errors[0], _messages(response)
    assert Order.objects.filter(pk=order.pk).values().get() == before
    entry = _log(order, case.log)[-1]
    assert (entry.outcome, entry.actor) == ("rejected", f"admin:{client.username}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_without_the_permission_the_button_is_not_shown_and_the_action_is_forbidden_and_logged(login, case):
    order = case.right()
    client = login(None if case.allowed_group == "Ops" else "Ops")
    before = Order.objects.filter(pk=order.pk).values().get()

    page = client.get(_page(order))
    assert page.status_code == 200
    assert _action_url(order, case.name) not in page.content.decode()
    assert client.get(_action_url(order, case.name)).status_code == 403
    assert client.post(_action_url(order, case.name), case.data).status_code == 403

    assert Order.objects.filter(pk=order.pk).values().get() == before
    assert [e.outcome for e in _log(order, case.log)] == ["rejected", "rejected"]


def test_ops_can_retry_and_record_a_manual_nf_but_not_cancel_an_nf_or_approve_a_hold(login):
    ops = login("Ops")
    issued, held = order_in_state("ISSUED"), order_in_state("ON_HOLD")
    assert ops.post(_action_url(issued, "cancel-nf"), {"reason_code": "1", "justification": "Valor emitido errado no pedido."}
                    ).status_code == 403
    assert ops.post(_action_url(held, "approve-billing-hold"), {}).status_code == 403
    issued.refresh_from_db()
    held.refresh_from_db()
    assert (issued.billing_status, held.billing_status) == ("ISSUED", "ON_HOLD")

    page = ops.get(_page(held)).content.decode()
    buttons = page.split('<div class="ops-actions">')[1].split("</fieldset>")[0]
    assert ">Reprocessar<" in buttons and ">Registrar NF manual<" in buttons
    for hidden in ("Aprovar retenção", "Cancelar NF", "Antecipar faturamento", "Transferir para conta corrente", "Usar conta corrente"):
        assert f">{hidden}<" not in buttons


def test_financeiro_can_cancel_an_nf_and_approve_a_hold(login):
    finance = login("Financeiro")
    issued, held = order_in_state("ISSUED"), order_in_state("ON_HOLD")
    finance.post(_action_url(issued, "cancel-nf"), {"reason_code": "2", "justification": "Serviço não foi prestado ao cliente."})
    finance.post(_action_url(held, "approve-billing-hold"), {"note": ""})
    issued.refresh_from_db()
    held.refresh_from_db()
    assert issued.billing_status == "CANCELLING"
    assert held.billing_status != "ON_HOLD" and held.hold_approved_by == "admin:u-financeiro"


def test_a_viewer_sees_the_order_without_any_action(login):
    order = _sync_failed()
    html = login(None).get(_page(order)).content.decode()
    assert "O que está errado:" in html
    assert "ops-actions" not in html


def test_input_the_service_refuses_stays_on_the_form_with_the_reason_and_is_logged(login):
    order = order_in_state("ISSUED")
    client = login("Financeiro")
    response = client.post(_action_url(order, "cancel-nf"), {"reason_code": "1", "justification": "curta"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "A justificativa deve ter de 15 a 255 caracteres." in html
    order.refresh_from_db()
    assert order.billing_status == "ISSUED"
    assert _log(order, "nf_cancel")[-1].outcome == "rejected"


def test_the_amount_is_read_as_ops_type_it(login):
    order = _paid_cancelled()
    login("Financeiro").post(_action_url(order, "transfer-cc"), {"reason": "crédito parcial", "amount": "R$ 1.000,50"})
    entry = AccountEntry.objects.get(order=order)
    assert entry.amount == Decimal("1000.50")


def test_retry_of_a_failed_emission_resends_it(login):
    order = order_in_state("FAILED")
    response = login("Ops").post(_action_url(order, "retry"), follow=True)
    order.refresh_from_db()
    assert order.billing_status == "ISSUING"
    assert any("Reprocessar:" in m for m in _messages(response))


# Bulk actions -----------------------------------------------------------------------------------

def _bulk(client: Client, action: str, orders: list[Order], **extra: str) -> Any:
    data = {"action": action, "_selected_action": [o.pk for o in orders], "index": 0}
    first = client.post("/admin/orders/order/", data)
    assert first.status_code == 200 and "Confirmar" in first.content.decode()  # a confirmation page first
    return client.post("/admin/orders/order/", {**data, "post": "yes", **extra}, follow=True)


def test_retry_selected_reports_done_and_refused_counts(login):
    failed = [_sync_failed() for _ in range(2)]
    fine = order_in_state("SCHEDULED")
    response = _bulk(login("Ops"), "retry_selected", [*failed, fine])
    messages = _messages(response)
    assert "Reprocessar: 2 feitos, 1 recusado." in messages
    assert any(m.startswith("Recusado — ") and "Nada a reprocessar" in m for m in messages)
    assert [o.sync_status for o in Order.objects.filter(pk__in=[o.pk for o in failed])] == ["PENDING", "PENDING"]
    assert [e.outcome for e in _log(fine, "retry")] == ["rejected"]


def test_approve_holds_selected_reports_counts_and_is_not_offered_to_ops(login):
    held = [order_in_state("ON_HOLD") for _ in range(2)]
    scheduled = order_in_state("SCHEDULED")

    ops = login("Ops")
    assert "approve_holds_selected" not in ops.get("/admin/orders/order/").content.decode()
    assert "retry_selected" in ops.get("/admin/orders/order/").content.decode()
    ops.post("/admin/orders/order/", {"action": "approve_holds_selected", "_selected_action": [o.pk for o in held], "post": "yes"})
    assert Order.objects.filter(pk__in=[o.pk for o in held], billing_status="ON_HOLD").count() == 2

    response = _bulk(login("Financeiro"), "approve_holds_selected", [*held, scheduled], note="aprovado em lote")
    assert "Aprovar retenção: 2 feitos, 1 recusado." in _messages(response)
    assert Order.objects.filter(pk__in=[o.pk for o in held], billing_status="ON_HOLD").count() == 0
    assert all(_log(o, "billing_hold_approve")[-1].outcome == "ok" for o in held)
    assert _log(scheduled, "billing_hold_approve")[-1].outcome == "rejected"


def test_a_viewer_gets_no_bulk_action_and_a_forged_one_changes_nothing(login):
    failed = _sync_failed()
    viewer = login(None)
    assert "retry_selected" not in viewer.get("/admin/orders/order/").content.decode()
    viewer.post("/admin/orders/order/", {"action": "retry_selected", "_selected_action": [failed.pk], "post": "yes"})
    failed.refresh_from_db()
    assert failed.sync_status == "FAILED" and not _log(failed, "retry")
