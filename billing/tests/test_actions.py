"""docs/contract.md#ops-actions: every ops action from every state, through the HTTP API Bubble uses."""

from decimal import Decimal

import pytest

from billing.models import AccountEntry, CustomerAccount, Invoice
from billing.tests.factories import OrderFactory, order_in_state
from common.dates import today_sp
from orders.models import ActionLog, Order
from orders.statuses import BillingStatus, PaymentStatus

pytestmark = pytest.mark.django_db

OPERATOR = "ana@blu.example.com"
STATES = ["", *BillingStatus.values]

# action → (path, body, states where allowed, expected status, state after)
ACTIONS = {
    "retry": ({}, {BillingStatus.FAILED}, 202),
    "cancel-nf": ({"reason_code": 1, "justification": "Valor cobrado incorreto."}, {BillingStatus.ISSUED}, 202),
    # The NF's date lies between the order's creation (today, for these orders) and today.
    "mark-nf-manual": ({"nf_number": "2026/881", "issued_at": today_sp().isoformat(), "nf_url": "https://nfse.example.com/881"},
                       {BillingStatus.AWAITING_PAYMENT, BillingStatus.SCHEDULED, BillingStatus.ON_HOLD, BillingStatus.ISSUING,
                        BillingStatus.FAILED}, 200),
    "approve-billing-hold": ({"note": "ok do financeiro"}, {BillingStatus.ON_HOLD}, 200),
    "override-day25": ({"reason": "Cliente pediu a nota hoje"}, {BillingStatus.SCHEDULED}, 202),
}
AFTER = {
    "retry": BillingStatus.ISSUING,
    "cancel-nf": BillingStatus.CANCELLING,
    "mark-nf-manual": BillingStatus.MANUAL,
    "approve-billing-hold": BillingStatus.SCHEDULED,
    "override-day25": BillingStatus.ISSUING,
}


def snapshot(order: Order) -> tuple:
    order.refresh_from_db()
    invoices = tuple(Invoice.objects.filter(order=order).order_by("id").values_list("status", "nfse_number", "next_step"))
    return order.billing_status, order.payment_status, order.amount_paid, order.version, invoices


def post(client, order_id: str, action: str, body: dict):
    return client.post(f"/v1/orders/{order_id}/{action}", {"operator": OPERATOR, **body}, format="json")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_from_each_state(auth_client, action, state):
    body, allowed, success = ACTIONS[action]
    order = order_in_state(state)
    before = snapshot(order)

    response = post(auth_client, order.bubble_id, action, body)

    log = ActionLog.objects.filter(order=order).exclude(action__in=["billing_decide", "billing_emit"]).latest("id")
    assert log.actor == f"bubble:{OPERATOR}"
    if state in allowed:
        assert response.status_code == success, response.json()
        assert response.json()["billing_status"]["code"] == AFTER[action]
        order.refresh_from_db()
        assert order.billing_status == AFTER[action]
        assert log.outcome == "ok"
    else:
        assert response.status_code == 409, response.json()
        error = response.json()["error"]
        assert error["code"] == "invalid_state"
        label = BillingStatus(state).label if state else ("Aguardando sincronização" if action == "retry" else "não sincronizado")
        assert label in error["message"]
        assert snapshot(order) == before
        assert (log.outcome, log.message) == ("rejected", error["message"])


@pytest.mark.parametrize("state", STATES)
def test_transfer_cc_from_each_state(auth_client, state):
    order = order_in_state(state, paid=True) if state != BillingStatus.AWAITING_PAYMENT else order_in_state(state)
    if state == BillingStatus.AWAITING_PAYMENT:
        # A PF order waiting for payment is not paid: nothing to transfer.
        allowed = False
    else:
        allowed = state not in {BillingStatus.ISSUING, BillingStatus.ISSUED, BillingStatus.CANCELLING, BillingStatus.MANUAL}
    before = snapshot(order)

    response = post(auth_client, order.bubble_id, "transfer-cc", {"reason": "Pedido desistido"})

    if allowed:
        assert response.status_code == 200, response.json()
        assert Decimal(response.json()["balance"]) == order.amount
        assert Decimal(response.json()["entry"]["amount"]) == order.amount
        assert CustomerAccount.objects.get(customer_bubble_id=order.customer_bubble_id).balance == order.amount
    else:
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "invalid_state"
        assert snapshot(order) == before
        assert not AccountEntry.objects.exists()
    assert ActionLog.objects.filter(order=order, action="cc_transfer").latest("id").outcome == ("ok" if allowed else "rejected")


