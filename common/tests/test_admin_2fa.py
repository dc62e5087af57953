"""Admin TOTP (django-otp): required for every staff user when ADMIN_REQUIRE_2FA (production).

Before: an ``Ops`` user ran "Registrar NF manual" with a password only; a wrong code and a wrong
password gave different messages; wrong codes never counted towards the lockout.
"""

from __future__ import annotations

import hashlib
import io
import re
from base64 import b32decode
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.admin_site import LOGIN_FAILED
from common.twofa.models import RecoveryCode, RecoveryCodeDevice
from common.twofa.services import recovery_codes_issue

pytestmark = pytest.mark.django_db

PASSWORD = "s3nha-forte-123"
ENROL_URL = "/admin/2fa/cadastrar/"


@pytest.fixture(autouse=True)
def _require_2fa(settings):
    settings.ADMIN_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp slows retries after a wrong code; not under test here


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def code_from_secret(secret: str, offset: int = 0) -> str:
    """What the phone shows after the person typed the page's secret."""
    compact = secret.replace(" ", "")
    key = b32decode(compact + "=" * (-len(compact) % 8))
    return f"{totp(key, step=30, t0=0, digits=6, drift=offset):06d}"


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def login(client, username: str, otp: str = "", password: str = PASSWORD, **extra):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password, "otp_token": otp}, **extra)


def errors_of(response) -> list[str]:
    return re.findall(r'<p class="errornote">\s*(.*?)\s*</p>', response.content.decode(), re.S)


def staff(user_factory, username: str, kind: str):
    user = user_factory(username, is_staff=True, is_superuser=kind == "superuser")
    if kind in {"Ops", "Financeiro"}:
        user.groups.add(Group.objects.get(name=kind))
    return user


