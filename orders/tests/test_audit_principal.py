"""The action log names who really acted (authenticated user and token) beside the claimed operator."""

from __future__ import annotations

import pytest

from billing.tests.factories import order_in_state
from orders.models import ActionLog
from orders.services.action_log import action_log_record
from orders.statuses import BillingStatus

pytestmark = pytest.mark.django_db


def test_the_admin_shows_the_authenticated_user_and_token_beside_the_claimed_operator(auth_client, client, user_factory):
    order = order_in_state(BillingStatus.ON_HOLD)
    response = auth_client.post(f"/v1/orders/{order.bubble_id}/approve-billing-hold", {"operator": "ana@example.com"}, format="json")
    assert response.status_code == 200
    row = ActionLog.objects.filter(order=order).latest("id")
    assert (row.actor, row.auth_username, row.auth_method) == ("bubble:ana@example.com", "bubble", "jwt")

    client.force_login(user_factory("auditora", is_staff=True, is_superuser=True))
    page = client.get("/admin/orders/actionlog/").content.decode()
    assert "autenticado como" in page.lower()
    assert f"bubble (JWT · jti {row.auth_token_id[:8]}…)" in page
    detail = client.get(f"/admin/orders/actionlog/{row.pk}/change/").content.decode()
    assert row.auth_token_id in detail and "login autenticado" in detail.lower()
    # searchable by the token id, to find everything one (leaked) token did
    assert row.auth_token_id[:8] in client.get(f"/admin/orders/actionlog/?q={row.auth_token_id}").content.decode()


def test_an_admin_session_is_recorded_as_such_and_the_system_as_nobody(client, user_factory):
    from django.test import RequestFactory

    from common.principal import PrincipalMiddleware

    staff = user_factory("ops-ana", is_staff=True)
    request = RequestFactory().post("/admin/")
    request.user = staff

    def view(_request):
        action_log_record(actor="ops-ana", action="order_retry", outcome="ok", order_bubble_id="1671702337369x1")
        from django.http import HttpResponse

        return HttpResponse()

    PrincipalMiddleware(view)(request)
    row = ActionLog.objects.latest("id")
    assert (row.auth_user_id, row.auth_username, row.auth_method, row.auth_token_id) == (staff.pk, "ops-ana", "session", "")
    system = action_log_record(actor="system:test", action="order_retry", outcome="ok", order_bubble_id="1671702337369x1")
    assert (system.auth_user_id, system.auth_method) == (None, "")


def test_the_previous_release_can_still_write_the_log_during_a_deploy():
    """Old workers insert rows without the new columns until they are replaced (database defaults)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO orders_actionlog (created_at, actor, action, order_bubble_id, payload, outcome, message) "
                       "VALUES (now(), 'system:old', 'retry', '', '{}', 'ok', '') RETURNING id")
        row = ActionLog.objects.get(pk=cursor.fetchone()[0])
    assert (row.auth_user_id, row.auth_username, row.auth_method, row.auth_token_id) == (None, "", "", "")