@pytest.mark.parametrize("state", STATES)
def test_use_cc_from_each_state(auth_client, state):
    order = order_in_state(state)
    CustomerAccount.objects.create(customer_bubble_id=order.customer_bubble_id, balance=0)
    # A real credit, so the balance equals the sum of the entries.
    source = OrderFactory(paid=True, billing_status=BillingStatus.CANCELLED, amount=Decimal("100000.00"))
    assert post(auth_client, source.bubble_id, "transfer-cc", {"reason": "crédito"}).status_code == 200
    allowed = state not in {BillingStatus.CANCELLING, BillingStatus.CANCELLED}
    before = snapshot(order)

    response = post(auth_client, order.bubble_id, "use-cc", {})

    if allowed:
        assert response.status_code == 200, response.json()
        body = response.json()
        assert Decimal(body["applied"]) == order.amount and Decimal(body["amount_due"]) == 0
        assert Decimal(body["balance"]) == Decimal("100000.00") - order.amount
        order.refresh_from_db()
        assert (order.payment_status, order.paid_via) == (PaymentStatus.PAID, "conta_corrente")
    else:
        assert response.status_code == 409
        assert snapshot(order) == before


def test_use_cc_on_an_unpaid_pf_order_pays_it_and_starts_emission(auth_client):
    order = order_in_state(BillingStatus.AWAITING_PAYMENT, amount=Decimal("300.00"))
    source = OrderFactory(paid=True, billing_status=BillingStatus.CANCELLED, amount=Decimal("200.00"))
    post(auth_client, source.bubble_id, "transfer-cc", {"reason": "crédito"})

    partial = post(auth_client, order.bubble_id, "use-cc", {}).json()
    assert (Decimal(partial["applied"]), Decimal(partial["balance"]), Decimal(partial["amount_due"])) == (200, 0, 100)
    order.refresh_from_db()
    assert (order.payment_status, order.billing_status) == (PaymentStatus.PENDING, BillingStatus.AWAITING_PAYMENT)

    empty = post(auth_client, order.bubble_id, "use-cc", {})
    assert empty.status_code == 409 and "Saldo insuficiente" in empty.json()["error"]["message"]

    source2 = OrderFactory(paid=True, billing_status=BillingStatus.CANCELLED, amount=Decimal("150.00"))
    post(auth_client, source2.bubble_id, "transfer-cc", {"reason": "crédito"})
    done = post(auth_client, order.bubble_id, "use-cc", {}).json()
    assert (Decimal(done["applied"]), Decimal(done["balance"]), Decimal(done["amount_due"])) == (100, 50, 0)
    order.refresh_from_db()
    assert (order.payment_status, order.paid_via, order.billing_status) == (PaymentStatus.PAID, "conta_corrente", BillingStatus.ISSUING)
    assert order.invoices.get().status == BillingStatus.ISSUING


def test_transfer_cc_never_moves_more_than_was_paid(auth_client):
    order = order_in_state(BillingStatus.CANCELLED, paid=True, amount=Decimal("100.00"))
    too_much = post(auth_client, order.bubble_id, "transfer-cc", {"reason": "x", "amount": "100.01"})
    assert too_much.status_code == 400 and "amount" in too_much.json()["error"]["details"]["fields"]
    assert post(auth_client, order.bubble_id, "transfer-cc", {"reason": "x", "amount": "60.00"}).status_code == 200
    rest = post(auth_client, order.bubble_id, "transfer-cc", {"reason": "x"})
    assert Decimal(rest.json()["entry"]["amount"]) == Decimal("40.00")
    again = post(auth_client, order.bubble_id, "transfer-cc", {"reason": "x"})
    assert again.status_code == 409
    assert CustomerAccount.objects.get().balance == Decimal("100.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason_code": 1, "justification": "curta demais"}, "justification"),  # 13 characters
        ({"reason_code": 1, "justification": "0123456789"}, "justification"),
        ({"reason_code": 1, "justification": "x" * 256}, "justification"),
        ({"reason_code": 5, "justification": "Valor cobrado incorreto."}, "reason_code"),
        ({"reason_code": "abc", "justification": "Valor cobrado incorreto."}, "reason_code"),
        ({"justification": "Valor cobrado incorreto."}, "reason_code"),
    ],
)
def test_cancel_nf_input_rules_name_the_field(auth_client, body, field):
    order = order_in_state(BillingStatus.ISSUED)
    before = snapshot(order)
    response = post(auth_client, order.bubble_id, "cancel-nf", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]["fields"]
    assert snapshot(order) == before
    assert ActionLog.objects.filter(order=order, action="nf_cancel", outcome="rejected").count() == 1


