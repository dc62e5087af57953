"""The ops-action catalog is the one description of each action: what it says about state,
permission, input and log name is what the API, the services and the admin actually do."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import resolve
from django.utils import timezone

from backoffice.action_labels import action_label
from backoffice.actions import BY_NAME as ADMIN_ACTIONS
from backoffice.views import FORM_FIELD
from billing.models import CustomerAccount
from billing.ops_actions import OPS_ACTIONS, RETRY, OpsAction
from billing.permissions import PERMISSION_LABELS
from billing.services.actions import Caller
from billing.tests.factories import OrderFactory, order_in_state
from common.dates import today_sp
from integrations.bubble.models import BubbleWriteback
from orders.models import ActionLog
from orders.selectors import order_retry_target
from orders.statuses import BillingStatus, PaymentStatus, SyncStatus

pytestmark = pytest.mark.django_db

STATES = ["", *BillingStatus.values]
BODIES = {
    "retry": {},
    "cancel-nf": {"reason_code": 1, "justification": "Valor cobrado incorreto."},
    "mark-nf-manual": {"nf_number": "2026/881", "issued_at": today_sp().isoformat()},  # from the order's creation (today)
    "approve-billing-hold": {},
    "override-day25": {"reason": "Cliente pediu a nota hoje"},
    "transfer-cc": {"reason": "Pedido desistido"},
    "use-cc": {},
}
SERVICE_ARGS = {
    "cancel-nf": {"reason_code": 1, "justification": "Valor cobrado incorreto."},
    "mark-nf-manual": {"nf_number": "1", "issued_on": None},
    "approve-billing-hold": {},
    "override-day25": {"reason": "x"},
    "transfer-cc": {"reason": "x"},
    "use-cc": {},
}
ROOT = Path(__file__).resolve().parents[2]  # the repository


def _input_names(action: OpsAction) -> dict[str, bool]:
    """The catalog's input as {name: required}."""
    return {name.rstrip("?"): not name.endswith("?") for name in action.inputs}


@pytest.mark.parametrize("payment", [PaymentStatus.PENDING, PaymentStatus.PAID])
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", OPS_ACTIONS, ids=lambda a: a.name)
def test_it_accepts_an_action_through_the_api_exactly_when_the_catalog_allows_it(auth_client, action, state, payment):
    paid = {"payment_status": payment, "amount_paid": Decimal("1500.00") if payment == PaymentStatus.PAID else Decimal("0")}
    order = order_in_state(state, **paid)
    # A balance to use, so use-cc is refused only by the state rule.
    CustomerAccount.objects.create(customer_bubble_id=order.customer_bubble_id, balance=Decimal("100000.00"))

    offered = action.allowed(order)  # before: the rule reads amounts the action changes (what is left to transfer)
    response = auth_client.post(f"/v1/orders/{order.bubble_id}/{action.name}", {"operator": "ana@blu.example.com", **BODIES[action.name]},
                                format="json")

    assert (200 <= response.status_code < 300) == offered, response.json()
    assert ActionLog.objects.filter(order=order, action=action.log_name).exists()


@pytest.mark.parametrize(
    ("setup", "target"),
    [
        ({"sync_status": SyncStatus.FAILED, "billing_status": ""}, "sync"),
        ({"billing_status": BillingStatus.FAILED}, "billing"),
        ({}, "writebacks"),
        ({}, None),
    ],
)
def test_it_offers_retry_exactly_when_the_retry_service_accepts_it(auth_client, setup, target):
    fields = dict(setup)
    order = order_in_state(fields.pop("billing_status", BillingStatus.SCHEDULED), **fields)
    if target == "writebacks":
        BubbleWriteback.objects.create(thing=BubbleWriteback.Thing.ORDER, bubble_id=order.bubble_id, fields={"status": "x"},
                                       status=BubbleWriteback.Status.DEAD, order_id=order.pk, give_up_at=timezone.now())
    assert order_retry_target(order) == target
    offered = RETRY.allowed(order)

    response = auth_client.post(f"/v1/orders/{order.bubble_id}/retry", {"operator": "ana@blu.example.com"}, format="json")

    assert offered == (target is not None) == (response.status_code == 202), response.json()


@pytest.mark.parametrize("action", [a for a in OPS_ACTIONS if a is not RETRY], ids=lambda a: a.name)
def test_it_refuses_a_service_call_without_the_catalogs_permission_and_logs_it_under_the_catalogs_name(action, user_factory):
    order = OrderFactory()
    caller = Caller(actor="admin:visitante", user=user_factory("visitante", is_staff=True))

    with pytest.raises(PermissionDenied, match=f"Você não tem permissão para {PERMISSION_LABELS[action.permission]}"):
        action.service(order_bubble_id=order.bubble_id, caller=caller, **SERVICE_ARGS[action.name])

    assert ActionLog.objects.filter(order=order, outcome="rejected").get().action == action.log_name


@pytest.mark.parametrize("action", OPS_ACTIONS, ids=lambda a: a.name)
def test_it_asks_the_same_input_in_the_api_and_the_admin_as_the_catalog_says(action):
    view = resolve(f"/v1/orders/1671702337369x488321592367300001/{action.name}").func.view_class
    api = {name: field.required for name, field in view.InputSerializer().fields.items() if name != "operator"}
    form_class = ADMIN_ACTIONS[action.name].form
    admin = {} if form_class is None else {
        next((api_name for api_name, form_name in FORM_FIELD.items() if form_name == name), name): field.required
        for name, field in form_class().fields.items()
    }

    assert (view.required_permission, view.action_name) == (action.permission, action.log_name)
    assert api == _input_names(action)
    # The admin may leave optional API fields out (retry needs none; approve takes a note) but asks
    # for every required one and nothing the service does not take.
    assert set(admin) <= set(api) and {n for n, req in api.items() if req} <= {n for n, req in admin.items() if req}


@pytest.mark.parametrize("action", OPS_ACTIONS, ids=lambda a: a.name)
def test_it_labels_the_action_log_and_documents_each_action_as_the_catalog_names_it(action):
    docs = "\n".join(path.read_text() for path in (ROOT / "docs").glob("**/*.md"))

    assert action_label(action.log_name) == action.label
    assert action.label in docs
