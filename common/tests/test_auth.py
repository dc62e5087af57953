import pytest
from django.core.management import call_command

from common.api.auth import service_group_add
from common.api.models import ServiceToken
from common.api.tokens import service_token_revoke

pytestmark = pytest.mark.django_db


def test_token_obtain_refresh_and_blacklist(api_client, user_factory):
    service_group_add(user_factory("alice", password="s3nha-muito-forte"))
    obtained = api_client.post("/v1/auth/token/", {"username": "alice", "password": "s3nha-muito-forte"}, format="json")
    assert obtained.status_code == 200
    access, refresh = obtained.json()["access"], obtained.json()["refresh"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get("/v1/schema/").status_code == 200
    api_client.credentials()

    refreshed = api_client.post("/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert refreshed.status_code == 200
    new_refresh = refreshed.json()["refresh"]

    # Rotation blacklists the old refresh token at once.
    reused = api_client.post("/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "invalid_token"

    assert api_client.post("/v1/auth/token/blacklist/", {"refresh": new_refresh}, format="json").status_code == 200
    after_logout = api_client.post("/v1/auth/token/refresh/", {"refresh": new_refresh}, format="json")
    assert after_logout.status_code == 401


def test_wrong_password_gets_401_in_the_envelope(api_client, user_factory):
    user_factory("alice", password="s3nha-muito-forte")
    response = api_client.post("/v1/auth/token/", {"username": "alice", "password": "errada"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"invalid_token", "not_authenticated"}


def test_service_token_works_until_revoked_then_401_invalid_token(api_client, user_factory, capsys):
    user_factory("bubble")
    call_command("issue_service_token", "bubble", "--days", "365")
    token = capsys.readouterr().out.strip()
    row = ServiceToken.objects.get()
    assert (row.expires_at - row.created_at).days in {364, 365}

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/v1/schema/").status_code == 200

    assert service_token_revoke(token=row, by="admin") is True
    response = api_client.get("/v1/schema/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert service_token_revoke(token=row, by="admin") is False


def test_service_token_whose_row_is_unknown_is_refused(api_client, user_factory, capsys):
    user_factory("bubble")
    call_command("issue_service_token", "bubble", "--days", "30")
    token = capsys.readouterr().out.strip()
    ServiceToken.objects.all().delete()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/v1/schema/").status_code == 401


def test_service_token_is_revocable_from_the_admin(client, user_factory, capsys):
    user_factory("bubble")
    call_command("issue_service_token", "bubble", "--days", "30")
    capsys.readouterr()
    admin = user_factory("chefe", is_staff=True, is_superuser=True)
    client.force_login(admin)
    row = ServiceToken.objects.get()
    response = client.post(
        "/admin/api/servicetoken/", {"action": "revoke", "_selected_action": [row.pk]}, follow=True
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.revoked_at is not None and row.revoked_by == "chefe"


def test_a_service_token_request_reads_its_row_and_user_in_one_query(api_client, user_factory, capsys):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user_factory("bubble", is_superuser=True, is_staff=True)
    call_command("issue_service_token", "bubble", "--days", "30")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {capsys.readouterr().out.strip()}")
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/v1/orders/1671702337369x488321592367327900")
    assert response.status_code == 404  # authenticated and allowed; the order does not exist
    sqls = [q["sql"] for q in queries.captured_queries]
    auth = [sql for sql in sqls if ("auth_user" in sql and "auth_user_groups" not in sql) or "integrations_servicetoken" in sql]
    assert len(auth) == 1 and "JOIN" in auth[0]
    # plus the one membership check of the ops endpoints (Integração Bubble)
    assert len([sql for sql in sqls if "auth_user_groups" in sql]) == 1


def test_a_service_token_of_a_deactivated_user_is_refused(api_client, user_factory, capsys):
    user = user_factory("bubble", is_superuser=True)
    call_command("issue_service_token", "bubble", "--days", "30")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {capsys.readouterr().out.strip()}")
    user.is_active = False
    user.save()
    assert api_client.get("/v1/orders/1671702337369x488321592367327900").status_code == 401


def test_a_service_token_whose_row_names_another_user_is_refused(api_client, user_factory, capsys):
    user_factory("bubble", is_superuser=True)
    call_command("issue_service_token", "bubble", "--days", "30")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {capsys.readouterr().out.strip()}")
    ServiceToken.objects.update(user=user_factory("other", is_superuser=True))
    assert api_client.get("/v1/orders/1671702337369x488321592367327900").status_code == 401


def test_a_password_change_revokes_the_tokens_issued_before_it(api_client, user_factory):
    """Before (CHECK_REVOKE_TOKEN off): the old refresh token kept minting access tokens after a password change."""
    user = service_group_add(user_factory("alice", password="s3nha-muito-forte"))
    obtained = api_client.post("/v1/auth/token/", {"username": "alice", "password": "s3nha-muito-forte"}, format="json").json()
    user.set_password("outra-s3nha-muito-forte")
    user.save()

    refreshed = api_client.post("/v1/auth/token/refresh/", {"refresh": obtained["refresh"]}, format="json")
    assert refreshed.status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {obtained['access']}")
    assert api_client.get("/v1/schema/").status_code == 401

    api_client.credentials()
    fresh = api_client.post("/v1/auth/token/", {"username": "alice", "password": "outra-s3nha-muito-forte"}, format="json").json()
    assert api_client.post("/v1/auth/token/refresh/", {"refresh": fresh["refresh"]}, format="json").status_code == 200


def test_a_password_change_of_the_service_user_revokes_its_service_tokens(api_client, user_factory, capsys):
    user = user_factory("bubble")
    call_command("issue_service_token", "bubble", "--days", "30")
    token = capsys.readouterr().out.strip()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/v1/schema/").status_code == 200
    user.set_password("nova-s3nha-do-servico")
    user.save()
    assert api_client.get("/v1/schema/").status_code == 401


def token_post(api_client, username: str, password: str = "s3nha-forte-123"):
    return api_client.post("/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR="203.0.113.7")


@pytest.mark.parametrize("kind", ["superuser with TOTP", "Financeiro", "Ops", "user without a group"])
def test_the_token_endpoint_issues_tokens_only_to_the_service_group(api_client, user_factory, kind):
    """Before: a superuser enrolled in TOTP got a token pair with the password alone."""
    from django.contrib.auth.models import Group
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from common.twofa.services import recovery_codes_issue

    user = user_factory("chefe", is_staff=kind != "user without a group", is_superuser=kind.startswith("superuser"))
    if kind in {"Financeiro", "Ops"}:
        user.groups.add(Group.objects.get(name=kind))
    if kind.startswith("superuser"):
        recovery_codes_issue(user=user)
    refused = token_post(api_client, "chefe")
    wrong_password = token_post(api_client, "chefe", "errada")
    assert refused.status_code == wrong_password.status_code == 401
    assert refused.json() == wrong_password.json()  # the endpoint never confirms a staff password
    assert "access" not in refused.content.decode() and not OutstandingToken.objects.exists()

    service_group_add(user)
    assert token_post(api_client, "chefe").status_code == 200


def test_a_refused_staff_password_counts_in_the_lockout(api_client, user_factory):
    from axes.models import AccessAttempt

    user_factory("chefe", is_staff=True, is_superuser=True)
    assert [token_post(api_client, "chefe").status_code for _ in range(5)] == [401] * 5
    assert AccessAttempt.objects.filter(username="chefe", failures_since_start__gte=5).exists()


def test_a_refresh_token_of_a_user_outside_the_service_group_is_refused(api_client, user_factory):
    """A refresh token issued before the rule (or before the user left the group) mints nothing."""
    from rest_framework_simplejwt.tokens import RefreshToken

    user = user_factory("chefe", is_staff=True, is_superuser=True)
    response = api_client.post("/v1/auth/token/refresh/", {"refresh": str(RefreshToken.for_user(user))}, format="json")
    assert response.status_code == 401 and "access" not in response.json()
    service_group_add(user)
    assert api_client.post("/v1/auth/token/refresh/", {"refresh": str(RefreshToken.for_user(user))}, format="json").status_code == 200