def test_cancel_nf_accepts_the_limits_of_the_justification(auth_client):
    for text in ("x" * 15, "y" * 255):
        order = order_in_state(BillingStatus.ISSUED)
        assert post(auth_client, order.bubble_id, "cancel-nf", {"reason_code": 9, "justification": text}).status_code == 202
        invoice = order.invoices.get()
        assert (invoice.cancel_reason_code, invoice.cancel_justification) == (9, text)


def test_operator_is_required(auth_client):
    order = order_in_state(BillingStatus.ON_HOLD)
    response = auth_client.post(f"/v1/orders/{order.bubble_id}/approve-billing-hold", {}, format="json")
    assert response.status_code == 400 and "operator" in response.json()["error"]["details"]["fields"]
    assert ActionLog.objects.filter(order=order, action="billing_hold_approve", outcome="rejected").exists()


def test_unknown_order_is_404_and_logged(auth_client):
    response = post(auth_client, "1671702337369x999999999999999999", "override-day25", {"reason": "x"})
    assert response.status_code == 404
    assert ActionLog.objects.filter(order_bubble_id="1671702337369x999999999999999999", outcome="rejected").exists()


@pytest.mark.parametrize(
    ("group", "action", "state", "body", "expected"),
    [
        (None, "mark-nf-manual", BillingStatus.FAILED, ACTIONS["mark-nf-manual"][0], 403),
        ("Ops", "mark-nf-manual", BillingStatus.FAILED, ACTIONS["mark-nf-manual"][0], 200),
        ("Ops", "cancel-nf", BillingStatus.ISSUED, ACTIONS["cancel-nf"][0], 403),
        ("Ops", "approve-billing-hold", BillingStatus.ON_HOLD, {}, 403),
        ("Ops", "override-day25", BillingStatus.SCHEDULED, ACTIONS["override-day25"][0], 403),
        ("Ops", "use-cc", BillingStatus.SCHEDULED, {}, 403),
        ("Ops", "transfer-cc", BillingStatus.CANCELLED, {"reason": "x"}, 403),
        ("Financeiro", "cancel-nf", BillingStatus.ISSUED, ACTIONS["cancel-nf"][0], 202),
        ("Financeiro", "approve-billing-hold", BillingStatus.ON_HOLD, {}, 200),
        ("Financeiro", "override-day25", BillingStatus.SCHEDULED, ACTIONS["override-day25"][0], 202),
        ("Financeiro", "transfer-cc", BillingStatus.CANCELLED, {"reason": "x"}, 200),
    ],
)
def test_permissions(client_in_group, group, action, state, body, expected):
    client = client_in_group(group)
    order = order_in_state(state, paid=True) if action == "transfer-cc" else order_in_state(state)
    before = snapshot(order)
    response = post(client, order.bubble_id, action, body)
    assert response.status_code == expected, response.json()
    if expected == 403:
        assert response.json()["error"]["code"] == "permission_denied"
        assert snapshot(order) == before
        assert ActionLog.objects.filter(order=order, outcome="rejected").exists()


def test_an_approved_hold_past_its_date_is_due_at_once_not_next_month(auth_client):
    from datetime import timedelta

    from common.dates import today_sp

    order = order_in_state(BillingStatus.ON_HOLD, billing_scheduled_for=today_sp() - timedelta(days=2))
    assert post(auth_client, order.bubble_id, "approve-billing-hold", {}).status_code == 200
    order.refresh_from_db()
    assert order.billing_status == BillingStatus.SCHEDULED
    assert order.billing_scheduled_for == today_sp() - timedelta(days=2)
    assert order.hold_approved_by == f"bubble:{OPERATOR}" and order.hold_reason == ""


def test_customer_account_lists_balance_and_entries(auth_client):
    order = order_in_state(BillingStatus.CANCELLED, paid=True, amount=Decimal("80.00"))
    post(auth_client, order.bubble_id, "transfer-cc", {"reason": "Desistência"})
    response = auth_client.get(f"/v1/customers/{order.customer_bubble_id}/account")
    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == "80.00"
    assert [(e["kind"], e["amount"], e["order_id"]) for e in body["entries"]] == [("TRANSFER_IN", "80.00", order.bubble_id)]
    assert auth_client.get("/v1/customers/1671702337369x000000000000000404/account").status_code == 404


