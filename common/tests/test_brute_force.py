"""Brute force: the token endpoints are rate limited per address, every token has a general rate, and
django-axes locks a username+address out after AXES_FAILURE_LIMIT wrong passwords (admin and API).

Before: 40 bad passwords on /v1/auth/token/ all got 401; 30 bad admin logins, then the right one was accepted.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command

from common.api.auth import service_group_add

pytestmark = pytest.mark.django_db

PASSWORD = "s3nha-forte-123"


def token_post(api_client, username: str, password: str, ip: str = "203.0.113.7"):
    return api_client.post("/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip)


def test_the_token_endpoint_is_rate_limited_per_address(api_client, user_factory, settings):
    settings.AXES_FAILURE_LIMIT = 1000  # isolate the throttle from the lockout
    service_group_add(user_factory("alice"))
    statuses = [token_post(api_client, "alice", f"errada-{n}").status_code for n in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    response = token_post(api_client, "alice", PASSWORD)
    assert response.status_code == 429 and response.json()["error"]["code"] == "throttled"
    assert "Retry-After" in response
    # another address is not affected
    assert token_post(api_client, "alice", PASSWORD, ip="198.51.100.9").status_code == 200
    # refresh shares the scope
    for _ in range(11):
        last = api_client.post("/v1/auth/token/refresh/", {"refresh": "x"}, format="json", REMOTE_ADDR="192.0.2.1")
    assert last.status_code == 429


def test_every_token_has_a_general_rate(api_client, user_factory):
    from rest_framework.settings import api_settings

    from common.api.throttles import TokenRateThrottle

    TokenRateThrottle.THROTTLE_RATES = {"auth": "10/min", "token": "5/min"}
    try:
        user_factory("bubble")
        call_command("issue_service_token", "bubble", "--days", "1")
        first = api_client.post("/v1/auth/token/", {"username": "bubble", "password": PASSWORD}, format="json").json()["access"]
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {first}")
        statuses = [api_client.get("/v1/orders/1671702337369x488321592367327900").status_code for _ in range(7)]
        assert statuses[:5] == [404] * 5 and statuses[5:] == [429, 429]
        # the limit is per token: another token of the same user has its own budget
        second = api_client.post("/v1/auth/token/", {"username": "bubble", "password": PASSWORD}, format="json").json()["access"]
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {second}")
        assert api_client.get("/v1/orders/1671702337369x488321592367327900").status_code == 404
    finally:
        TokenRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


def test_the_api_locks_a_username_and_address_out_after_the_failure_limit(api_client, user_factory, settings):
    service_group_add(user_factory("alice"))
    assert [token_post(api_client, "alice", "errada").status_code for _ in range(5)] == [401] * 5
    locked = token_post(api_client, "alice", PASSWORD)
    assert locked.status_code in {401, 403, 429}  # refused even with the right password
    assert "access" not in locked.content.decode()
    assert AccessAttempt.objects.filter(username="alice", ip_address="203.0.113.7", failures_since_start__gte=5).exists()
    # the same user from another address is not locked (per user+address)
    assert token_post(api_client, "alice", PASSWORD, ip="198.51.100.9").status_code == 200


def test_the_admin_locks_out_after_the_failure_limit_and_a_superuser_can_unlock(client, user_factory):
    user_factory("alice", is_staff=True)
    statuses = [client.post("/admin/login/?next=/admin/", {"username": "alice", "password": "errada"}, REMOTE_ADDR="203.0.113.7")
                .status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the form again, then the lockout at the 5th failure
    locked = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session

    # The runbook's unlock: `manage.py axes_reset_username alice` (or delete the attempt in the admin).
    call_command("axes_reset_username", "alice")
    ok = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert ok.status_code == 302 and "_auth_user_id" in client.session


def test_a_client_supplied_forwarded_for_is_ignored_without_the_proxy_setting(api_client, user_factory, settings):
    """Without nginx in front, rotating X-Forwarded-For must not buy new attempts."""
    settings.TRUSTED_PROXIES = []
    service_group_add(user_factory("alice"))
    for n in range(5):
        api_client.post("/v1/auth/token/", {"username": "alice", "password": "errada"}, format="json",
                        REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert token_post(api_client, "alice", PASSWORD).status_code != 200
