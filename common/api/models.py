"""The API's own records: the service tokens it accepts and the Idempotency-Keys it has seen.

Both moved here (``api.0001_initial``) from ``integrations`` and ``orders`` keeping their tables.
"""

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
        db_table = "integrations_servicetoken"  # its table from when it lived in integrations
        verbose_name = "token de serviço"
        verbose_name_plural = "tokens de serviço"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.label or self.jti[:8]}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` seen on a POST under /v1/ (docs/contract.md#http-api), unique per caller and key.

    While the first request runs the row is IN_FLIGHT (a duplicate gets 409); once it answered
    2xx the response is kept and replayed for 24 h. Any other answer deletes the row, so a refused
    request leaves nothing behind and may be sent again, fixed, with the same key.
    """

    class Status(models.TextChoices):
        IN_FLIGHT = "IN_FLIGHT", "Em andamento"
        DONE = "DONE", "Concluída"

    caller = models.CharField("chamador", max_length=100)
    key = models.CharField("chave", max_length=255)
    # sha256 of method + path + body: the same key with another request is refused with 422.
    fingerprint = models.CharField("impressão da requisição", max_length=64)
    method = models.CharField("método", max_length=10)
    path = models.CharField("caminho", max_length=300)
    status = models.CharField("situação", max_length=10, choices=Status.choices, default=Status.IN_FLIGHT)
    # An IN_FLIGHT row whose holder died (web process killed) is taken over after this time.
    locked_until = models.DateTimeField("reservada até", null=True, blank=True)
    response_status = models.PositiveSmallIntegerField("status da resposta", null=True, blank=True)
    response_body = models.JSONField("corpo da resposta", null=True, blank=True)
    created_at = models.DateTimeField("recebida em", db_index=True)
    completed_at = models.DateTimeField("concluída em", null=True, blank=True)

    class Meta:
        db_table = "orders_idempotencyrecord"  # its table from when it lived in orders
        verbose_name = "chave de idempotência"
        verbose_name_plural = "chaves de idempotência"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="idempotency_unique_caller_key")]

    def __str__(self) -> str:
        return f"{self.caller} · {self.key}"