def test_a_repeated_idempotency_key_replays_the_answer_and_cancels_once(auth_client):
    order = order_in_state(BillingStatus.ISSUED)
    body = {"operator": OPERATOR, "reason_code": 1, "justification": "Valor cobrado incorreto."}
    headers = {"HTTP_IDEMPOTENCY_KEY": "6f1c2f4e-cancel-1"}
    first = auth_client.post(f"/v1/orders/{order.bubble_id}/cancel-nf", body, format="json", **headers)
    second = auth_client.post(f"/v1/orders/{order.bubble_id}/cancel-nf", body, format="json", **headers)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    assert ActionLog.objects.filter(order=order, action="nf_cancel").count() == 1


def test_a_malformed_order_id_is_400_and_unknown_fields_are_refused(auth_client):
    assert post(auth_client, "not-a-bubble-id", "override-day25", {"reason": "x"}).status_code == 400
    order = order_in_state(BillingStatus.SCHEDULED)
    response = post(auth_client, order.bubble_id, "override-day25", {"reason": "x", "motivo": "typo"})
    assert response.status_code == 400 and "motivo" in response.json()["error"]["details"]["fields"]
    assert Order.objects.get(pk=order.pk).billing_status == BillingStatus.SCHEDULED


def test_the_order_page_shows_the_invoice(auth_client):
    order = order_in_state(BillingStatus.ISSUED)
    invoice = auth_client.get(f"/v1/orders/{order.bubble_id}").json()["invoice"]
    assert (invoice["status"]["code"], invoice["nf_number"], invoice["nf_url"]) == ("ISSUED", "123", "https://nfse.example.com/123")


@pytest.mark.parametrize("customer_id", ["%00", "abc%00def", "1671702337369x00000000%00", "..", "x" * 80])
def test_a_malformed_customer_id_is_a_400_not_a_500(auth_client, customer_id):
    """Before: GET /v1/customers/%00/account reached PostgreSQL with a NUL byte and answered 500."""
    response = auth_client.get(f"/v1/customers/{customer_id}/account")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    # A NUL byte is refused before any view (the NUL middleware); the other shapes by the view's own check.
    expected = "caractere nulo" if "%00" in customer_id else "ID de cliente inválido"
    assert expected in response.json()["error"]["message"]


@pytest.mark.parametrize("staff", [{"is_superuser": True}, {"group": "Financeiro"}])
def test_staff_outside_the_service_group_cannot_use_the_ops_endpoints(api_client, user_factory, staff):
    """Before: any staff user got a token with their password and acted as "bubble:<anyone>"."""
    from django.contrib.auth.models import Group

    user = user_factory("chefe", is_staff=True, is_superuser=staff.get("is_superuser", False))
    if staff.get("group"):
        user.groups.add(Group.objects.get(name=staff["group"]))
    # /v1/auth/token/ no longer issues staff a token (common/tests/test_auth.py); one minted before that rule is still refused here.
    from rest_framework_simplejwt.tokens import AccessToken

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    order = order_in_state(BillingStatus.ON_HOLD)
    before = snapshot(order)
    response = post(api_client, order.bubble_id, "approve-billing-hold", {"operator": "outra.pessoa@example.com"})
    assert response.status_code == 403
    assert "Integração Bubble" in response.json()["error"]["details"]["reason"]
    assert snapshot(order) == before
    assert api_client.get(f"/v1/customers/{order.customer_bubble_id}/account").status_code == 403
    refusal = ActionLog.objects.get(order=order, outcome="rejected")
    # the claimed operator and, beside it, who really called
    assert refusal.actor == "bubble:outra.pessoa@example.com"
    assert (refusal.auth_user_id, refusal.auth_username, refusal.auth_method) == (user.pk, "chefe", "jwt")
    assert refusal.auth_token_id and len(refusal.auth_token_id) == 32


def test_every_action_log_row_stores_the_authenticated_user_and_token(api_client, user_factory, capsys):
    from django.core.management import call_command

    from common.api.models import ServiceToken

    service = user_factory("bubble-svc")
    call_command("issue_service_token", "bubble-svc", "--days", "30")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {capsys.readouterr().out.strip()}")
    order = order_in_state(BillingStatus.ON_HOLD)
    assert post(api_client, order.bubble_id, "approve-billing-hold", {"operator": "ana@example.com"}).status_code == 200
    row = ActionLog.objects.filter(order=order, outcome="ok").latest("id")
    token = ServiceToken.objects.get(user=service)
    assert row.actor == "bubble:ana@example.com"
    assert (row.auth_user_id, row.auth_username, row.auth_method, row.auth_token_id) == (service.pk, "bubble-svc", "service", token.jti)
