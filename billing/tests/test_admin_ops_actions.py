"""The drift "resolved" and Pagar.me "reprocess" admin actions: their own permission and an action-log entry.

Before: each needed only "view" and left no trace in the action log.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group, Permission

from billing.models import ReconciliationDrift, ReconciliationRun
from billing.tests.factories import order_in_state
from integrations.pagarme.webhooks.models import PagarmeEvent
from orders.models import ActionLog
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def drift():
    run = ReconciliationRun.objects.create(date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 7))
    order = order_in_state(BillingStatus.ISSUED)
    return ReconciliationDrift.objects.create(run=run, kind="NUMBER_MISMATCH", order=order, c_cod_int_os=order.bubble_id)


@pytest.fixture
def unmatched_event():
    return PagarmeEvent.objects.create(event_id="hook_1", type="charge.paid", payload={}, status=PagarmeEvent.Status.UNMATCHED,
                                       bubble_order_id="1671702337369x488321592367399999")


def viewer(client, user_factory, *perms: str):
    """A staff user who may view drifts and events (the old bar), plus the given permissions."""
    user = user_factory("viewer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_reconciliationdrift", "view_pagarmeevent", *perms]))
    client.force_login(user)
    return client


def test_view_permission_alone_cannot_resolve_a_drift(client, user_factory, drift):
    client = viewer(client, user_factory)
    page = client.get("/admin/billing/reconciliationdrift/").content.decode()
    assert 'value="resolve"' not in page
    client.post("/admin/billing/reconciliationdrift/", {"action": "resolve", "_selected_action": [drift.pk]})
    drift.refresh_from_db()
    assert drift.resolved_at is None
    assert not ActionLog.objects.filter(action="reconciliation_drift_resolve").exists()


def test_resolving_a_drift_needs_its_permission_and_is_logged(client, user_factory, drift):
    client = viewer(client, user_factory, "resolve_drift")
    assert 'value="resolve"' in client.get("/admin/billing/reconciliationdrift/").content.decode()
    response = client.post("/admin/billing/reconciliationdrift/", {"action": "resolve", "_selected_action": [drift.pk]}, follow=True)
    assert response.status_code == 200
    drift.refresh_from_db()
    assert drift.resolved_at is not None and drift.resolved_by == "admin:viewer"
    row = ActionLog.objects.get(action="reconciliation_drift_resolve")
    assert (row.actor, row.order_id, row.outcome, row.auth_username, row.auth_method) == ("admin:viewer", drift.order_id, "ok", "viewer",
                                                                                          "session")
    assert row.payload["drift_id"] == drift.pk


def test_view_permission_alone_cannot_reprocess_pagarme_events(client, user_factory, unmatched_event):
    client = viewer(client, user_factory)
    client.post("/admin/pagarme/pagarmeevent/", {"action": "reprocess", "_selected_action": [unmatched_event.pk]})
    unmatched_event.refresh_from_db()
    assert unmatched_event.status == PagarmeEvent.Status.UNMATCHED
    assert not ActionLog.objects.filter(action="pagarme_event_reprocess").exists()


def test_reprocessing_needs_its_permission_and_is_logged(client, user_factory, unmatched_event, django_capture_on_commit_callbacks):
    client = viewer(client, user_factory, "reprocess_pagarmeevent")
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/admin/pagarme/pagarmeevent/", {"action": "reprocess", "_selected_action": [unmatched_event.pk]}, follow=True)
    unmatched_event.refresh_from_db()
    assert unmatched_event.status == PagarmeEvent.Status.RECEIVED
    row = ActionLog.objects.get(action="pagarme_event_reprocess")
    assert row.actor == "admin:viewer" and row.order_bubble_id == unmatched_event.bubble_order_id
    assert row.payload == {"pagarme_event_id": unmatched_event.pk, "event_id": "hook_1"}


def test_ops_and_financeiro_have_both_permissions():
    for group in ("Ops", "Financeiro"):
        codenames = set(Group.objects.get(name=group).permissions.values_list("codename", flat=True))
        assert {"resolve_drift", "reprocess_pagarmeevent"} <= codenames, group


def test_reprocessing_omie_webhooks_needs_its_permission_and_is_logged(client, user_factory):
    from integrations.omie.webhooks.models import OmieWebhookEvent

    event = OmieWebhookEvent.objects.create(message_id="omie-1", topic="NFSe.NotaAutorizada", payload={},
                                            status=OmieWebhookEvent.Status.UNMATCHED, c_cod_int_os="1671702337369x488321592367399999")
    user = user_factory("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_omiewebhookevent"))
    client.force_login(user)
    assert 'value="reprocess"' not in client.get("/admin/omie/omiewebhookevent/").content.decode()
    client.post("/admin/omie/omiewebhookevent/", {"action": "reprocess", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.status == OmieWebhookEvent.Status.UNMATCHED and not ActionLog.objects.filter(action="omie_webhook_reprocess").exists()

    user.user_permissions.add(Permission.objects.get(codename="reprocess_omiewebhookevent"))
    client.post("/admin/omie/omiewebhookevent/", {"action": "reprocess", "_selected_action": [event.pk]}, follow=True)
    event.refresh_from_db()
    row = ActionLog.objects.get(action="omie_webhook_reprocess")
    assert event.status == OmieWebhookEvent.Status.RECEIVED
    assert (row.actor, row.order_bubble_id, row.auth_username) == ("admin:viewer", event.c_cod_int_os, "viewer")