def enrol_in_browserless_admin(client, username: str) -> tuple[str, list[str]]:
    """Password, then the enrolment page: returns the secret shown and the recovery codes shown."""
    response = login(client, username)
    assert response.status_code == 302 and response["Location"] == ENROL_URL
    page = client.get(ENROL_URL).content.decode()
    secret = re.search(r'id="twofa-secret">([A-Z2-7 ]+)<', page).group(1)
    done = client.post(ENROL_URL, {"otp_token": code_from_secret(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", done.content.decode())
    client.logout()
    return secret, codes


def enrol_with_command(username: str) -> TOTPDevice:
    # The command shows the URI first; the test reads the secret from the unconfirmed device, as the phone would.
    out = io.StringIO()

    def answer(_prompt: str) -> str:
        return code_for(TOTPDevice.objects.filter(user__username=username, confirmed=False).latest("id"))

    with mock.patch("builtins.input", answer):
        call_command("totp_enrol", username, "--no-qr", stdout=out)
    assert re.search(r"otpauth://totp/.+secret=", out.getvalue())
    assert len(re.findall(r"^  [a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$", out.getvalue(), re.M)) == 10
    return TOTPDevice.objects.get(user__username=username, confirmed=True)


def test_the_production_default_is_on_and_the_field_is_on_the_login_page(client):
    from tests.deploy.test_production_settings import realistic_env, show

    assert show(realistic_env(), "settings.ADMIN_REQUIRE_2FA") == "True"
    html = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in html and "Obrigatório para toda a equipe" in html
    assert "twofa-off-notice" not in html


def test_with_the_setting_off_the_login_page_says_so_and_a_password_is_enough(client, user_factory, settings):
    settings.ADMIN_REQUIRE_2FA = False
    html = client.get("/admin/login/").content.decode()
    assert "Verificação em duas etapas desligada neste ambiente" in html and "usuário e senha bastam" in html
    user_factory("chefe", is_staff=True, is_superuser=True)
    assert login(client, "chefe").status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("kind", ["Ops", "Financeiro", "superuser", "staff without a group"])
def test_every_staff_user_is_sent_to_enrolment_and_gets_in_only_after_a_code(client, user_factory, kind):
    user = staff(user_factory, "pessoa", kind)
    response = login(client, "pessoa")
    assert response.status_code == 302 and response["Location"] == ENROL_URL
    assert "_auth_user_id" not in client.session  # the password alone logs nobody in
    assert client.get("/admin/").status_code == 302

    page = client.get(ENROL_URL).content.decode()
    assert "<svg" in page and "otpauth://totp/" in page
    secret = re.search(r'id="twofa-secret">([A-Z2-7 ]+)<', page).group(1)
    assert client.get(ENROL_URL).content.decode().count(secret) == 1  # a reload shows the same secret
    refused = client.post(ENROL_URL, {"otp_token": wrong(code_from_secret(secret))})
    assert "Código incorreto" in refused.content.decode() and "_auth_user_id" not in client.session

    done = client.post(ENROL_URL, {"otp_token": code_from_secret(secret)})
    codes = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", done.content.decode())
    assert len(set(codes)) == 10
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/admin/").status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed


@pytest.mark.parametrize("kind", ["Ops", "Financeiro", "superuser"])
def test_once_enrolled_a_password_alone_is_refused(client, user_factory, kind):
    staff(user_factory, "pessoa", kind)
    secret, _ = enrol_in_browserless_admin(client, "pessoa")
    assert login(client, "pessoa").status_code == 200  # no code
    assert login(client, "pessoa", wrong(code_from_secret(secret, 1))).status_code == 200
    assert "_auth_user_id" not in client.session
    ok = login(client, "pessoa", code_from_secret(secret, 1))  # the enrolment used this step's code; a code is never reused
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_recovery_codes_are_stored_hashed_and_each_works_once(client, user_factory):
    staff(user_factory, "ana", "Ops")
    _, codes = enrol_in_browserless_admin(client, "ana")
    stored = set(RecoveryCode.objects.values_list("digest", flat=True))
    assert stored == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    assert not any(code in digest or code.replace("-", "") in digest for code in codes for digest in stored)

    first = login(client, "ana", codes[3].upper().replace("-", " "))  # typed from paper: spaces, capitals
    assert first.status_code == 302
    assert "restam 9" in client.get("/admin/").content.decode()
    client.logout()
    again = login(client, "ana", codes[3])
    assert again.status_code == 200 and errors_of(again) == [LOGIN_FAILED]
    assert login(client, "ana", codes[4]).status_code == 302


def test_a_recovery_code_is_used_up_by_exactly_one_of_two_logins(user_factory):
    user = user_factory("ana", is_staff=True)
    codes = recovery_codes_issue(user=user)
    device = RecoveryCodeDevice.objects.get(user=user)
    assert [device.verify_token(codes[0]), device.verify_token(codes[0])] == [True, False]
    assert not device.verify_token("123456") and device.remaining() == 9


def test_wrong_password_wrong_code_missing_code_and_unknown_user_give_one_message(client, user_factory):
    staff(user_factory, "ana", "Ops")
    secret, _ = enrol_in_browserless_admin(client, "ana")
    user_factory("cliente", is_staff=False)  # not staff: the same answer
    answers = [
        login(client, "ana", code_from_secret(secret, 1), password="errada"),
        login(client, "ana", wrong(code_from_secret(secret, 1))),
        login(client, "ana", ""),
        login(client, "ninguem", "123456"),
        login(client, "cliente", ""),
    ]
    assert [r.status_code for r in answers] == [200] * 5
    assert [errors_of(r) for r in answers] == [[LOGIN_FAILED]] * 5
    for response in answers:
        html = response.content.decode()
        assert "autenticador cadastrado" not in html and "Código de verificação inválido" not in html


def test_wrong_codes_count_in_the_lockout(client, user_factory):
    staff(user_factory, "ana", "Ops")
    secret, _ = enrol_in_browserless_admin(client, "ana")
    bad = wrong(code_from_secret(secret, 1))
    statuses = [login(client, "ana", bad, REMOTE_ADDR="203.0.113.7").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # right password every time: only the code was wrong
    assert AccessAttempt.objects.filter(username="ana", ip_address="203.0.113.7", failures_since_start__gte=5).exists()
    locked = login(client, "ana", code_from_secret(secret, 1), REMOTE_ADDR="203.0.113.7")
    assert locked.status_code == 429 and "_auth_user_id" not in client.session


def test_a_session_without_the_second_factor_has_no_admin_access(client, user_factory):
    """A session made some other way (force_login, a session from before the setting) is not verified."""
    client.force_login(staff(user_factory, "ana", "Ops"))
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_enrolment_page_needs_the_password_first_and_expires(client, user_factory, monkeypatch):
    assert client.get(ENROL_URL)["Location"].startswith("/admin/login/")
    staff(user_factory, "ana", "Ops")
    login(client, "ana")
    assert client.get(ENROL_URL).status_code == 200
    import common.twofa.views as views

    monkeypatch.setattr(views, "ENROLMENT_WINDOW_SECONDS", -1)
    assert client.get(ENROL_URL)["Location"].startswith("/admin/login/")
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_an_enrolled_user_cannot_be_re_enrolled_through_a_pending_session(client, user_factory):
    """Someone with the password of an enrolled user never reaches the QR page (it would replace the phone)."""
    staff(user_factory, "ana", "Ops")
    enrol_in_browserless_admin(client, "ana")
    assert login(client, "ana").status_code == 200
    assert client.get(ENROL_URL)["Location"].startswith("/admin/login/")


def test_ops_reset_a_lost_phone_and_the_next_login_enrols_again(client, user_factory):
    user = staff(user_factory, "ana", "Ops")
    old_secret, old_codes = enrol_in_browserless_admin(client, "ana")
    out = io.StringIO()
    call_command("twofa_reset", "ana", stdout=out)
    assert "apagada" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=user).exists() and not RecoveryCode.objects.exists()
    assert login(client, "ana", old_codes[0])["Location"] == ENROL_URL  # the old codes open nothing: enrol again
    new_secret, _ = enrol_in_browserless_admin(client, "ana")
    assert new_secret != old_secret
    with pytest.raises(CommandError, match="Nenhum usuário"):
        call_command("twofa_reset", "ninguem")


def test_the_command_enrols_a_user_with_recovery_codes(client, user_factory):
    staff(user_factory, "chefe", "superuser")
    device = enrol_with_command("chefe")
    assert RecoveryCode.objects.filter(device__user__username="chefe").count() == 10
    assert login(client, "chefe", code_for(device, offset=1)).status_code == 302


def test_enrolment_keeps_nothing_when_the_code_is_wrong(user_factory):
    user_factory("chefe", is_staff=True, is_superuser=True)
    with pytest.raises(CommandError, match="Código incorreto"):
        call_command("totp_enrol", "chefe", "--no-qr", "--code", "abc")
    assert not TOTPDevice.objects.exists()


def test_an_enrolment_never_replaces_a_confirmed_phone(user_factory):
    """Two pending enrolments (two tabs, or an attacker with the password racing the owner): the second is refused."""
    from common.twofa.services import totp_enrolment_confirm, totp_enrolment_start

    user = user_factory("ana", is_staff=True)
    owner = totp_enrolment_start(user=user)
    other = TOTPDevice.objects.create(user=user, name="autenticador", confirmed=False)
    assert totp_enrolment_confirm(device=owner, code=code_for(owner)) is not None
    assert totp_enrolment_confirm(device=other, code=code_for(other)) is None
    assert list(TOTPDevice.objects.filter(user=user, confirmed=True)) == [owner]
