"""Enrolment, recovery codes and reset of a staff user's second factor."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.twofa.codes import COUNT, recovery_code_digest, recovery_code_new
from common.twofa.models import RecoveryCode, RecoveryCodeDevice

TOTP_DEVICE_NAME = "autenticador"


def twofa_required(user: Any) -> bool:
    """Every staff user needs the second factor when ADMIN_REQUIRE_2FA is on (production)."""
    return bool(settings.ADMIN_REQUIRE_2FA and getattr(user, "is_authenticated", False) and user.is_staff)


def twofa_enrolled(user: Any) -> bool:
    """An enrolled user has a confirmed authenticator; recovery codes alone are not an enrolment."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_enrolment_start(*, user: Any, device_id: int | None = None) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled: the same one on a page reload (``device_id``), so the
    QR code the person already scanned stays valid; otherwise a new one, replacing older unconfirmed ones."""
    if device_id is not None:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if device is not None:
            return device
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


@transaction.atomic
def totp_enrolment_confirm(*, device: TOTPDevice, code: str) -> list[str] | None:
    """Keeps the authenticator if ``code`` is the one it shows now, and issues new recovery codes.

    Returns the recovery codes (to show once) or None for a wrong code, or when the user already has a
    confirmed authenticator (enrolled meanwhile in another tab): enrolment never replaces a phone, only
    ``twofa_reset`` removes one, so a password alone can never swap the owner's phone for another.
    """
    get_user_model().objects.select_for_update().filter(pk=device.user_id).first()  # one enrolment at a time per user
    if TOTPDevice.objects.filter(user_id=device.user_id, confirmed=True).exclude(pk=device.pk).exists():
        return None
    if not device.verify_token(code.strip()):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_issue(user=device.user)


@transaction.atomic
def recovery_codes_issue(*, user: Any) -> list[str]:
    """COUNT new single-use codes; the previous ones stop working. Only their hashes are stored."""
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="códigos de recuperação", confirmed=True)
    codes = [recovery_code_new() for _ in range(COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(device=device, digest=recovery_code_digest(code)) for code in codes)
    return codes


@transaction.atomic
def twofa_reset(*, user: Any) -> int:
    """Removes every authenticator and recovery code of ``user`` (a lost phone); returns how many devices.

    With ADMIN_REQUIRE_2FA the next login after the password leads to the enrolment page again.
    """
    authenticators, recovery = TOTPDevice.objects.filter(user=user), RecoveryCodeDevice.objects.filter(user=user)
    count = authenticators.count() + recovery.count()
    authenticators.delete()
    recovery.delete()
    return count
