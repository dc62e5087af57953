from django.db import models
from django.utils import timezone

from integrations.omie.types import CallClass


class OmieCall(models.Model):
    """One request sent to Omie and how it was answered (SPEC §6), kept 90 days.

    ``order_id`` is a plain number on purpose: integrations never import the orders app. The
    credentials are never stored; fault messages are stored with CPF/CNPJ masked.
    """

    call = models.CharField("método", max_length=40)
    integration_key = models.CharField("chave de integração", max_length=100, blank=True, db_index=True)
    order_id = models.BigIntegerField("pedido (id)", null=True, blank=True, db_index=True)
    http_status = models.PositiveSmallIntegerField("HTTP", null=True, blank=True)
    outcome = models.CharField("resultado", max_length=20, choices=CallClass.choices)
    fault_code = models.CharField("código do erro", max_length=80, blank=True)
    fault_message = models.TextField("mensagem do Omie", blank=True)
    duration_ms = models.PositiveIntegerField("duração (ms)")
    request_id = models.CharField("x-omie-request-id", max_length=80, blank=True)
    created_at = models.DateTimeField("em", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "chamada ao Omie"
        verbose_name_plural = "chamadas ao Omie"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["call", "-created_at"], name="omiecall_call_created"),
            models.Index(fields=["outcome", "-created_at"], name="omiecall_outcome_created"),
        ]

    def __str__(self) -> str:
        return f"{self.call} {self.integration_key} · {self.get_outcome_display()}"


from integrations.omie.webhooks.models import OmieEventStatus, OmieWebhookEvent  # noqa: E402,F401  (the webhook events)
