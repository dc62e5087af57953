"""Recovery codes as a django-otp device, so ``match_token`` accepts one wherever a TOTP code goes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.twofa.codes import recovery_code_digest


class RecoveryCodeDevice(Device):
    """A user's set of single-use recovery codes (one device per user, replaced at each enrolment)."""

    class Meta:
        verbose_name = "conjunto de códigos de recuperação"
        verbose_name_plural = "conjuntos de códigos de recuperação"

    def verify_token(self, token: object) -> bool:
        """Uses the code up: a conditional UPDATE, so two logins racing with one code get one success."""

        digest = recovery_code_digest(str(token))
        if digest is None:
            return False
        used = RecoveryCode.objects.filter(device=self, digest=digest, used_at__isnull=True).update(used_at=timezone.now())
        return used == 1

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


class RecoveryCode(models.Model):
    """Only the SHA-256 of the code is kept: the code itself is shown once, at enrolment."""

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "código de recuperação"
        verbose_name_plural = "códigos de recuperação"
        constraints = [models.UniqueConstraint(fields=["device", "digest"], name="twofa_recovery_code_unique")]

    def __str__(self) -> str:
        return f"código de recuperação ({'usado' if self.used_at else 'não usado'})"


class Authenticator(TOTPDevice):
    """django-otp's TOTP device as the admin shows it: in Portuguese, read-only (a person enrols at
    the login page or with ``manage.py totp_enrol``; a lost phone is ``manage.py twofa_reset``)."""

    class Meta:
        proxy = True
        verbose_name = "autenticador (2FA)"
        verbose_name_plural = "autenticadores (2FA)"
