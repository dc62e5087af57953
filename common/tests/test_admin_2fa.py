"""Admin TOTP (django-otp): required for superusers and Financeiro when ADMIN_REQUIRE_2FA.

Before: a password alone (even after 30 wrong tries) opened the admin of a superuser.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

PASSWORD = "s3nha-forte-123"


@pytest.fixture(autouse=True)
def _require_2fa(settings):
    settings.ADMIN_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp slows retries after a wrong code; not under test here


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def login(client, username: str, otp: str = ""):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD, "otp_token": otp})


def enrol(username: str, capsys) -> TOTPDevice:
    # The command shows the URI first; the test reads the secret from it, as the phone would.
    import io
    from unittest import mock

    out = io.StringIO()

    def answer(_prompt: str) -> str:
        secret_device = TOTPDevice.objects.filter(user__username=username, confirmed=False).latest("id")
        return code_for(secret_device)

    with mock.patch("builtins.input", answer):
        call_command("totp_enrol", username, "--no-qr", stdout=out)
    assert re.search(r"otpauth://totp/.+secret=", out.getvalue())
    return TOTPDevice.objects.get(user__username=username, confirmed=True)


def test_the_production_default_is_on_and_the_field_is_on_the_login_page(client):
    from tests.deploy.test_production_settings import realistic_env, show

    assert show(realistic_env(), "settings.ADMIN_REQUIRE_2FA") == "True"
    assert 'name="otp_token"' in client.get("/admin/login/").content.decode()


@pytest.mark.parametrize("kind", ["superuser", "financeiro"])
def test_a_password_alone_is_refused_for_superusers_and_financeiro(client, user_factory, capsys, kind):
    user = user_factory("chefe", is_staff=True, is_superuser=kind == "superuser")
    if kind == "financeiro":
        user.groups.add(Group.objects.get(name="Financeiro"))
    # not enrolled: refused with the way out
    response = login(client, "chefe")
    assert response.status_code == 200 and "ainda não tem um autenticador cadastrado" in response.content.decode()
    device = enrol("chefe", capsys)
    assert login(client, "chefe").status_code == 200  # no code
    assert login(client, "chefe", "000000" if code_for(device) != "000000" else "111111").status_code == 200  # wrong code
    assert "_auth_user_id" not in client.session
    device.refresh_from_db()
    ok = login(client, "chefe", code_for(device, offset=1))  # the enrolment used this step's code; a code is never reused
    assert ok.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_session_without_the_second_factor_has_no_admin_access(client, user_factory):
    """A session made some other way (force_login, a session from before the setting) is not verified."""
    client.force_login(user_factory("chefe", is_staff=True, is_superuser=True))
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_ops_staff_are_not_required_to_use_a_code(client, user_factory):
    user = user_factory("ops-ana", is_staff=True)
    user.groups.add(Group.objects.get(name="Ops"))
    assert login(client, "ops-ana").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_with_the_setting_off_a_password_is_enough(client, user_factory, settings):
    settings.ADMIN_REQUIRE_2FA = False
    user_factory("chefe", is_staff=True, is_superuser=True)
    assert login(client, "chefe").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_enrolment_keeps_nothing_when_the_code_is_wrong(user_factory):
    user_factory("chefe", is_staff=True, is_superuser=True)
    with pytest.raises(CommandError, match="Código incorreto"):
        call_command("totp_enrol", "chefe", "--no-qr", "--code", "abc")
    assert not TOTPDevice.objects.exists()
