from django.conf import settings
from django.db import models
from django.utils import timezone


class ServiceToken(models.Model):
    """A long-lived JWT for a machine caller (Bubble's API Connector), revocable at once.

    Only the token's id (``jti``) is stored, never the token. The authentication class refuses a
    service token whose row is missing or revoked, on the next request.
    """

    jti = models.CharField("identificador (jti)", max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_tokens", verbose_name="usuário"
    )
    label = models.CharField("descrição", max_length=200, blank=True)
    created_at = models.DateTimeField("criado em", default=timezone.now)
    expires_at = models.DateTimeField("expira em")
    revoked_at = models.DateTimeField("revogado em", null=True, blank=True)
    revoked_by = models.CharField("revogado por", max_length=150, blank=True)

    class Meta:
        verbose_name = "token de serviço"
        verbose_name_plural = "tokens de serviço"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.label or self.jti[:8]}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
